"""Benchmark: provider ranking over 30 days of probes, and the wall time of a latency probe round.

1. A model with 50 providers and 30 days of probes at the design's intervals (health every 5 min → ~432k rows,
   latency every 15 min → ~144k rows), rolled up hourly; the ranking computed uncached, before (aggregating the
   hourly and daily roll-ups) and after (one per-offer summary row each, telemetry.offer_summaries): target p50 under
   5 ms from the summaries, and the endpoint under 50 ms.
2. A latency probe round over 200 mappings against the fake OpenAI-compatible provider (in its own process) with
   300 ms injected latency, at TELEMETRY_PROBE_CONCURRENCY; wall time next to the ideal (target within 1.3x).

Usage: .venv/bin/python bench/telemetry.py [--smoke] [--runs 50] [--latency 0.3] [--mappings 200]
Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/modelgraph_bench_tel), dropped and re-created.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile, recreate_database, setup_django, smoke_defaults

setup_django("modelgraph_bench_tel")

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from catalog.models import Mapping, Model, Provider  # noqa: E402
from telemetry.conf import setting  # noqa: E402
from telemetry.offer_summaries import offer_summaries_refresh_stale  # noqa: E402
from telemetry.probes import LATENCY  # noqa: E402
from telemetry.rollups import floor_hour  # noqa: E402
from telemetry.selectors import provider_rank_for_model  # noqa: E402
from telemetry.services import telemetry_probe_round, telemetry_rollup_range  # noqa: E402

PROVIDERS, DAYS = 50, 30
HEALTH_EVERY, LATENCY_EVERY = timedelta(minutes=5), timedelta(minutes=15)


def seed_catalogue(providers: int = PROVIDERS) -> tuple[Model, list[Mapping]]:
    model = Model.objects.create(slug="bench-model", name="Bench model")
    mappings = []
    for i in range(providers):
        provider = Provider.objects.create(slug=f"bench-{i:02d}", name=f"Bench {i:02d}")
        mappings.append(
            Mapping.objects.create(
                provider=provider,
                model=model,
                provider_model_id="bench-model",
                price_input=round(0.1 + 0.05 * i, 2),
                price_output=round(0.3 + 0.15 * i, 2),
            )
        )
    return model, mappings


def seed_probes(mappings: list[Mapping], days: int = DAYS) -> tuple[int, int]:
    """COPY `days` days of per-mapping health checks and latency samples, each provider with its own quality."""
    rng = random.Random(42)
    end = timezone.now()
    start = end - timedelta(days=days)
    health_rows = latency_rows = 0
    with connection.cursor() as cursor:
        raw = cursor.connection.cursor()
        with raw.copy(
            "COPY telemetry_healthcheck (provider_id, mapping_id, checked_at, outcome, status_code, response_ms,"
            " error_class, error_message) FROM STDIN"
        ) as copy:
            for m in mappings:
                failure_rate, at = rng.uniform(0.0, 0.03), start
                while at < end:
                    ok = rng.random() >= failure_rate
                    copy.write_row(
                        (
                            m.provider_id,
                            m.pk,
                            at,
                            "success" if ok else "failure",
                            200 if ok else 503,
                            rng.uniform(30, 300),
                            "" if ok else "server_error",
                            "",
                        )
                    )
                    at += HEALTH_EVERY
                    health_rows += 1
        with raw.copy(
            "COPY telemetry_latencysample (provider_id, mapping_id, checked_at, outcome, status_code, ttft_ms,"
            " total_ms, output_tokens, tokens_from_usage, tokens_per_second, error_class, error_message) FROM STDIN"
        ) as copy:
            for m in mappings:
                median_ttft, at = rng.uniform(150, 1500), start
                while at < end:
                    ttft = median_ttft * rng.lognormvariate(0, 0.4)
                    total = ttft + 16 / rng.uniform(30, 200) * 1000
                    ok = rng.random() >= 0.01
                    copy.write_row(
                        (
                            m.provider_id,
                            m.pk,
                            at,
                            "success" if ok else "failure",
                            200,
                            ttft,
                            total,
                            16,
                            True,
                            16 / ((total - ttft) / 1000),
                            "" if ok else "timeout",
                            "",
                        )
                    )
                    at += LATENCY_EVERY
                    latency_rows += 1
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE telemetry_healthcheck; ANALYZE telemetry_latencysample")
    return health_rows, latency_rows


def time_selector(model: Model, runs: int, *, from_summaries: bool) -> list[float]:
    provider_rank_for_model(model, from_summaries=from_summaries)  # warm-up: connections, imports
    selector = []
    for _ in range(runs):
        started = time.perf_counter()
        provider_rank_for_model(model, from_summaries=from_summaries)
        selector.append((time.perf_counter() - started) * 1000)
    return selector


def time_ranking(model: Model, runs: int) -> tuple[list[float], list[float]]:
    selector = time_selector(model, runs, from_summaries=True)
    client, endpoint = Client(), []
    with override_settings(API_CACHE_ENABLED=False, API_THROTTLE_RATE="100000/min"):
        assert client.get(f"/api/telemetry/ranked/{model.slug}").status_code == 200
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(f"/api/telemetry/ranked/{model.slug}")
            endpoint.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and response["X-Cache"] == "BYPASS"
    return selector, endpoint


def _serve_fake(latency: float, queue) -> None:
    from tests.fakes.openai_server import FakeProviderServer

    server = FakeProviderServer().start()
    server.configure(latency=latency, tokens=16, inter_token_delay=0.0)
    queue.put(server.url)
    while True:
        time.sleep(3600)


def time_probe_round(latency: float, count: int, rounds_count: int) -> dict:
    queue = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(target=_serve_fake, args=(latency, queue), daemon=True)
    process.start()
    try:
        url = queue.get(timeout=30)
        os.environ["BENCH_FAKE_API_KEY"] = "sk-bench"
        model = Model.objects.create(slug="probe-model", name="Probe model")
        for i in range(count):
            provider = Provider.objects.create(
                slug=f"probe-{i:03d}",
                name=f"Probe {i:03d}",
                api_base_url=url,
                api_key_env="BENCH_FAKE_API_KEY",
                openai_compatible=True,
            )
            Mapping.objects.create(provider=provider, model=model, provider_model_id=f"probe-{i:03d}")
        concurrency = setting("TELEMETRY_PROBE_CONCURRENCY")
        rounds = []
        cpu = []
        for _ in range(rounds_count):
            started, cpu_started = time.perf_counter(), time.process_time()
            summary = telemetry_probe_round(kind=LATENCY)
            rounds.append((time.perf_counter() - started, summary.seconds))
            cpu.append(time.process_time() - cpu_started)
            assert summary.outcomes == {"success": count}, summary.outcomes
        ttft = sorted(r.ttft_ms for r in summary.results)
        return {
            "concurrency": concurrency,
            "ideal": latency * math.ceil(count / concurrency),
            "wall": statistics.median(w for w, _ in rounds),
            "probe": statistics.median(p for _, p in rounds),
            "best": min(w for w, _ in rounds),
            "worst": max(w for w, _ in rounds),
            "ttft_p50": percentile(ttft, 50),
            "ttft_max": ttft[-1],
            "cpu": statistics.median(cpu),
        }
    finally:
        process.terminate()
        process.join(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--mappings", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--providers", type=int, default=PROVIDERS, help="providers offering the ranked model")
    parser.add_argument("--days", type=int, default=DAYS, help="days of probe history")
    smoke_defaults(parser, runs=3, latency=0.02, mappings=10, rounds=1, providers=5, days=2)
    args = parser.parse_args()
    recreate_database()
    version, name = connection.cursor().connection.info.server_version, settings.DATABASES["default"]["NAME"]
    print(
        f"PostgreSQL {version} at {name}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
        "(other work on the machine slows every figure)"
    )

    model, mappings = seed_catalogue(args.providers)
    started = time.perf_counter()
    health_rows, latency_rows = seed_probes(mappings, args.days)
    print(
        f"seeded {health_rows:,} health checks and {latency_rows:,} latency samples "
        f"({args.providers} providers, {args.days} days) in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    now = timezone.now()
    start, end = now - timedelta(days=args.days, hours=1), floor_hour(now) + timedelta(hours=1)
    rows = telemetry_rollup_range(start=start, end=end)
    print(f"rolled up into {rows:,} hourly and daily rows in {time.perf_counter() - started:.1f} s")

    before = time_selector(model, args.runs, from_summaries=False)
    # As the schedule does every minute: if the hour turned since the roll-up, the window moved and rows are stale.
    offer_summaries_refresh_stale()
    with CaptureQueriesContext(connection) as queries:
        provider_rank_for_model(model)
    assert len(queries) == 2, f"{len(queries)} queries: the ranking read the roll-ups, not the summaries"
    selector, endpoint = time_ranking(model, args.runs)
    ranking = provider_rank_for_model(model)
    assert ranking == provider_rank_for_model(model, from_summaries=False), "summaries and roll-ups disagree"
    print(f"ranking {len(ranking['providers'])} providers, uncached, {args.runs} runs (same answer both ways):")
    print(
        f"  before    p50 {statistics.median(before):6.1f} ms  p90 {percentile(before, 90):6.1f} ms "
        "(selector aggregating the hourly and daily roll-ups)"
    )
    print(
        f"  after     p50 {statistics.median(selector):6.1f} ms  p90 {percentile(selector, 90):6.1f} ms "
        "(selector reading one summary row per offer)"
    )
    print(
        f"  endpoint  p50 {statistics.median(endpoint):6.1f} ms  p90 {percentile(endpoint, 90):6.1f} ms "
        "(GET /api/telemetry/ranked/{id}, response cache off)"
    )

    Mapping.objects.filter(model=model).update(status="retired")  # only the fake provider's offers are probed next
    probe = time_probe_round(args.latency, args.mappings, args.rounds)
    ratio = probe["wall"] / probe["ideal"]
    print(
        f"latency probe round: {args.mappings} mappings, {args.latency * 1000:.0f} ms injected latency, "
        f"concurrency {probe['concurrency']}, {args.rounds} rounds, all successes:"
    )
    print(
        f"  wall median {probe['wall']:.2f} s (best {probe['best']:.2f}, worst {probe['worst']:.2f}; probing "
        f"{probe['probe']:.2f} s, the rest is recording and roll-up)  ideal {probe['ideal']:.2f} s = "
        f"{args.latency:.1f} s x ceil({args.mappings}/{probe['concurrency']})  ratio {ratio:.2f}x"
    )
    print(
        f"  measured TTFT p50 {probe['ttft_p50']:.0f} ms, max {probe['ttft_max']:.0f} ms "
        f"(injected {args.latency * 1000:.0f} ms); this process's CPU per round {probe['cpu']:.2f} s"
    )

    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    p50, after = statistics.median(endpoint), statistics.median(selector)
    print(
        f"\nranking {len(ranking['providers'])} providers from summaries, uncached, p50 under 5 ms: {after:.2f} ms "
        f"(before {statistics.median(before):.2f} ms) {'PASS' if after < 5 else 'MISS'}"
    )
    print(
        f"targets: ranking endpoint p50 under 50 ms uncached: {p50:.1f} ms ({'met' if p50 < 50 else 'MISSED'}); "
        f"probe round within 1.3x of ideal: {ratio:.2f}x ({'met' if ratio <= 1.3 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
