"""The real-body series of `bench/snapshots.py --real`: each stored through the archive and beside generic tools.

A series is a list of (path, kind, body) per batch. Ours: every batch written by `snapshots.archive.Archive` into
an emptied archive, each body then read back and compared byte for byte; its size is every blob's compressed
payload written for the series (records, segments, deltas, manifests, column blocks). The baselines run the zstd
CLI (/usr/bin/zstd): `--patch-from` the previous batch (level 19, `--long`), `--long -19` over every body
concatenated, and `-19` per batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import tempfile
from pathlib import Path

REALDATA = Path("/work/shared/realdata/openrouter")
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "openrouter"
HOUR0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ZSTD = "/usr/bin/zstd"

Batch = list[tuple[str, str, bytes]]  # (path, kind, body) of one batch


def _zstd(args: list[str], data: bytes | None = None, files: list[Path] | None = None) -> int:
    out = subprocess.run([ZSTD, "-q", "-c", *args, *[str(f) for f in files or []]], input=data, capture_output=True)
    if out.returncode:
        raise RuntimeError(out.stderr.decode()[:300])
    return len(out.stdout)


def baselines(batches: list[Batch]) -> dict[str, int]:
    """Compressed bytes of the series by each generic tool."""
    joined = [b"".join(body for _, _, body in batch) for batch in batches]
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, content in enumerate(joined):
            files.append(Path(tmp) / f"{i}.json")
            files[-1].write_bytes(content)
        window = max(sum(map(len, joined)), 1).bit_length()
        patch = _zstd(["-19", f"--long={max(window, 10)}"], joined[0])
        for previous, current in zip(files, files[1:], strict=False):
            patch += _zstd(["-19", "--long", f"--patch-from={previous}"], files=[current])
        return {
            "patch-from": patch,
            "long -19 all": _zstd(["-19", f"--long={min(max(window, 10), 31)}"], b"".join(joined)),
            "per-batch -19": sum(_zstd(["-19"], content) for content in joined),
        }


def empty_archive() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        tables = ["snapshots_event", "snapshots_entityversion", "snapshots_entity", "snapshots_batch", "snapshots_blob"]
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


def store_series(batches: list[Batch]) -> dict:
    """Write every batch through the archive; (payload bytes, per batch), each body read back exactly."""
    from snapshots.archive import Archive
    from snapshots.crawl import Fetched
    from snapshots.models import Batch as BatchRow
    from snapshots.models import Blob
    from snapshots.storage import BatchReader

    empty_archive()
    previous = None
    sizes: list[int] = []
    roles: list[dict] = []
    for i, batch in enumerate(batches):
        hour = HOUR0 + dt.timedelta(hours=i)
        row = BatchRow.objects.create(hour=hour, started_at=hour, status="complete", complete=True)
        before = Blob.objects.order_by("-id").values_list("id", flat=True).first() or 0
        archive = Archive(previous)
        for path, kind, body in batch:
            archive.add(kind, Fetched(path, 200, body))
        manifest = archive.finish()
        BatchRow.objects.filter(pk=row.pk).update(manifest=manifest, volatile=archive.volatile_blob)
        row.refresh_from_db()
        new = Blob.objects.filter(id__gt=before).values_list("role", "data")
        sizes.append(sum(len(d) for _, d in new))
        by_role: dict[str, int] = {}
        for role, data in new:
            by_role[role] = by_role.get(role, 0) + len(data)
        roles.append(by_role)
        reader = BatchReader(row)
        bodies = {path: body for path, _, body in batch}
        for entry in reader.entries():
            got = reader.body(entry)
            assert got is not None and hashlib.sha256(got).digest() == hashlib.sha256(bodies[entry.path]).digest()
        previous = row
    return {"total": sum(sizes), "batches": sizes, "roles": roles}


def real_series() -> tuple[dict[str, list[Batch]], str]:
    """The real series by name, and where they came from (realdata, or the fixtures' samples when it is absent)."""
    if not REALDATA.is_dir():
        samples = [
            FIXTURES / "orchid" / "v1_models_2025-05-24.json",
            FIXTURES / "models_2026-08-19_via-unified-llm-pricing.json",
        ]
        daily = sorted((FIXTURES / "daily_series_gptel").glob("*.json"))
        series = {"fixtures: v1 bodies": _lists(samples), "fixtures: daily gptel": _lists(daily)}
        return {k: v for k, v in series.items() if v}, f"{REALDATA} absent: tests/fixtures samples instead"
    gptel = sorted((REALDATA / "daily_series_gptel").glob("models-data-array_*.json"))
    v1 = [
        REALDATA / "orchid" / "v1_models_2025-05-24.json",
        REALDATA / "orchid" / "v1_models_2025-05-26.json",
        REALDATA / "orchid" / "v1_models_2025-07-29.json",
        *gptel,
        REALDATA / "models_2026-05-15_via-models.dev.json",
        REALDATA / "models_2026-05-22_via-aiscanner.json",
        REALDATA / "models_2026-08-01_via-token-tariff.json",
        REALDATA / "models_2026-08-19_via-unified-llm-pricing.json",
    ]
    frontend = [
        REALDATA / "orchid" / "frontend" / "models_2025-05-20.json",
        REALDATA / "orchid" / "frontend" / "models_full_2025-05-25.json",
    ]
    series = {
        f"{len(gptel)} daily /api/v1/models (gptel)": _lists(gptel),
        f"{len(v1)} v1 bodies 2025-05 -> 2026-08": _lists(v1),
        "frontend pair 05-20 -> 05-25": _lists(frontend, "/api/frontend/models", "frontend_models"),
    }
    return series, str(REALDATA)


def _lists(paths: list[Path], path: str = "/api/v1/models", kind: str = "v1_models") -> list[Batch]:
    return [[(path, kind, p.read_bytes())] for p in paths if p.exists()]


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


def _table(name: str, ours: int, generic: dict[str, int]) -> None:
    best = min(generic.values())
    print(f"  {name}")
    print(f"    ours {ours:>10,} B   " + "   ".join(f"{k} {v:>10,} B ({ours / v:.2f}x)" for k, v in generic.items()))
    print(f"    ours / best generic = {ours / best:.2f} (target <= 0.70) {verdict(ours / best, 0.70)}")


def print_series(series: dict[str, list[Batch]], smoke: bool = False) -> None:
    for name, batches in series.items():
        if smoke:
            batches = [[(path, kind, body[:200_000]) for path, kind, body in batch] for batch in batches[:2]]
        ours = store_series(batches)
        raw = sum(len(body) for batch in batches for _, _, body in batch)
        _table(f"{name}: {len(batches)} batches, {raw / 1e6:.1f} MB", ours["total"], baselines(batches))


def print_hourly(hourly: list[Batch], *, payload: int, archive: int, index: int, smoke: bool = False) -> None:
    """Issue 17's figures for the hourly syncs just made: baselines, volatile, index, one-body read, exports."""
    from snapshots.frames import COUNTER
    from snapshots.models import Batch as BatchRow
    from snapshots.models import Blob, Entity
    from snapshots.services import snapshot_export
    from snapshots.storage import BatchReader

    hours = len(hourly)
    print(f"real catalogue, {hours} hourly syncs (the replay, no replication):")
    _table(f"{hours} hourly batches", payload, baselines(hourly))
    batches = list(BatchRow.objects.order_by("hour"))
    volatile = sum(len(data) for data in Blob.objects.filter(role=Blob.Role.COLUMNS).values_list("data", flat=True))
    endpoint_hours = sum(len(block.rows) for batch in batches for block in BatchReader(batch).blocks())
    per = volatile / max(endpoint_hours, 1)
    print(f"  volatile figures: {volatile:,} B for {endpoint_hours:,} endpoint-hours = {per:.1f} B per endpoint-hour")
    print(f"    (every body's figures, incl. the frontend stats of each endpoint) target <= 20 B: {verdict(per, 20)}")
    own, rows = 0, 0  # the pages holding /endpoints bodies only: the figures the issue measured (11 per endpoint)
    for batch in batches:
        reader = BatchReader(batch)
        for page in reader.pages() or []:
            kinds = {entry.kind for entry in reader.entries() if entry.page == page}
            if page.volatile is not None and kinds == {"endpoints"}:
                own += len(Blob.objects.get(pk=page.volatile).data)
                block = reader.block(page)
                rows += len(block.rows) if block is not None else 0
    if rows:
        print(
            f"    /endpoints bodies' figures alone: {own / rows:.1f} B per endpoint-hour; target <= 20 B: "
            f"{verdict(own / rows, 20)}"
        )
    index_total = index + volatile
    print(
        f"  index (entity, version, event tables {index / 1e6:.2f} MB + column blocks {volatile / 1e6:.2f} MB) "
        f"= {index_total / archive:.2f}x the archive tables ({archive / 1e6:.2f} MB); target <= 2x: "
        f"{verdict(index_total / archive, 2)}"
    )
    last = batches[-1]
    worst = 0
    endpoints = [e for e in BatchReader(last).entries() if e.kind == "endpoints" and e.blob is not None]
    for entry in endpoints[:: max(1, len(endpoints) // 20)]:
        COUNTER.reset()
        reader = BatchReader(BatchRow.objects.get(pk=last.pk))
        found = next(reader.entries(entry.path))
        assert reader.body(found) is not None
        worst = max(worst, COUNTER.bytes)
    print(
        f"  one endpoint body of hour {hours - 1} (manifest, column block, frames): at most {worst / 1024:.0f} KB "
        f"decompressed over {len(endpoints[:: max(1, len(endpoints) // 20)])} samples; target <= 256 KB: "
        f"{verdict(worst, 256 * 1024)}"
    )
    costs = []
    with tempfile.TemporaryDirectory() as tmp:
        for batch in batches:
            COUNTER.reset()
            snapshot_export(batch=batch, out_dir=Path(tmp) / str(batch.pk))
            costs.append(COUNTER.bytes)
    ratio = max(costs) / costs[0]
    print(
        f"  export cost (bytes decompressed): hour 0 {costs[0] / 1e6:.2f} MB, max {max(costs) / 1e6:.2f} MB "
        f"(hour {costs.index(max(costs))}), last {costs[-1] / 1e6:.2f} MB; max / first = {ratio:.2f}; "
        f"target <= 2: {verdict(ratio, 2)}"
    )
    print(f"  entities: {Entity.objects.count():,}")
