"""Raw storage: volatile split round trips, content addressing, deltas, dictionaries, manifests."""

from __future__ import annotations

import json

import pytest

from snapshots.models import Blob
from snapshots.storage import (
    ManifestEntry,
    PackWriter,
    blob_read,
    blob_store,
    join_volatile,
    sha256,
    split_volatile,
)
from tests.snapshots.replay import REALDATA

KIMI = REALDATA / "endpoints_moonshotai-kimi-k3_2026-08-25_reduced.json"
QWEN = REALDATA / "orchid" / "v1_endpoints_qwen3-235b-a22b-thinking-2507_2025-07-29.json"


class TestSplitVolatile:
    @pytest.mark.parametrize("path", [KIMI, QWEN])
    def test_real_endpoint_bodies_round_trip_exactly(self, path):
        body = path.read_bytes()
        template, tokens = split_volatile(body)
        assert join_volatile(template, tokens) == body
        assert tokens and len(template) < len(body)
        assert b'uptime_last_30m": \x00' in template or b'uptime_last_30m":\x00' in template

    def test_the_template_does_not_move_when_only_uptime_and_latency_move(self):
        body = KIMI.read_bytes()
        data = json.loads(body)
        for endpoint in data["data"]["endpoints"]:
            endpoint["uptime_last_30m"] = 12.5
            endpoint["latency_last_30m"] = {"p50": 1, "p75": 2, "p90": 3, "p99": 4}
        moved = json.dumps(data, indent=2).encode()
        original = json.dumps(json.loads(body), indent=2).encode()
        assert split_volatile(moved)[0] == split_volatile(original)[0]

    def test_a_price_change_changes_the_template(self):
        data = json.loads(KIMI.read_bytes())
        before = split_volatile(json.dumps(data).encode())[0]
        data["data"]["endpoints"][0]["pricing"]["prompt"] = "0.000001"
        assert split_volatile(json.dumps(data).encode())[0] != before

    def test_a_body_holding_the_placeholder_is_kept_whole(self):
        body = b'{"uptime_last_30m": 99, "x": "\x00"}'
        assert split_volatile(body) == (body, [])

    def test_nested_objects_are_not_cut(self):
        body = b'{"status": {"a": {"b": 1}}, "uptime_last_5m": null}'
        template, tokens = split_volatile(body)
        assert tokens == [b"null"] and join_volatile(template, tokens) == body


@pytest.mark.django_db
class TestBlobStore:
    def test_identical_content_is_stored_once(self):
        first, created = blob_store(b"hello world" * 50)
        again, created_again = blob_store(b"hello world" * 50)
        assert created and not created_again and first.pk == again.pk
        assert Blob.objects.count() == 1

    def test_a_new_body_of_a_source_is_a_small_delta_against_the_previous(self):
        body = QWEN.read_bytes()
        base, _ = blob_store(body)
        changed = body.replace(b'"0.0000001179"', b'"0.0000001180"', 1)
        delta, created = blob_store(changed, previous_id=base.pk)
        assert created and delta.reference_id == base.pk
        assert len(delta.data) < 60 < len(base.data)
        assert blob_read(delta) == changed and bytes(delta.sha256) == sha256(changed)

    def test_references_never_chain_beyond_one_body(self):
        body = QWEN.read_bytes()
        previous, _ = blob_store(body)
        keyframe = previous.pk
        for price in range(10):
            body = body.replace(b'"status": 0', f'"status": {price + 1}'.encode(), 1).replace(
                f'"status": {price}'.encode(), f'"status": {price + 1}'.encode(), 1
            )
            current, _ = blob_store(body + str(price).encode(), previous_id=previous.pk)
            assert current.reference_id == keyframe
            assert blob_read(current) == body + str(price).encode()
            previous = current

    def test_manifests_chain_for_a_day_then_return_to_their_keyframe(self):
        lines = [f'{{"p":"/api/v1/models/m{i}/endpoints","t":["99.{i}"]}}'.encode() for i in range(300)]
        previous, depths = None, []
        for hour in range(30):
            lines[hour * 7] = f'{{"p":"changed at {hour}"}}'.encode()
            content = b"\n".join(lines)
            blob, _ = blob_store(content, previous_id=previous, max_depth=24)
            assert blob_read(blob) == content
            depths.append(blob.depth)
            previous = blob.pk
        assert depths[:25] == list(range(25)) and depths[25] == 1

    def test_a_drifted_source_starts_a_new_keyframe(self):
        base, _ = blob_store(QWEN.read_bytes())
        other, _ = blob_store(KIMI.read_bytes() * 3, previous_id=base.pk)
        assert other.reference_id is None

    def test_a_pack_streams_templates_and_later_packs_are_deltas_of_the_first(self):
        bodies = [QWEN.read_bytes().replace(b"Chutes", f"Provider{i}".encode()) for i in range(50)]
        first = PackWriter()
        offsets = [first.add(body) for body in bodies]
        keyframe = first.close()
        assert keyframe.reference_id is None and keyframe.role == "pack" and keyframe.size == sum(map(len, bodies))
        assert len(keyframe.data) < len(QWEN.read_bytes())  # fifty similar bodies cost about one
        content = blob_read(keyframe)
        assert [content[o : o + len(b)] for o, b in zip(offsets, bodies, strict=True)] == bodies
        later = PackWriter()
        changed = bodies[7].replace(b'"0.0000001179"', b'"0.0000001180"', 1)
        assert later.add(changed) == 0
        delta = later.close()
        assert delta.reference_id == keyframe.pk and len(delta.data) < 80
        assert blob_read(delta) == changed
        assert PackWriter().close() is None  # nothing new: no pack


def test_manifest_lines_round_trip():
    entry = ManifestEntry(
        "/api/v1/models/a/b:free/endpoints", "endpoints", 200, 12, 3456, 789, "ab" * 16, ["99.5", "null"]
    )
    assert ManifestEntry.from_line(entry.line()) == entry
    whole = ManifestEntry("/api/v1/models", "v1_models", 200, 3, digest="cd" * 16)
    assert ManifestEntry.from_line(whole.line()) == whole
    failed = ManifestEntry("/api/v1/models/x/endpoints", "endpoints", 500, error="HTTP 500")
    assert ManifestEntry.from_line(failed.line()) == failed
