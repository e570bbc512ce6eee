"""Request log and statistics in the API (admin key or staff) and in the admin; the capability tree in the admin."""

from __future__ import annotations

import pytest
from django.test import AsyncClient
from rest_framework.test import APIClient

from modelgraph.models import ApiKey
from routing.models import Pool, RouteStateValue
from routing.services import route_state_set
from tests.routing.conftest import chat_body, run


async def traffic(upstreams):
    client = AsyncClient()
    for model in ("tool-use", "tool-use", "chat-model@prov-a", "nope"):
        await client.post("/v1/chat/completions", data=chat_body(model), content_type="application/json")


@pytest.fixture
def api(db) -> APIClient:
    raw = ApiKey.generate()
    ApiKey.objects.create(name="ops", key_hash=ApiKey.hash(raw), prefix=raw[:8])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.django_db
class TestRoutingAPI:
    def test_stats_need_an_admin_key(self, catalogue):
        assert APIClient().get("/api/routing/stats").status_code in (401, 403)

    def test_stats_count_requests_outcomes_latency_tokens_and_cost(self, catalogue, upstreams, api, make_pool):
        make_pool("cheap-tools", capability="tool-use", strategy="cheapest")
        upstreams.a.configure(status=500)
        run(traffic, upstreams)
        body = api.get("/api/routing/stats?window=1h").json()
        assert body["requests"] == 4 and body["succeeded"] == 2
        assert body["outcomes"] == {"success": 2, "upstream_error": 1, "client_error": 1}
        assert body["latency_ms"]["p50"] is not None and body["prompt_tokens"] == 24
        assert float(body["cost"]) > 0
        pools = {row["pool"]: row for row in body["pools"]}
        assert pools["cheap-tools"]["requests"] == 2 and pools["cheap-tools"]["success_rate"] == 1.0
        assert {row["route"] for row in body["offers"]} >= {"chat-model@prov-c", "chat-model@prov-a"}

    def test_bad_window_is_400(self, api):
        assert api.get("/api/routing/stats?window=1y").status_code == 400

    @pytest.mark.parametrize(
        ("url", "parameter"),
        [
            ("/api/routing/stats?window=1y", "window"),
            ("/api/routing/stats?window=", "window"),
            ("/api/routing/requests?outcome=bogus", "outcome"),
            ("/api/routing/requests?outcome=", "outcome"),
        ],
    )
    def test_a_bad_parameter_is_400_naming_it(self, api, url, parameter):
        response = api.get(url)
        assert response.status_code == 400
        body = response.json()
        assert list(body["errors"]) == [parameter] and body["detail"].startswith(f"Invalid parameter '{parameter}'")

    def test_request_log_list_and_filters(self, catalogue, upstreams, api):
        run(traffic, upstreams)
        body = api.get("/api/routing/requests?outcome=success").json()
        assert body["count"] == 3 and body["results"][0]["route"].startswith("chat-model@")
        assert api.get("/api/routing/requests?outcome=bogus").status_code == 400

    def test_states(self, catalogue, api):
        route_state_set(provider_id=catalogue.providers["b"].pk, value=RouteStateValue.STANDBY)
        (row,) = api.get("/api/routing/states").json()["results"]
        assert (row["kind"], row["subject"], row["state"]) == ("provider", "provider prov-b", "standby")


@pytest.mark.django_db
class TestAdmin:
    def test_pages_render(self, admin_client, catalogue, upstreams, make_pool):
        pool = make_pool("tools", capability="tool-use")
        run(traffic, upstreams)
        route_state_set(mapping_id=catalogue.mappings["chat-model@a"].pk, value=RouteStateValue.STANDBY)
        for path in (
            "/admin/routing/capability/",
            "/admin/routing/pool/",
            f"/admin/routing/pool/{pool.pk}/change/",
            "/admin/routing/routestate/",
            "/admin/routing/routingevent/",
            "/admin/routing/requestlog/",
            "/admin/routing/requestlog/?stats_window=7d",
        ):
            assert admin_client.get(path).status_code == 200, path
        page = admin_client.get("/admin/routing/requestlog/").content.decode()
        assert 'id="routing-stats"' in page
        assert "— Code generation" in admin_client.get("/admin/routing/capability/").content.decode()

    def test_state_actions_emit_events(self, admin_client, catalogue):
        state = route_state_set(mapping_id=catalogue.mappings["chat-model@a"].pk, value=RouteStateValue.STANDBY)
        admin_client.post("/admin/routing/routestate/", {"action": "reactivate", "_selected_action": [state.pk]})
        state.refresh_from_db()
        assert state.state == RouteStateValue.ACTIVE
        assert list(state.events.order_by("at", "pk").values_list("kind", flat=True)) == ["standby", "reactivated"]
        page = admin_client.get(f"/admin/routing/routestate/{state.pk}/change/").content.decode()
        assert "reactivated" in page

    def test_a_curator_adds_a_capability_node_and_a_pool(self, admin_client, catalogue, tree):
        response = admin_client.post(
            "/admin/routing/capability/add/",
            {
                "name": "Cheap chat",
                "slug": "cheap-chat",
                "parent": tree["text-generation"].pk,
                "endpoint": "chat",
                "enabled": "on",
                "catalogue_capabilities": '["tools"]',
                "excluded_capabilities": "[]",
                "input_modalities": "[]",
                "output_modalities": "[]",
                "member_pattern": "",
                "pools-TOTAL_FORMS": "0",
                "pools-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        bad = admin_client.post(
            "/admin/routing/capability/add/",
            {
                "name": "Bad",
                "slug": "bad",
                "endpoint": "chat",
                "catalogue_capabilities": '["telepathy"]',
                "excluded_capabilities": "[]",
                "input_modalities": "[]",
                "output_modalities": "[]",
                "member_pattern": "(",
                "pools-TOTAL_FORMS": "0",
                "pools-INITIAL_FORMS": "0",
            },
        )
        assert bad.status_code == 200 and "A list of" in bad.content.decode()

        async def models():
            return await AsyncClient().get("/v1/models/cheap-chat")

        assert run(models).json()["modelgraph"]["models"] == 1
        assert not Pool.objects.exists()


@pytest.mark.django_db(transaction=True)
class TestRouteStateAdminActions:
    def test_ending_a_cooldown_goes_through_the_service_and_records_an_event(self, catalogue, admin_client):
        from routing.models import EventKind, RouteState, RoutingEvent
        from routing.services import route_state_deactivate

        provider = catalogue.providers["b"]
        route_state_deactivate(provider_id=provider.pk, reason="refused our key", cooldown_seconds=3600)
        state = RouteState.objects.get(provider=provider)
        response = admin_client.post(
            "/admin/routing/routestate/",
            {"action": "probe_at_next_request", "_selected_action": [state.pk]},
        )
        assert response.status_code == 302
        state.refresh_from_db()
        assert state.state == RouteStateValue.DEACTIVATED and state.deactivated_until <= state.changed_at
        event = RoutingEvent.objects.filter(state=state).latest("pk")
        assert event.kind == EventKind.COOLDOWN_ENDED and "admin" in event.message
