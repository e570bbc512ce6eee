"""The extra sources read from real OpenRouter bodies: endpoint details, uptime series, providers, app usage, events."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest

from snapshots.coverage import (
    ALL_PROVIDERS,
    APP_STATS,
    ENDPOINT_STATS,
    UPTIME_HOURLY,
    app_rows,
    endpoint_detail_observations,
    endpoint_stats_path,
    extras_due,
    provider_detail_observations,
    uptime_hourly_path,
    uptime_points,
)
from snapshots.entities import LIST_PATHS, V1_MODELS
from snapshots.events import field_changes
from snapshots.models import EntityKind
from tests.snapshots.replay import Catalogue, CatalogueServer

FRONTEND = Path(__file__).resolve().parents[1] / "fixtures" / "openrouter" / "frontend"
LIQUID = "25b2cca5-53f6-40e7-b47b-191ec968b7c2"  # liquid/lfm-7b at Liquid, in endpoint_liquid-lfm-7b.json


class TestEndpointDetails:
    def test_each_endpoint_is_keyed_by_its_uuid_without_the_embedded_model_and_volatile_stats(self):
        observations = endpoint_detail_observations((FRONTEND / "endpoint_liquid-lfm-7b.json").read_bytes())
        assert len(observations) == 2
        liquid = next(o for o in observations if o.key == f"liquid/lfm-7b@{LIQUID}")
        assert liquid.kind == EntityKind.ENDPOINT_DETAIL and liquid.source == ENDPOINT_STATS
        assert (liquid.model_key, liquid.provider_key) == ("liquid/lfm-7b", "liquid")
        for name in ("is_disabled", "is_deranked", "limit_rpm", "limit_rpd", "provider_region", "variable_pricings"):
            assert name in liquid.fields
        assert liquid.fields["data_policy"]["paidModels"] == {"training": False}
        assert not {"model", "provider_info", "stats", "status"} & liquid.fields.keys()

    def test_the_hourly_stats_do_not_change_the_content_hash(self):
        body = json.loads((FRONTEND / "endpoint-stats_2025-05-26.json").read_bytes())
        before = endpoint_detail_observations(json.dumps(body).encode())[0]
        body["data"][0]["stats"]["p50_latency"] += 100
        body["data"][0]["status"] = -5
        after = endpoint_detail_observations(json.dumps(body).encode())[0]
        assert before.key == after.key == "meta-llama/llama-3.1-8b-instruct:free@b9e3354b-1533-4d33-9961-0ea9e6e0ff04"
        assert before.content_hash == after.content_hash
        body["data"][0]["is_deranked"] = True
        assert endpoint_detail_observations(json.dumps(body).encode())[0].content_hash != before.content_hash

    def test_one_uuid_serving_two_variants_makes_two_details(self):
        body = json.loads((FRONTEND / "endpoint_liquid-lfm-7b.json").read_bytes())
        thinking = {**body["data"][0], "model_variant_slug": "liquid/lfm-7b:thinking", "variant": "thinking"}
        keys = {o.key for o in endpoint_detail_observations(json.dumps({"data": [body["data"][0], thinking]}).encode())}
        assert keys == {f"liquid/lfm-7b@{LIQUID}", f"liquid/lfm-7b:thinking@{LIQUID}"}

    def test_a_body_without_data_is_unreadable(self):
        with pytest.raises(ValueError, match="data"):
            endpoint_detail_observations(b'{"error": {"code": 404}}')


class TestEvents:
    @pytest.mark.parametrize(
        ("name", "before", "after", "kind"),
        [
            ("is_disabled", False, True, "status_changed"),
            ("is_deranked", False, True, "status_changed"),
            ("provider_region", None, "us-east-1", "region_changed"),
            ("limit_rpm", None, 60, "limits_changed"),
            ("limit_rpd", None, 1000, "limits_changed"),
            ("variable_pricings", [], [{"type": "prompt-threshold", "threshold": 200000}], "price_changed"),
        ],
    )
    def test_flags_limits_region_and_variable_prices_have_their_own_kind(self, name, before, after, kind):
        item = endpoint_detail_observations((FRONTEND / "endpoint_liquid-lfm-7b.json").read_bytes())[0].fields
        changes = field_changes({**item, name: before}, {**item, name: after})
        assert changes == [(kind, name, before, after)]

    def test_a_data_policy_change_names_the_exact_field(self):
        item = endpoint_detail_observations((FRONTEND / "endpoint_liquid-lfm-7b.json").read_bytes())[0].fields
        policy = {**item["data_policy"], "training": True}
        assert field_changes(item, {**item, "data_policy": policy}) == [
            ("changed", "data_policy.training", False, True)
        ]


class TestOtherBodies:
    def test_uptime_points_keep_the_gaps(self):
        points = uptime_points((FRONTEND / "uptime-hourly_liquid-lfm-7b.json").read_bytes())
        assert len(points) == 73 and points[0] == ("2025-05-21 23:00:00", 100)
        real = json.loads(Path(FRONTEND / "uptime-hourly_liquid-lfm-7b.json").read_bytes())["data"]["history"]
        assert [uptime for _, uptime in points] == [p["uptime"] for p in real]

    def test_all_providers_are_provider_details_keyed_by_slug(self):
        observations = provider_detail_observations((FRONTEND / "all-providers.json").read_bytes())
        assert len(observations) == 56 and {o.kind for o in observations} == {EntityKind.PROVIDER_DETAIL}
        ai21 = next(o for o in observations if o.key == "ai21")
        assert ai21.fields["headquarters"] == "IL" and ai21.fields["hasChatCompletions"] is True

    def test_app_rows_are_the_data_list(self):
        rows = json.loads((FRONTEND / "app_liquid-lfm-7b.json").read_bytes())
        assert app_rows(json.dumps({"data": rows}).encode())[0]["app"]["title"] == "FunTalk AI"

    def test_paths_are_the_ones_openrouter_pages_ask_for(self, settings):
        settings.SNAPSHOTS_APP_STATS_LIMIT = 20
        assert endpoint_stats_path("meta-llama/llama-3.1-8b-instruct", "free") == (
            "/api/frontend/stats/endpoint?permaslug=meta-llama%2Fllama-3.1-8b-instruct&variant=free"
        )
        assert uptime_hourly_path(LIQUID) == f"/api/frontend/stats/uptime-hourly?id={LIQUID}"
        assert LIST_PATHS[V1_MODELS] == "/api/v1/models?output_modalities=all"


class TestSchedule:
    def test_uptime_every_sixth_hour_and_app_usage_once_a_day(self, settings):
        settings.SNAPSHOTS_EXTRAS = (ENDPOINT_STATS, UPTIME_HOURLY, ALL_PROVIDERS, APP_STATS)
        settings.SNAPSHOTS_UPTIME_EVERY_HOURS, settings.SNAPSHOTS_ANALYTICS_HOUR = 6, 3
        at = [dt.datetime(2026, 8, 19, hour, tzinfo=dt.UTC) for hour in range(24)]
        assert [h.hour for h in at if UPTIME_HOURLY in extras_due(h)] == [0, 6, 12, 18]
        assert [h.hour for h in at if APP_STATS in extras_due(h)] == [3]
        assert all({ENDPOINT_STATS, ALL_PROVIDERS} <= extras_due(h) for h in at)

    def test_an_extra_left_out_of_the_setting_is_never_due(self, settings):
        settings.SNAPSHOTS_EXTRAS = (ENDPOINT_STATS,)
        assert extras_due(dt.datetime(2026, 8, 19, 0, tzinfo=dt.UTC)) == {ENDPOINT_STATS}


class TestReplay:
    def test_the_default_list_omits_what_output_modalities_all_lists(self):
        catalogue = Catalogue(limit=5, all_modalities=True)
        with CatalogueServer(catalogue) as server:
            default = httpx.get(f"{server.url}/api/v1/models").json()["data"]
            every = httpx.get(f"{server.url}{LIST_PATHS[V1_MODELS]}").json()["data"]
        extra = {m["id"] for m in every} - {m["id"] for m in default}
        assert len(extra) == 12 and "bytedance-seed/seedream-5-0-lite" in extra
        modalities = {tuple(m["architecture"]["output_modalities"]) for m in every if m["id"] in extra}
        assert modalities == {("image",), ("embeddings",), ("speech",), ("transcription",), ("video",), ("rerank",)}
        assert all(m["architecture"]["output_modalities"] != ["image"] for m in default)

    def test_the_frontend_routes_answer_in_the_real_shapes(self):
        catalogue = Catalogue(limit=40)
        fe = next(x for x in catalogue.frontend if x.get("endpoint"))
        with CatalogueServer(catalogue) as server:
            details = httpx.get(server.url + endpoint_stats_path(fe["permaslug"], fe["endpoint"]["variant"])).json()
            endpoint_id = details["data"][0]["id"]
            uptime = httpx.get(server.url + uptime_hourly_path(endpoint_id)).json()
            providers = httpx.get(server.url + "/api/frontend/all-providers").content
            missing = httpx.get(server.url + uptime_hourly_path("00000000-0000-0000-0000-000000000000"))
        real = json.loads((FRONTEND / "endpoint_liquid-lfm-7b.json").read_bytes())["data"][0]
        assert set(details["data"][0]) == set(real) - {"provider_slug"} | {"provider_group"}
        assert len(uptime["data"]["history"]) == 73 and uptime["data"]["history"][0]["date"] == "2025-05-20 12:00:00"
        assert providers == (FRONTEND / "all-providers.json").read_bytes()
        assert missing.status_code == 404
