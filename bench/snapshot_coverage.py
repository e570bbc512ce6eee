"""Benchmark: what the extra sources (snapshots/coverage.py) cost a day of hourly syncs of the real catalogue.

Usage: .venv/bin/python bench/snapshot_coverage.py [--smoke] [--hours 24 --limit N]
Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/modelgraph_bench_snapshot_coverage), dropped
and re-created; its snapshot tables are emptied before each run.

The same hours are synced twice against the replay of tests/snapshots/replay.py (the real 2025 catalogue, every
output modality, the frontend routes in their real shapes): once with the core sources only, once with every extra
(endpoint details every hour, uptime series every 6 hours, provider capabilities every hour, app usage once a day).
Every hour the replay's volatile figures move and one endpoint detail changes (a flag, a limit or a region).

Prints, per run: requests per hour, the archive's stored bytes (blobs) and the index's rows; then what the extras
add (bytes per endpoint-hour of the details, bytes per uptime point), and the time to read one endpoint's uptime
series back from the archive.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from common import recreate_database, setup_django, smoke_defaults  # noqa: E402

from tests.snapshots.replay import EPOCH, Catalogue, CatalogueServer  # noqa: E402

CHANGES = (("is_deranked", True), ("limit_rpm", 60), ("provider_region", "eu-west-1"), ("is_disabled", True))


def empty_archive() -> None:
    """Every snapshots table emptied: the second run starts from nothing, like the first."""
    from django.db import connection

    tables = [t for t in connection.introspection.table_names() if t.startswith("snapshots_")]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} RESTART IDENTITY CASCADE")


def run(hours: int, limit: int | None, extras: bool) -> dict:
    from django.conf import settings
    from django.db.models import Sum
    from django.db.models.functions import Length

    from snapshots.coverage import EXTRAS, endpoint_id_of, endpoint_uptime_series
    from snapshots.models import Batch, Blob, Entity, EntityKind, EntityVersion, Event
    from snapshots.services import snapshot_sync

    empty_archive()
    settings.SNAPSHOTS_EXTRAS = EXTRAS if extras else ()
    catalogue = Catalogue(limit=limit, all_modalities=True)
    models = [m for m in catalogue.models if catalogue.endpoint_details(m)]
    requests, walls = [], []
    with CatalogueServer(catalogue) as server:
        for hour in range(hours):
            catalogue.hour = hour
            if hour:
                name, value = CHANGES[hour % len(CHANGES)]
                catalogue.set_endpoint_detail(models[hour % len(models)], name, value)
            before = len(server.requests)
            started = time.perf_counter()
            batch = snapshot_sync(base_url=server.url, now=EPOCH + dt.timedelta(hours=hour))
            walls.append(time.perf_counter() - started)
            requests.append(len(server.requests) - before)
            assert batch.complete, batch.validation
    result = {
        "requests": requests,
        "wall": walls,
        "archive": Blob.objects.aggregate(n=Sum(Length("data")))["n"] or 0,
        "entities": Entity.objects.count(),
        "versions": EntityVersion.objects.count(),
        "events": Event.objects.exclude(kind="appeared").count(),
        "details": Entity.objects.filter(kind=EntityKind.ENDPOINT_DETAIL).count(),
        "batches": Batch.objects.count(),
    }
    if extras:
        detail = Entity.objects.filter(kind=EntityKind.ENDPOINT_DETAIL).order_by("key").first()
        started = time.perf_counter()
        series = endpoint_uptime_series(endpoint_id_of(detail.key)) if detail else []
        result["series_ms"] = (time.perf_counter() - started) * 1000
        result["series_points"] = len(series)
        uptime_batches = Batch.objects.filter(validation__sources__has_key="uptime_hourly")
        result["uptime_points"] = sum(b.validation["sources"]["uptime_hourly"]["items"] for b in uptime_batches)
        result["detail_events"] = Event.objects.filter(
            entity__kind=EntityKind.ENDPOINT_DETAIL, kind__in=["status_changed", "limits_changed", "region_changed"]
        ).count()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--limit", type=int, default=None, help="the first N models of the real list (all: none)")
    smoke_defaults(parser, hours=2, limit=20)
    args = parser.parse_args()
    setup_django("modelgraph_bench_snapshot_coverage")
    recreate_database()

    core = run(args.hours, args.limit, extras=False)
    full = run(args.hours, args.limit, extras=True)
    for name, result in (("core only", core), ("with extras", full)):
        print(
            f"{name}: {args.hours} hours, requests per hour {min(result['requests'])}–{max(result['requests'])}, "
            f"sync {sum(result['wall']) / len(result['wall']):.2f} s on average, "
            f"archive {result['archive'] / 1024:.1f} KB, "
            f"{result['entities']} entities, {result['versions']} versions, {result['events']} change events"
        )
    added = full["archive"] - core["archive"]
    endpoint_hours = full["details"] * args.hours
    print(
        f"extras archive cost: +{added / 1024:.1f} KB over {args.hours} hours "
        f"({added / max(1, endpoint_hours):.1f} B per endpoint-hour for {full['details']} endpoint details, "
        f"{full['uptime_points']} uptime points archived)"
    )
    print(
        f"index: +{full['versions'] - core['versions']} versions, {full['detail_events']} status/limit/region events "
        f"for {args.hours - 1} scripted changes"
    )
    print(f"uptime series read: {full['series_points']} hourly points of one endpoint in {full['series_ms']:.1f} ms")


if __name__ == "__main__":
    main()
