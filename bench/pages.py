"""Benchmark: the browser pages on the bundled registry with seeded telemetry, rendered through Django's test Client.

Loads the bundled registry (registry/data), seeds a week of hourly telemetry roll-ups (and their daily merges) for
every offer of the most-served models, then requests each page `--runs` times after a warm-up and prints p50/p99
per page uncached (the page cache off: every request renders, the figure the 100 ms target is checked against) and
cached (whole pages in Redis, keyed by the catalogue and telemetry versions), with each page's SQL query count. An
uncached render still reads the parts a page keeps under the catalogue's version (web.cache.page_part), as the
renders between two catalogue writes do; the model page is also measured with those parts read again each time.

Usage: .venv/bin/python bench/pages.py [--smoke] [--runs 50] [--models 6] [--hours 168]
Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/modelgraph_bench_pages), dropped and re-created
(--reuse keeps it), and BENCH_REDIS_URL (default redis://127.0.0.1:6379/12), flushed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]
os.environ.setdefault("DJANGO_DEBUG", "0")  # DEBUG keeps every SQL statement in memory: not what production does
os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")  # flushed
os.environ["PAGE_THROTTLE_RATE"] = ""  # one client asking for pages hundreds of times: measured, not throttled

from common import percentile, recreate_database, setup_django, smoke_defaults  # noqa: E402

TARGET_P50_MS = 100.0
MODEL_PAGE = "model page (compare)"
TARGET_MODEL_PAGE_P50_MS = 30.0  # issue 19 item 5: the model page with ~60 providers, uncached
OUT = Path(__file__).resolve().parent / "out"


def prepare(models: int, hours: int) -> dict[str, str]:
    """Load and seed; returns {page label: URL}."""
    from catalog.models import Alias, Mapping, Model
    from ingestion.models import IngestionRun, RunStatus, Tier
    from registry.loading import registry_load
    from telemetry.offer_summaries import offer_summaries_refresh_stale
    from tests.web.seeding import seed_telemetry
    from web.selectors import most_served_models

    started = time.perf_counter()
    registry_load()
    print(f"registry loaded in {time.perf_counter() - started:.1f} s")
    served = list(most_served_models(limit=models))
    mappings = list(Mapping.objects.filter(model__in=served))
    started = time.perf_counter()
    seed_telemetry(mappings, hours=hours)
    print(
        f"telemetry: {hours} hours for {len(mappings)} offers of {len(served)} models "
        f"seeded in {time.perf_counter() - started:.1f} s"
    )
    # The seed writes roll-ups directly; in production the per-offer summaries follow every probe batch and the
    # minute's schedule, so bring them current as that schedule would (else every page aggregates the roll-ups).
    started = time.perf_counter()
    summaries = offer_summaries_refresh_stale()
    print(f"offer summaries: {summaries} rows refreshed in {time.perf_counter() - started:.1f} s")
    runs = [
        ("openai", Tier.PROVIDER_API),
        ("anthropic", Tier.PROVIDER_API),
        ("deprecations", Tier.DEPRECATIONS),
        ("huggingface", Tier.HUGGING_FACE),
    ]
    for i, (source, tier) in enumerate(runs):
        status = RunStatus.FAILED if source == "anthropic" else RunStatus.SUCCESS
        IngestionRun.objects.create(source=source, tier=tier, status=status, models_added=i, models_updated=3 * i)
    top = served[0]
    busiest = Mapping.objects.filter(model=top).values_list("provider__slug", flat=True).first()
    offer = Mapping.objects.filter(model=top, provider__slug=busiest).first()
    alias = Alias.objects.filter(model=top).values_list("alias", flat=True).first()
    print(
        f"pages of {top.slug} ({top.mappings.count()} offers), provider {busiest}, "
        f"{Model.objects.count()} models in all"
    )
    return {
        "home": "/",
        "search (JSON, as you type)": "/search?q=llama&format=json",
        "search (page)": "/search?q=gpt-4o",
        "models list": "/models",
        "models list, filtered + sorted": "/models?capability=tools&open_weights=true&ordering=-price",
        "models list, page 5": "/models?ordering=-providers&page=5",
        MODEL_PAGE: f"/models/{top.slug}",
        "model alias (301)": f"/models/{alias}",
        "model 404 (did you mean)": "/models/gpt-4p",
        "providers": "/providers",
        "provider page (7d)": f"/providers/{busiest}",
        "provider page (30d)": f"/providers/{busiest}?window=30d",
        "telemetry overview": "/telemetry",
        "telemetry model@provider": f"/telemetry?provider={busiest}&offer={offer.pk}",
        "ingestion status": "/status",
    }


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _timings(client, url: str, runs: int, before=None, cpu: list[float] | None = None) -> list[float]:
    """Milliseconds per request after a warm-up; `before` (untimed) runs ahead of each one. `cpu` receives this
    process's CPU milliseconds per request (Django's work without the database server's: steadier under load)."""
    for _ in range(3):
        client.get(url)
    timings = []
    for _ in range(runs):
        if before is not None:
            before()
        started, started_cpu = time.perf_counter(), time.process_time()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - started_cpu) * 1000)
    return timings


