"""Storage v2 end to end: real bodies as records, against their previous version, read back exactly and cheaply."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import zstandard as zstd

from snapshots.archive import Archive
from snapshots.crawl import Fetched
from snapshots.frames import COUNTER, LIST_SEGMENT_SIZE, SEGMENT_SIZE, BlobReader, SegmentWriter, group_references
from snapshots.models import Batch, Blob
from snapshots.records import MAX_DEPTH, RecordWriter
from snapshots.services import snapshot_export
from snapshots.storage import BatchReader, sha256
from tests.snapshots.conftest import HOUR0
from tests.snapshots.replay import REALDATA, Catalogue, CatalogueServer

pytestmark = pytest.mark.django_db

DAY_BEFORE = REALDATA / "daily_series_gptel" / "models-data-array_2026-04-30.json"
DAY = REALDATA / "daily_series_gptel" / "models-data-array_2026-05-01.json"
REAL_BODIES = [
    ("/api/v1/models", "v1_models", REALDATA / "orchid" / "v1_models_2025-05-24.json"),
    ("/api/frontend/models", "frontend_models", REALDATA / "orchid" / "frontend" / "models_2025-05-20.json"),
    ("/api/v1/providers", "providers", REALDATA / "providers_2026-05-22_via-aiscanner.json"),
    (
        "/api/v1/models/moonshotai/kimi-k3/endpoints",
        "endpoints",
        REALDATA / "endpoints_moonshotai-kimi-k3_2026-08-25_reduced.json",
    ),
    (
        "/api/v1/models/qwen/qwen3-235b-a22b-thinking-2507/endpoints",
        "endpoints",
        REALDATA / "orchid" / "v1_endpoints_qwen3-235b-a22b-thinking-2507_2025-07-29.json",
    ),
]


def store(bodies: list[tuple[str, str, bytes]], hour: int, previous: Batch | None) -> Batch:
    """One batch of `bodies` written through the archive, as a sync does."""
    moment = HOUR0 + dt.timedelta(hours=hour)
    batch = Batch.objects.create(hour=moment, started_at=moment, status="complete", complete=True)
    archive = Archive(previous)
    for path, kind, body in bodies:
        archive.add(kind, Fetched(path, 200, body))
    manifest = archive.finish()
    Batch.objects.filter(pk=batch.pk).update(manifest=manifest, volatile=archive.volatile_blob)
    batch.refresh_from_db()
    return batch


def payload_since(blob_id: int) -> int:
    return sum(len(data) for data in Blob.objects.filter(id__gt=blob_id).values_list("data", flat=True))


def last_blob() -> int:
    return Blob.objects.order_by("-id").values_list("id", flat=True).first() or 0


class TestRealBodies:
    def test_every_real_body_is_read_back_byte_for_byte(self):
        bodies = [(path, kind, file.read_bytes()) for path, kind, file in REAL_BODIES]
        batch = store(bodies, 0, None)
        reader = BatchReader(batch)
        got = {entry.path: reader.body(entry) for entry in reader.entries()}
        assert {path: hashlib.sha256(body).hexdigest() for path, _, body in bodies} == {
            path: hashlib.sha256(body).hexdigest() for path, body in got.items()
        }

    def test_the_next_real_day_costs_a_small_delta_of_the_changed_models_only(self):
        first = store([("/api/v1/models", "v1_models", DAY_BEFORE.read_bytes())], 0, None)
        keyframe = payload_since(0)
        before = last_blob()
        second = store([("/api/v1/models", "v1_models", DAY.read_bytes())], 1, first)
        delta = payload_since(before)
        assert delta * 20 < keyframe  # the consecutive real days: a few hundred bytes per changed model
        entry = next(BatchReader(second).entries())
        assert BatchReader(second).body(entry) == DAY.read_bytes()
        unchanged = set(next(BatchReader(first).entries()).items) & set(entry.items)
        assert len(unchanged) > len(entry.items) * 3 // 4  # unchanged models are the same records: stored once

    def test_a_record_changing_every_hour_gets_a_keyframe_after_max_depth_deltas(self):
        writer = RecordWriter(BlobReader(), level=3)
        body = REAL_BODIES[4][2].read_bytes()
        previous, depths = None, []
        for hour in range(MAX_DEPTH + 2):
            content = body.replace(b'"status": 0', f'"status": {hour + 1}'.encode(), 1) + str(hour).encode()
            previous = writer.store(content, sha256(content), previous)
            writer.finish()
            depths.append(previous.depth)
            assert BlobReader().read(previous.pk) == content
        assert body and depths[: MAX_DEPTH + 1] == list(range(MAX_DEPTH + 1)) and depths[MAX_DEPTH + 1] == 0


class TestReads:
    @pytest.fixture
    def hours(self, settings):
        """Six hours of the real catalogue (2026 shape) with a reprice each hour; the batches."""
        settings.SNAPSHOTS_BACKOFF = 0.01
        catalogue = Catalogue(limit=120, modern=True)
        from snapshots.services import snapshot_sync

        batches = []
        with CatalogueServer(catalogue) as server:
            served = [m for m in catalogue.models if catalogue.endpoints.get(m)]
            for hour in range(6):
                catalogue.hour = hour
                if hour:
                    catalogue.set_endpoint(served[hour], "pricing.prompt", f"0.00000{hour}")
                batches.append(snapshot_sync(base_url=server.url, now=HOUR0 + dt.timedelta(hours=hour)))
        assert all(batch.complete for batch in batches)
        return batches

    def test_one_endpoint_body_costs_at_most_256_kb_of_decompression(self, hours):
        last = hours[-1]
        paths = [e.path for e in BatchReader(last).entries() if e.kind == "endpoints" and e.blob is not None]
        for path in paths[::10]:
            COUNTER.reset()
            reader = BatchReader(Batch.objects.get(pk=last.pk))
            body = reader.body(next(reader.entries(path)))
            assert body and COUNTER.bytes <= 256 * 1024, (path, COUNTER.bytes)
            assert COUNTER.bytes < 4 * SEGMENT_SIZE

    def test_exporting_any_hour_costs_at_most_twice_the_first(self, hours, tmp_path):
        costs = []
        for batch in hours:
            COUNTER.reset()
            summary = snapshot_export(batch=batch, out_dir=tmp_path / str(batch.pk))
            costs.append(COUNTER.bytes)
            assert all(r["sha256"] for r in summary["responses"] if r.get("file"))
        assert costs[0] > 0 and max(costs) <= 2 * costs[0], costs


class TestFirstBatchLists:
    """A batch's list segments are compressed against its endpoint keyframes when that is smaller (frames.py)."""

    def test_the_first_list_segment_is_a_group_of_the_batchs_keyframe_segments_and_reads_back(self, settings):
        settings.SNAPSHOTS_BACKOFF = 0.01
        catalogue = Catalogue(limit=120, modern=True)
        from snapshots.services import snapshot_sync

        with CatalogueServer(catalogue) as server:
            batch = snapshot_sync(base_url=server.url, now=HOUR0)
            served = dict(server.served)
        assert batch.complete
        (group,) = Blob.objects.filter(role=Blob.Role.GROUP)
        references, frame = group_references(bytes(group.data))
        assert references and set(Blob.objects.filter(pk__in=references).values_list("role", flat=True)) == {
            Blob.Role.SEGMENT
        }
        content = BlobReader().read(group.pk)
        assert len(content) == group.size
        alone = zstd.ZstdCompressor(level=19).compress(content)
        assert len(group.data) < 0.9 * len(alone)  # the endpoint bodies' segments hold much of the lists' text
        assert Blob.objects.filter(role=Blob.Role.RECORD, segment=group).count() > 100  # the lists' items
        reader = BatchReader(Batch.objects.get(pk=batch.pk))
        lists = [entry for entry in reader.entries() if entry.kind in ("v1_models", "frontend_models")]
        assert lists
        for entry in lists:
            assert hashlib.sha256(reader.body(entry)).hexdigest() == served[entry.path]

    def test_a_list_segment_stays_alone_when_its_context_would_not_make_it_smaller(self):
        small = SegmentWriter(19, SEGMENT_SIZE)
        lists = SegmentWriter(19, LIST_SEGMENT_SIZE, context=small)
        tiny = b'{"data":[\x01]}'
        small.add(Blob(sha256=hashlib.sha256(tiny).digest(), size=len(tiny), data=b"", role=Blob.Role.RECORD), tiny)
        small.flush()
        items = [REAL_BODIES[0][2].read_bytes()]
        record = Blob(sha256=hashlib.sha256(items[0]).digest(), size=len(items[0]), data=b"", role=Blob.Role.RECORD)
        lists.add(record, items[0])
        lists.flush()
        (segment,) = [blob for blob in lists.blobs if blob.role != Blob.Role.RECORD]
        # zstd does worse on a 2 MB input with a 14-byte prefix than alone: the frame is written alone
        assert segment.role == Blob.Role.SEGMENT and segment.depth == 0
        assert BlobReader().read(record.pk) == items[0]
