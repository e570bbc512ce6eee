"""Splitting real OpenRouter responses into entities; streaming list reads; field-change events."""

from __future__ import annotations

import json

import pytest

from snapshots import entities
from snapshots.entities import (
    endpoint_key,
    endpoint_observations,
    frontend_scan,
    iter_list_items,
    list_total_count,
    model_observations,
)
from snapshots.events import field_changes
from tests.snapshots.replay import FRONTEND_HOURS, REALDATA, V1_MODELS

KIMI = REALDATA / "endpoints_moonshotai-kimi-k3_2026-08-25_reduced.json"
QWEN = REALDATA / "orchid" / "v1_endpoints_qwen3-235b-a22b-thinking-2507_2025-07-29.json"
NEWEST = REALDATA / "models_2026-08-19_via-unified-llm-pricing.json"
DAILY = REALDATA / "daily_series_gptel" / "models-data-array_2026-05-01.json"


class TestIterListItems:
    @pytest.mark.parametrize("path", [V1_MODELS, FRONTEND_HOURS[1], NEWEST, DAILY])
    def test_items_equal_a_whole_parse(self, path, monkeypatch):
        monkeypatch.setattr(entities, "CHUNK", 777)  # many chunk boundaries, some inside multi-byte characters
        whole = json.loads(path.read_bytes())
        expected = whole if isinstance(whole, list) else whole["data"]
        assert list(iter_list_items(path.read_bytes())) == expected

    def test_a_truncated_list_is_an_error(self):
        body = V1_MODELS.read_bytes()
        with pytest.raises(ValueError):
            list(iter_list_items(body[: len(body) // 2]))

    def test_total_count_is_read_when_announced(self):
        assert list_total_count(NEWEST.read_bytes()) == 414
        assert list_total_count(V1_MODELS.read_bytes()) is None


class TestEndpoints:
    def test_real_modern_endpoints_split_volatile_from_stable(self):
        model_id, observations = endpoint_observations(KIMI.read_bytes())
        assert model_id == "moonshotai/kimi-k3"
        keys = [o.key for o in observations]
        tags = [key.split("@")[1] for key in keys]
        assert tags == ["fireworks", "alibaba", "fireworks/fast", "morph/fast"]
        assert all(key.startswith("moonshotai/kimi-k3@") for key in keys)
        alibaba = observations[1]
        assert alibaba.provider_key == "alibaba" and alibaba.model_key == model_id
        assert alibaba.fields["pricing"]["prompt"] == "0.00000345"
        assert "uptime_last_30m" not in alibaba.fields and "latency_last_30m" not in alibaba.fields
        assert alibaba.volatile["status"] == -2 and alibaba.volatile["throughput_last_30m"]["p50"] == 11

    def test_volatile_fields_do_not_change_the_content_hash(self):
        data = json.loads(QWEN.read_bytes())
        _, before = endpoint_observations(json.dumps(data).encode())
        for endpoint in data["data"]["endpoints"]:
            endpoint["uptime_last_30m"] = 42.0
        _, after = endpoint_observations(json.dumps(data).encode())
        assert [o.content_hash for o in before] == [o.content_hash for o in after]

    def test_older_shapes_without_tag_get_one_like_openrouter(self):
        assert endpoint_key("x/y", {"provider_name": "DeepInfra", "quantization": "fp8"}) == (
            "x/y@deepinfra/fp8",
            "deepinfra",
        )
        assert endpoint_key("x/y", {"provider_name": "Google AI Studio", "quantization": None})[0] == (
            "x/y@google-ai-studio"
        )


def test_frontend_scan_finds_the_real_orphans():
    listed = {o.key for o in model_observations(V1_MODELS.read_bytes())}
    frontend = json.loads(FRONTEND_HOURS[1].read_bytes())["data"]
    with_endpoint = {fe["slug"] for fe in frontend if fe["endpoint"]}
    expected = {fe["slug"] for fe in frontend if not fe["endpoint"]} - with_endpoint - listed
    scan = frontend_scan(FRONTEND_HOURS[1].read_bytes(), listed)
    assert set(scan.orphans) == expected and len(expected) > 100
    assert scan.entries == len(frontend)
    assert all(o.orphaned and o.source == "frontend_models" for o in scan.orphan_observations())


class TestFieldChanges:
    def test_price_limits_and_other_fields_are_told_apart(self):
        before = {"pricing": {"prompt": "1", "completion": "2"}, "context_length": 10, "name": "a"}
        after = {"pricing": {"prompt": "1", "completion": "3"}, "context_length": 20, "name": "a", "new": True}
        assert field_changes(before, after) == [
            ("limits_changed", "context_length", 10, 20),
            ("changed", "new", None, True),
            ("price_changed", "pricing.completion", "2", "3"),
        ]

    def test_a_new_price_field_is_a_price_change_from_nothing(self):
        changes = field_changes({"pricing": {"prompt": "1"}}, {"pricing": {"prompt": "1", "input_cache_read": "0.1"}})
        assert changes == [("price_changed", "pricing.input_cache_read", None, "0.1")]