def _forget_page_parts() -> None:
    """What a catalogue write does to the parts pages keep under its version (web.cache.page_part): none is left."""
    from django.core.cache import cache

    from web.cache import PART_PREFIX

    cache.delete_pattern(f"{PART_PREFIX}*")


def measure(pages: dict[str, str], runs: int) -> list[dict]:
    """Per page: uncached (page cache off: every request renders) and cached (Redis, after the first request)."""
    from django.db import connection
    from django.test import Client, override_settings

    client = Client()
    rows = []
    for label, url in pages.items():
        queries, parts_read = QueryCounter(), QueryCounter()
        with override_settings(WEB_CACHE_ENABLED=False):
            _forget_page_parts()
            with connection.execute_wrapper(parts_read):
                response = client.get(url)
            assert response.status_code in (200, 301, 404), (url, response.status_code)
            with connection.execute_wrapper(queries):
                client.get(url)
            cpu: list[float] = []
            cold = _timings(client, url, runs, cpu=cpu)
            # Every render with its page parts to read again, as the first one after a catalogue write does.
            parts_cold = _timings(client, url, runs, before=_forget_page_parts) if label == MODEL_PAGE else []
        warm = _timings(client, url, runs)
        rows.append(
            {
                "label": label,
                "status": response.status_code,
                "queries": queries.count,
                "parts_queries": parts_read.count,
                "bytes": len(response.content),
                "p50": percentile(cold, 50),
                "p99": percentile(cold, 99),
                "cpu_p50": percentile(cpu, 50),
                "parts_cold_p50": percentile(parts_cold, 50) if parts_cold else None,
                "warm_p50": percentile(warm, 50),
                "warm_p99": percentile(warm, 99),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--models", type=int, default=6, help="seed telemetry for the offers of this many models")
    parser.add_argument("--hours", type=int, default=168)
    parser.add_argument("--reuse", action="store_true", help="keep the database of the previous run (no reload)")
    parser.add_argument("--only", default="", help="measure only the pages whose label contains this text")
    smoke_defaults(parser, runs=3, models=1, hours=6)
    args = parser.parse_args()
    setup_django("modelgraph_bench_pages")
    if args.reuse:
        from telemetry.offer_summaries import offer_summaries_refresh_stale

        pages = json.loads((OUT / "pages.json").read_text())
        # The summaries are per window and the window moves every hour: bring them current as the minute's schedule
        # would (else a reused database, an hour on, measures every page aggregating the roll-ups).
        print(f"offer summaries: {offer_summaries_refresh_stale()} rows refreshed")
    else:
        recreate_database()
        pages = prepare(args.models, args.hours)
        OUT.mkdir(exist_ok=True)
        (OUT / "pages.json").write_text(json.dumps(pages))
    from django.core.cache import cache

    cache.clear()
    pages = {label: url for label, url in pages.items() if args.only in label}
    rows = measure(pages, args.runs if args.smoke else max(args.runs, 50))
    print(f"\n{'':45} {'uncached (renders)':>19} {'cached (Redis)':>19}")
    print(f"{'page':34} {'status':>3} {'SQL':>3} {'KiB':>5} {'p50':>9} {'p99':>9} {'p50':>9} {'p99':>9}  p50 < 100 ms")
    for row in rows:
        ok = "yes" if row["p50"] < TARGET_P50_MS else "NO"
        figures = " ".join(f"{row[name]:>7.1f}ms" for name in ("p50", "p99", "warm_p50", "warm_p99"))
        print(f"{row['label']:34} {row['status']:>3} {row['queries']:>3} {row['bytes'] / 1024:>5.1f} {figures}  {ok}")
    failed = [row["label"] for row in rows if row["p50"] >= TARGET_P50_MS]
    print(f"\nall pages under {TARGET_P50_MS:.0f} ms p50" if not failed else f"\nover target: {', '.join(failed)}")
    model_page = next((row for row in rows if row["label"] == MODEL_PAGE), None)
    if model_page is None:
        return
    met = model_page["p50"] < TARGET_MODEL_PAGE_P50_MS
    print(
        f"[{'PASS' if met else 'MISS'}] {MODEL_PAGE} uncached p50 < {TARGET_MODEL_PAGE_P50_MS:g} ms: "
        f"{model_page['p50']:.1f} ms, {model_page['cpu_p50']:.1f} ms of CPU ({model_page['queries']} queries); "
        "with its catalogue parts to read again "
        f"(the first render after a catalogue write): {model_page['parts_cold_p50']:.1f} ms "
        f"({model_page['parts_queries']} queries); load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
