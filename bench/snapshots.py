"""Benchmark: 24 hourly syncs of a ~2,000-model OpenRouter catalogue served with 50 ms latency per request.

Usage: .venv/bin/python bench/snapshots.py [--smoke] [--hours 24 --replicas 6 --extra-endpoints 1 --latency 0.05
       --modern] [--real]
Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/modelgraph_bench_snapshots), dropped and
re-created.

The catalogue is the real replay of tests/snapshots/replay.py (real /api/v1/models, /api/frontend/models and
/api/v1/providers bodies; endpoint responses built in the real v1 shape from each model's embedded endpoint),
synthesized up to ~2,000 models by replicating every real entry with suffixed ids (`author/slug-r2`, …) and one
extra endpoint per model at another real provider. It is served by a child process (its memory is not ours).
Every hour: new volatile figures for every endpoint (uptime; `--modern`: uptime, latency and throughput
percentiles, the 2026 shape), ~1% of models repriced, 2 models removed, removed ones coming back, a field added.

Prints: sync wall time (first and hourly), peak RSS growth of the sync over the idle process, the archive's storage
after all hours next to one zstd blob per hour of the same bodies (levels 3 and 19), the index's size, and the
time of an entity history query and of a two-batch diff.

`--real` (issue 17's acceptance): no replication, no latency, the 2026 endpoint shape. First the real series of
/work/shared/realdata/openrouter (or the tests/fixtures samples when it is absent; it says so), each stored through
the archive next to `zstd --patch-from`, `zstd --long -19` over all bodies and per-batch `zstd -19` (the zstd CLI,
bench/snapshot_series.py); then the replay's hourly syncs of the real catalogue, with the same three baselines,
the volatile figures' bytes per endpoint-hour, the index against the archive, the bytes decompressed to read one
endpoint body, and to export each hour against the first. Every figure is printed with its target, PASS or MISS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import random
import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from common import smoke_defaults  # noqa: E402

from tests.snapshots.replay import Catalogue, CatalogueServer  # noqa: E402

HOUR0 = dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)
ARCHIVE_TABLES = ["snapshots_blob", "snapshots_batch"]
INDEX_TABLES = ["snapshots_entity", "snapshots_entityversion", "snapshots_event", "snapshots_fieldsdictionary"]


# --- the replay, in a child process -----------------------------------------------------------------------------------


def churn(catalogue: Catalogue, hour: int) -> dict:
    """One hour of change: volatile figures move; some prices, removals, comebacks, a new field."""
    rng = random.Random(hour)
    catalogue.hour = hour
    served = [m for m in catalogue.models if catalogue.endpoints.get(m)]
    repriced = rng.sample(served, k=max(1, len(served) // 100))
    for model_id in repriced:
        price = float(catalogue.endpoints[model_id][0]["pricing"].get("prompt") or 0) or 0.000001
        catalogue.set_endpoint(model_id, "pricing.prompt", f"{price * rng.choice([0.8, 0.9, 1.1, 1.25]):.12f}")
    back = [m for m in list(catalogue.removed) if rng.random() < 0.5]
    for model_id in back:
        catalogue.restore_model(model_id)
    gone = rng.sample([m for m in catalogue.models if m not in back], k=2)
    for model_id in gone:
        catalogue.remove_model(model_id)
    if hour % 6 == 0:
        catalogue.set_model_field(rng.choice(served), "expiration_date", "2026-12-31")
    return {"repriced": len(repriced), "removed": len(gone), "back": len(back)}


def serve(connection, options: dict) -> None:
    catalogue = Catalogue(
        replicas=options["replicas"], extra_endpoints=options["extra_endpoints"], modern=options["modern"]
    )
    with CatalogueServer(catalogue, latency=options["latency"]) as server:
        connection.send(
            {
                "url": server.url,
                "models": len(catalogue.models),
                "endpoints": sum(len(e) for e in catalogue.endpoints.values()),
            }
        )
        while True:
            command, argument = connection.recv()
            if command == "churn":
                connection.send(churn(catalogue, argument))
            elif command == "served":
                connection.send(dict(server.served))
            else:
                connection.send(None)
                return


# --- measurements -----------------------------------------------------------------------------------------------------


def rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM := VmRSS


def relation_bytes(tables: list[str]) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(pg_total_relation_size(t)) FROM unnest(%s::text[]) AS t", [tables])
        return int(cursor.fetchone()[0] or 0)


def single_blob_sizes(batch, served: dict, keep: list | None = None) -> tuple[int, int, int]:
    """(raw bytes, zstd -3, zstd -19) of the batch's bodies as one blob; each body is checked byte for byte.

    `keep` collects the batch's bodies as (path, kind, body), for the `--real` baselines."""
    import hashlib

    import zstandard as zstd

    from snapshots.storage import BatchReader

    bodies, reader = [], BatchReader(batch)
    for entry in reader.entries():
        body = reader.body(entry)
        if body is None:
            continue
        assert hashlib.sha256(body).hexdigest() == served[entry.path], entry.path
        bodies.append(body)
        if keep is not None:
            keep.append((entry.path, entry.kind, body))
    blob = b"".join(bodies)
    fast, small = zstd.ZstdCompressor(level=3), zstd.ZstdCompressor(level=19)
    return len(blob), len(fast.compress(blob)), len(small.compress(blob))


