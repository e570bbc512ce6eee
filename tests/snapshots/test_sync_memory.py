"""What keeps a sync's memory within issue 17's 64 MB at 10x the real bodies (the whole sync is measured in
test_faults.py): a body is received into one buffer, a segment's frame is kept right-sized, orphans are kept compact.
"""

from __future__ import annotations

import hashlib
import json
import tracemalloc

import pytest

from snapshots.crawl import Crawler
from snapshots.entities import frontend_scan
from snapshots.frames import LIST_SEGMENT_SIZE, BlobReader, SegmentWriter
from snapshots.models import Blob
from tests.replay.server import Fault
from tests.snapshots.replay import Catalogue, CatalogueServer

BIG = "/api/frontend/models"


def test_a_big_body_arrives_byte_exact_and_is_held_once_while_it_arrives():
    catalogue = Catalogue(limit=40)
    body = json.dumps({"data": [{"slug": f"a/m{i}", "description": "x" * 900} for i in range(8000)]}).encode()
    catalogue.faults[BIG] = Fault("status", status=200, body=body)
    with CatalogueServer(catalogue) as server, Crawler(server.url) as crawler:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            fetched = crawler.fetch(BIG)
            peak = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
    assert fetched.ok and hashlib.sha256(fetched.body).digest() == hashlib.sha256(body).digest()
    # httpx's `response.content` held the chunks and their join at once: twice the body.
    assert peak < 1.3 * len(body), f"{peak / len(body):.2f}x the body's {len(body):,} bytes"


@pytest.mark.django_db
def test_a_segment_frame_is_kept_right_sized_and_reads_back_exactly():
    writer = SegmentWriter(19, LIST_SEGMENT_SIZE)
    contents = [json.dumps({"id": f"a/m{i}", "pricing": {"prompt": f"0.{i:06d}"}}).encode() * 40 for i in range(1500)]
    records = []
    tracemalloc.start()  # before the adds: the raw bytes let go at the flush are traced
    for content in contents:
        record = Blob(sha256=hashlib.sha256(content).digest(), size=len(content), data=b"", role=Blob.Role.RECORD)
        writer.add(record, content)
        records.append(record)
    raw = sum(map(len, contents))
    assert writer.size == raw > LIST_SEGMENT_SIZE // 2
    try:
        before = tracemalloc.get_traced_memory()[0]
        writer.flush()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    (segment,) = [blob for blob in writer.blobs if blob.role == Blob.Role.SEGMENT]
    # The raw bytes are let go; zstandard's compress() returns its frame in an allocation of the input's size, so
    # an uncopied frame of a few KB would keep the raw size held for as long as the segment row is kept.
    assert len(segment.data) < 100_000 and kept < -raw / 2, f"{kept:,} bytes kept of {raw:,}"
    assert writer.size == 0 and not writer.pending
    reader = BlobReader()
    assert [reader.read(record.pk) for record in records] == contents


def test_orphans_are_kept_compact_and_observed_with_their_exact_fields():
    orphan = {"slug": "a/gone", "name": "Ünïcode 模型", "context_length": 131072, "top": 0.1 + 0.2, "x": None}
    served = {"slug": "a/live", "endpoint": {"model_variant_slug": "a/live", "variant": "standard"}}
    body = json.dumps({"data": [orphan, served]}).encode()
    scan = frontend_scan(body, {"a/live"})
    assert isinstance(scan.orphans["a/gone"], bytes) and list(scan.orphans) == ["a/gone"]
    (observation,) = scan.orphan_observations()
    assert observation.key == "a/gone" and observation.orphaned and observation.fields == orphan
    assert scan.variants == [("a/live", "standard", "a/live")]
