"""Benchmark: a full ingestion cycle of every source against the replay server with 100 ms per request.

Usage: .venv/bin/python bench/ingest.py [--smoke] [--latency 0.1]
Prints the wall time of a first and a second (unchanged) cycle and the catalogue rows the second one wrote.
Uses its own PostgreSQL database (modelgraph_bench_ingest), re-created, with the bundled registry loaded.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WriteCounter, recreate_database, setup_django, smoke_defaults

setup_django("modelgraph_bench_ingest")

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from ingestion.services import ingestion_run_all, source_adapter, source_key_env  # noqa: E402
from ingestion.sources import HTTP_SOURCES, SOURCES  # noqa: E402
from registry.loading import registry_load  # noqa: E402
from tests.replay.server import ReplayServer  # noqa: E402


def cycle() -> tuple[float, list, int]:
    counter = WriteCounter("catalog_")
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        runs = ingestion_run_all()
    return time.perf_counter() - started, runs, counter.count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the server waits on every request")
    smoke_defaults(parser, latency=0.0)
    args = parser.parse_args()
    recreate_database()
    registry_load()
    for name in SOURCES:  # a key for every source that needs one, under the name its provider record gives
        if env := source_key_env(source_adapter(name)):
            os.environ.setdefault(env, f"bench-key-{name}")
    with ReplayServer(latency=args.latency) as server:
        settings.INGESTION_BASE_URLS = {name: server.mount(name, prefix=f"/{name}") for name in HTTP_SOURCES}
        first_s, runs, first_writes = cycle()
        requests = len(server.requests)
        second_s, again, second_writes = cycle()
    print(f"replay server latency {args.latency * 1000:.0f} ms per request; {requests} requests per cycle")
    print(f"{'source':<14} {'status':<8} {'obs':>5} {'added':>6} {'updated':>8} {'aliases':>8}   second cycle")
    for run, rerun in zip(runs, again, strict=True):
        print(
            f"{run.source:<14} {run.status:<8} {run.details.get('observations', 0):>5} {run.models_added:>6} "
            f"{run.models_updated:>8} {run.aliases_added:>8}   {rerun.status}, {rerun.models_updated} updated"
        )
    print(f"\nfirst cycle: {first_s:.2f} s ({first_writes} catalogue write statements)")
    print(f"second, unchanged cycle: {second_s:.2f} s, {second_writes} catalogue write statements")
    print(
        f"targets: full cycle under 30 s: {'met' if first_s < 30 else 'MISSED'}; "
        f"second cycle writes no catalogue rows: {'met' if second_writes == 0 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
