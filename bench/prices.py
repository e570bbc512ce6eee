"""Benchmark: one offline price-feed cycle on the bundled registry, against the loopback replay server.

Usage: .venv/bin/python bench/prices.py [--smoke] [--latency 0.1]
Serves each price feed's full real document when ../shared/realdata is there: LiteLLM's 2026-07-24 file, and
models.dev's `api.json` and genai-prices' `data.json` built from realdata's TOMLs and YAMLs (bench/price_files.py);
else, and with --smoke, the small slices in tests/fixtures/prices. Runs every price feed once, then again unchanged,
and prints: offers with a price confirmed by ≥ 2 sources, disputed, single-source and stale (no source confirmed them
in 30 days); the cycle's wall time and the price rows the second, unchanged cycle wrote.
Uses its own PostgreSQL database (modelgraph_bench_prices), re-created, with the bundled registry loaded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, recreate_database, setup_django, smoke_defaults
from price_files import REALDATA, genai_data_bytes, modelsdev_api_bytes, realdata_available

setup_django("modelgraph_bench_prices")

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from catalog.models import Mapping  # noqa: E402
from ingestion.prices.sources import PRICE_SOURCES  # noqa: E402
from ingestion.services import ingestion_run_all  # noqa: E402
from registry.loading import registry_load  # noqa: E402
from tests.replay.server import ReplayServer  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "prices"
REAL_LITELLM = REALDATA / "litellm" / "model_prices_and_context_window_2026-07-24.json"
# Each feed's document: (path on the replay server under /<feed>, the small fixture served by --smoke or without
# ../shared/realdata).
FEED_FILES = {
    "litellm": (
        "/model_prices_and_context_window.json",
        FIXTURES / "litellm/model_prices_and_context_window_2026-07-24.json",
    ),
    "genai-prices": ("/prices/data.json", FIXTURES / "genai-prices/data.json"),
    "models.dev": ("/api.json", FIXTURES / "models.dev/api.json"),
}
STALE_AFTER = dt.timedelta(days=30)
# Rows a price cycle writes: observations, offers, their history, the price records, unmatched feed rows.
PRICE_TABLES = ("ingestion_offerobservation", "ingestion_unmatchedprice", "catalog_mapping", "catalog_pricerecord")


def cycle(feeds: list[str]) -> tuple[float, list, Counter]:
    """Run the feeds once; the wall time, the runs and the write statements per price table."""
    writes: Counter = Counter()

    def count_price_writes(execute, sql, params, many, context):
        head = sql.lstrip()[:6].upper()
        if head in ("INSERT", "UPDATE", "DELETE"):
            writes.update(table for table in PRICE_TABLES if f'"{table}"' in sql)
        return execute(sql, params, many, context)

    started = time.perf_counter()
    with connection.execute_wrapper(count_price_writes):
        runs = ingestion_run_all(sources=feeds)
    return time.perf_counter() - started, runs, writes


def rows_written(runs: list) -> int:
    """Price rows a cycle created or changed, as its runs report them (observations, offers, price records)."""
    keys = ("observations_created", "observations_updated", "offers_updated", "records_opened")
    return sum(int((run.details or {}).get(key, 0)) for run in runs for key in keys)


def confirmation_counts(now: dt.datetime) -> dict[str, int]:
    """Offers by how far their prices are confirmed, from Mapping.provenance and prices_checked. An offer counts as
    confirmed when every price it shows has ≥ 2 agreeing sources; the registry counts as one (its bundled prices
    were copied from models.dev, so the stricter line counts feeds only)."""
    names = ("confirmed by ≥ 2 sources", "  of them by ≥ 2 feeds", "disputed", "single-source", "stale (> 30 days)")
    counts = dict.fromkeys(names, 0)
    offers = Mapping.objects.only("provenance", "prices_checked")
    for offer in offers.iterator(chunk_size=2000):
        fields = [entry for name, entry in (offer.provenance or {}).items() if name in Mapping.PRICE_FIELDS]
        fields = [entry for entry in fields if isinstance(entry, dict)]
        sources = [{entry.get("source"), *(entry.get("verified_by") or [])} - {None, "pin"} for entry in fields]
        if any(entry.get("disputed") for entry in fields):
            counts["disputed"] += 1
        elif sources and all(len(agreeing) >= 2 for agreeing in sources):
            counts["confirmed by ≥ 2 sources"] += 1
            if all(len(agreeing - {"registry"}) >= 2 for agreeing in sources):
                counts["  of them by ≥ 2 feeds"] += 1
        else:
            counts["single-source"] += 1
        if offer.prices_checked is None or now - offer.prices_checked > STALE_AFTER:
            counts["stale (> 30 days)"] += 1
    counts["offers"] = offers.count()
    return counts


def feed_documents(full: bool) -> dict[str, tuple[str, bytes, str]]:
    """Each feed's (path under /<feed>, body, where it came from): the full real data when `full` and realdata is
    there (LiteLLM's file; models.dev and genai-prices built by bench/price_files.py), else the small fixtures."""
    documents = {
        name: (path, file.read_bytes(), str(file.relative_to(ROOT.parent))) for name, (path, file) in FEED_FILES.items()
    }
    if full and REAL_LITELLM.exists():
        documents["litellm"] = (
            documents["litellm"][0],
            REAL_LITELLM.read_bytes(),
            str(REAL_LITELLM.relative_to(ROOT.parent)),
        )
    if full and realdata_available():
        built = {
            "models.dev": (modelsdev_api_bytes, "models.dev/providers/*"),
            "genai-prices": (genai_data_bytes, "genai-prices/providers/*.yml"),
        }
        for name, (build, origin) in built.items():
            body = build()
            documents[name] = (documents[name][0], body, f"built from shared/realdata/{origin} ({len(body):,} bytes)")
    return documents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the server waits on every request")
    smoke_defaults(parser, latency=0.0)
    args = parser.parse_args()
    recreate_database()
    registry_load()
    documents = feed_documents(full=not args.smoke)
    feeds = [name for name in PRICE_SOURCES if name in documents]
    missing = [name for name in PRICE_SOURCES if name not in documents]
    with ReplayServer(latency=args.latency) as server:
        for name in feeds:
            path, body, _ = documents[name]
            server.route("GET", f"/{name}{path}", body=body)
        settings.INGESTION_BASE_URLS = {name: f"{server.url}/{name}" for name in feeds}
        first_s, runs, first_writes = cycle(feeds)
        second_s, again, second_writes = cycle(feeds)
    print(f"replay server latency {args.latency * 1000:.0f} ms per request; feeds: {', '.join(feeds)}")
    for name in feeds:
        print(f"  {name}: {documents[name][2]}")
    for name in missing:
        print(f"  {name}: not measured: no replay file for this feed")
    print(f"{'feed':<14} {'status':<8} {'matched':>8} {'unmatched':>10} {'records':>8}   second cycle")
    for run, rerun in zip(runs, again, strict=True):
        details, repeat = run.details or {}, rerun.details or {}
        print(
            f"{run.source:<14} {run.status:<8} {details.get('matched', 0):>8} {details.get('unmatched', 0):>10} "
            f"{details.get('records_opened', 0):>8}   {rerun.status}, {repeat.get('records_opened', 0)} records opened"
        )
    counts = confirmation_counts(timezone.now())
    print(f"\noffers: {counts.pop('offers')}")
    for name, value in counts.items():
        print(f"  {name}: {value}")
    print(f"\nfirst cycle: {first_s:.2f} s, {rows_written(runs)} price rows written ({_statements(first_writes)})")
    second_rows = rows_written(again)
    print(f"second, unchanged cycle: {second_s:.2f} s, {second_rows} price rows written ({_statements(second_writes)})")
    print(f"targets: second cycle writes 0 price rows: {'met' if second_rows == 0 else 'MISSED'}")


def _statements(writes: Counter) -> str:
    return "write statements: " + (", ".join(f"{table} {n}" for table, n in sorted(writes.items())) or "none")


if __name__ == "__main__":
    main()
