"""Raw storage: volatile split round trips, list splitting, content addressing, deltas, manifests."""

from __future__ import annotations

import json

import pytest

from snapshots.models import Blob
from snapshots.records import ITEM, item_keys, join_list, split_list
from snapshots.storage import ManifestEntry, blob_read, blob_store, join_volatile, sha256, split_volatile
from tests.snapshots.replay import REALDATA

KIMI = REALDATA / "endpoints_moonshotai-kimi-k3_2026-08-25_reduced.json"
QWEN = REALDATA / "orchid" / "v1_endpoints_qwen3-235b-a22b-thinking-2507_2025-07-29.json"
LISTS = [
    REALDATA / "orchid" / "v1_models_2025-05-24.json",
    REALDATA / "orchid" / "frontend" / "models_2025-05-20.json",
    REALDATA / "daily_series_gptel" / "models-data-array_2026-05-01.json",
    REALDATA / "models_2026-08-19_via-unified-llm-pricing.json",
    REALDATA / "providers_2026-05-22_via-aiscanner.json",
]


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


class TestSplitList:
    @pytest.mark.parametrize("path", LISTS, ids=lambda p: p.name)
    def test_real_list_bodies_split_into_items_and_back_exactly(self, path):
        body = path.read_bytes()
        template, items = split_list(body)
        assert join_list(template, items) == body
        assert len(items) == len(json.loads(body)["data"] if body.lstrip()[:1] == b"{" else json.loads(body))
        assert all(json.loads(item) for item in items) and template.count(ITEM) == len(items)
        assert len(template) < 2000 + 20 * len(items)  # the template is the list's punctuation only

    def test_item_keys_are_the_ids_and_unique(self):
        _, items = split_list(LISTS[0].read_bytes())
        keys = item_keys(items)
        assert keys[:2] == [json.loads(items[0])["id"], json.loads(items[1])["id"]]
        assert len(set(keys)) == len(keys)
        assert item_keys([b'{"id": "a"}', b'{"id": "a"}', b"[1]"]) == ["a", "a+", "#2"]

    @pytest.mark.parametrize("body", [b'{"data": {"id": 1}}', b'{"x": 1}', b"[]", b'{"data": [1, 2', b"[1, \x01]"])
    def test_what_is_not_a_list_of_items_is_not_split(self, body):
        assert split_list(body) is None


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

    def test_a_drifted_source_starts_a_new_keyframe(self):
        base, _ = blob_store(QWEN.read_bytes())
        other, _ = blob_store(KIMI.read_bytes() * 3, previous_id=base.pk)
        assert other.reference_id is None


def test_manifest_lines_round_trip():
    entry = ManifestEntry("/api/v1/models/a/b:free/endpoints", "endpoints", 200, 12, volatile=3)
    assert ManifestEntry.from_line(entry.line()) == entry
    listed = ManifestEntry("/api/v1/models", "v1_models", 200, 3, items=[4, 5, 9])
    assert ManifestEntry.from_line(listed.line()) == listed
    failed = ManifestEntry("/api/v1/models/x/endpoints", "endpoints", 500, error="HTTP 500")
    assert ManifestEntry.from_line(failed.line()) == failed
    v1 = ManifestEntry("/api/v1/models/y/endpoints", "endpoints", 200, 12, 3456, 789, "ab" * 16, ["99.5", "null"])
    assert ManifestEntry.from_line(v1.line()) == v1  # storage v1 manifests stay readable
