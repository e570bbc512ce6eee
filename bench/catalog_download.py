"""Benchmark: /api/catalog.json (and the CSV exports) for the bundled registry, through Django's test Client.

Loads the bundled registry (registry/data; `--smoke` loads the small test registry), then prints each body's size
raw and gzipped, the first build after a catalogue change (uncached: the queries and the serialisation) and the time
to serve it cached (p50/p95 over `--runs` requests, plain and gzip, and a conditional GET answered 304).

Usage: .venv/bin/python bench/catalog_download.py [--smoke] [--runs 200]
Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/modelgraph_bench_download), dropped and
re-created, and BENCH_REDIS_URL (default redis://127.0.0.1:6379/10), flushed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]
os.environ.setdefault("DJANGO_DEBUG", "0")  # DEBUG keeps every SQL statement in memory: not what production does
os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")  # flushed

from common import ROOT, percentile, recreate_database, setup_django, smoke_defaults  # noqa: E402

URLS = ("/api/catalog.json", "/api/export/models.csv", "/api/export/offers.csv")
MISSES: dict[str, int] = {}  # timed requests not answered from the cache
SMALL_REGISTRY = ROOT / "tests" / "fixtures" / "registry_small"


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _timed(client, url: str, runs: int, **headers) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, **headers)
        timings.append(_ms(started))
        assert response.status_code in (200, 304), (url, response.status_code)
        if response["X-Cache"] != "HIT":  # the cache's circuit breaker opened (a slow call): built again
            MISSES[url] = MISSES.get(url, 0) + 1
    return timings


def measure(url: str, runs: int) -> dict:
    from django.test import Client

    from catalog import cache_tags
    from modelgraph.api import cache as api_cache

    client = Client()
    api_cache.bump([cache_tags.CATALOGUE])  # a catalogue change: the next request builds
    started = time.perf_counter()
    first = client.get(url)
    build_ms = _ms(started)
    assert first.status_code == 200, (url, first.status_code)
    zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip"
    plain = _timed(client, url, runs)
    gz = _timed(client, url, runs, HTTP_ACCEPT_ENCODING="gzip")
    revalidate = _timed(client, url, runs, HTTP_IF_NONE_MATCH=first["ETag"])
    return {
        "url": url,
        "raw": len(first.content),
        "gzip": len(zipped.content),
        "build": build_ms,
        **{f"plain_p{q}": percentile(plain, q) for q in (50, 95)},
        **{f"gzip_p{q}": percentile(gz, q) for q in (50, 95)},
        **{f"304_p{q}": percentile(revalidate, q) for q in (50, 95)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    smoke_defaults(parser, runs=5)
    args = parser.parse_args()
    setup_django("modelgraph_bench_download")
    recreate_database()
    from django.conf import settings
    from django.core.cache import cache

    from catalog.models import Alias, Mapping, Model
    from registry.loading import registry_load

    cache.clear()
    settings.API_THROTTLE_RATE = "1000000/min"  # one client: the throttle is not what this measures
    started = time.perf_counter()
    registry_load(path=SMALL_REGISTRY if args.smoke else None)
    print(
        f"registry {'(small, smoke)' if args.smoke else '(bundled)'} loaded in {time.perf_counter() - started:.1f} s: "
        f"{Model.objects.count()} models, {Alias.objects.count()} aliases, {Mapping.objects.count()} offers"
    )
    print(f"\n{'body':24} {'raw KiB':>8} {'gzip KiB':>8} {'first build':>11}   cached p50/p95: plain, gzip, 304")
    for url in URLS:
        row = measure(url, args.runs)
        cached = ", ".join(f"{row[f'{kind}_p50']:.2f}/{row[f'{kind}_p95']:.2f} ms" for kind in ("plain", "gzip", "304"))
        print(f"{url:24} {row['raw'] / 1024:>8.1f} {row['gzip'] / 1024:>8.1f} {row['build']:>8.0f} ms   {cached}")
    print(f"\ncached figures over {args.runs} requests each (Django test Client, Redis cache, in process)")
    if MISSES:
        print(f"not from the cache (circuit breaker opened by a slow cache call): {MISSES}")


if __name__ == "__main__":
    main()