def timed_runs(function, runs: int = 20) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def measure_queries() -> None:
    from django.conf import settings
    from rest_framework.test import APIClient

    from snapshots.figures import BLOCKS
    from snapshots.models import Batch, EntityKind, EntityVersion
    from snapshots.selectors import entity_get, entity_history, snapshot_diff

    hours = Batch.objects.count()
    print(f"queries over {hours} batches (API response cache off):")
    first, last = Batch.objects.order_by("hour").first(), Batch.objects.order_by("hour").last()
    previous = Batch.objects.order_by("-hour")[1]
    model = EntityVersion.objects.filter(entity__kind=EntityKind.MODEL).order_by("-id").first().entity
    endpoint = EntityVersion.objects.filter(entity__kind=EntityKind.ENDPOINT).order_by("-id").first().entity
    client = APIClient()
    settings.API_CACHE_ENABLED = False  # time the query, not a cache hit

    def history(entity) -> None:
        entity_history(entity_get(entity.kind, entity.key))

    def diff_api(before, after) -> None:
        assert client.get(f"/api/snapshots/diff?from={before.pk}&to={after.pk}").status_code == 200

    def history_api(entity) -> None:
        assert client.get(f"/api/snapshots/entities/{entity.kind}/{entity.key}/history").status_code == 200

    def history_cold(entity) -> None:
        BLOCKS.clear()  # as the first read of a process: every column block decoded again
        history(entity)

    for label, function in [
        (f"history of model {model.key}", lambda: history(model)),
        (f"history of endpoint {endpoint.key}", lambda: history(endpoint)),
        ("  same, no decoded column block kept (a process's first read)", lambda: history_cold(endpoint)),
        ("  same through GET /api/snapshots/entities/…/history", lambda: history_api(endpoint)),
        (f"diff hour 0 -> hour {hours - 1}", lambda: snapshot_diff(first, last)),
        ("  same through GET /api/snapshots/diff", lambda: diff_api(first, last)),
        (f"diff hour {hours - 2} -> hour {hours - 1}", lambda: snapshot_diff(previous, last)),
    ]:
        try:
            median, p95 = timed_runs(function)
        except Exception as exc:  # e.g. another app's URLs not importable: say so, measure the rest
            print(f"{label}: not measured ({type(exc).__name__}: {exc})")
            continue
        print(f"{label}: median {median:.1f} ms, p95 {p95:.1f} ms (target < 100 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--replicas", type=int, default=6)
    parser.add_argument("--extra-endpoints", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--modern", action="store_true", help="2026 endpoint shape: 11 volatile figures each")
    parser.add_argument("--queries-only", action="store_true", help="only time the queries, on the last run's data")
    parser.add_argument("--real", action="store_true", help="issue 17: real series and real catalogue vs zstd")
    smoke_defaults(parser, hours=2, replicas=1, latency=0.0, concurrency=8)
    options = vars(parser.parse_args())
    if options["real"]:
        options.update(replicas=1, extra_endpoints=0, latency=0.0, modern=True)
    if options["queries_only"]:
        from common import setup_django

        setup_django("modelgraph_bench_snapshots")
        measure_queries()
        return

    parent, child = multiprocessing.get_context("fork").Pipe()
    server = multiprocessing.get_context("fork").Process(target=serve, args=(child, options), daemon=True)
    server.start()
    replay = parent.recv()

    import os

    from common import recreate_database, setup_django

    os.environ["DJANGO_DEBUG"] = "0"  # as in production: no query log growing with every statement

    setup_django("modelgraph_bench_snapshots")
    recreate_database()

    from snapshots.models import Batch, Blob
    from snapshots.services import snapshot_sync

    if options["real"]:
        from snapshot_series import print_series, real_series

        series, source = real_series()
        print(f"real series from {source}:")
        print_series(series, smoke=options["smoke"])
        recreate_database()
        Batch.objects.exists()

    shape = "2026 (11 volatile figures)" if options["modern"] else "2025 (uptime_last_30m)"
    print(
        f"catalogue: {replay['models']} models, {replay['endpoints']} endpoints, endpoint shape {shape}, "
        f"{options['latency'] * 1000:.0f} ms per request, concurrency {options['concurrency']}"
    )
    walls, growths, raw, single3, single19 = [], [], [], [], []
    hourly: list[list] = []  # each hour's bodies, for the --real baselines
    Batch.objects.exists()  # connect before measuring the idle process
    for hour in range(options["hours"]):
        if hour:
            parent.send(("churn", hour))
            parent.recv()
        reset_peak_rss()
        idle = rss_kib("VmRSS")
        started = time.perf_counter()
        batch = snapshot_sync(
            base_url=replay["url"], now=HOUR0 + dt.timedelta(hours=hour), concurrency=options["concurrency"]
        )
        walls.append(time.perf_counter() - started)
        growths.append((rss_kib("VmHWM") - idle) / 1024)
        assert batch.complete, batch.validation
        parent.send(("served", None))
        kept: list | None = [] if options["real"] else None
        sizes = single_blob_sizes(batch, parent.recv(), kept)
        if kept is not None:
            hourly.append(kept)
        raw.append(sizes[0])
        single3.append(sizes[1])
        single19.append(sizes[2])
        stats = batch.stats
        print(
            f"hour {hour:2d}: {walls[-1]:5.1f} s, +{growths[-1]:5.1f} MB peak RSS, {stats['responses']} responses, "
            f"{sizes[0] / 1e6:.1f} MB received, stored {stats['new_blob_bytes'] + stats['manifest_bytes']:,} B "
            f"({stats['new_blobs']} new blobs), events {sum(stats['events'].values())}"
        )
    parent.send(("stop", None))
    parent.recv()

    payload = sum(len(data) for data in Blob.objects.values_list("data", flat=True).iterator())
    archive = relation_bytes(ARCHIVE_TABLES)
    index = relation_bytes(INDEX_TABLES)
    hours = len(walls)
    print()
    print(
        f"sync wall time: first {walls[0]:.1f} s, hourly median {statistics.median(walls[1:] or walls):.1f} s, "
        f"max {max(walls):.1f} s (target < 60 s; the earlier design: ~6 min)"
    )
    print(
        f"peak RSS growth over the idle process: max {max(growths):.1f} MB, first {growths[0]:.1f} MB (target < 64 MB)"
    )
    print(f"storage of {hours} hourly batches ({sum(raw) / 1e6:.0f} MB received):")
    print(f"  archive payload (compressed blobs + manifests)  {payload / 1e6:8.2f} MB")
    print(f"  archive tables on disk (blob + batch, PostgreSQL) {archive / 1e6:8.2f} MB")
    print(
        f"  {hours} single-blob snapshots, zstd -3             {sum(single3) / 1e6:8.2f} MB  "
        f"-> {sum(single3) / archive:.1f}x larger than our tables, {sum(single3) / payload:.1f}x our payload"
    )
    print(
        f"  {hours} single-blob snapshots, zstd -19            {sum(single19) / 1e6:8.2f} MB  "
        f"-> {sum(single19) / archive:.1f}x larger than our tables, {sum(single19) / payload:.1f}x our payload"
    )
    print(f"  entity index (entities, versions, events, field dictionaries) {index / 1e6:.2f} MB (queryable)")
    if options["real"]:
        from snapshot_series import print_hourly

        print_hourly(hourly, payload=payload, archive=archive, index=index, smoke=options["smoke"])
    measure_queries()
    server.join(timeout=5)


if __name__ == "__main__":
    main()
