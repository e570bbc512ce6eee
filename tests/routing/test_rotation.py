"""Rotation: deactivation after consecutive failures or an error rate, provider-wide on auth failure or outage,
recovery after the cooldown through a probe, and state that survives a restart."""

from __future__ import annotations

import pytest
from django.test import AsyncClient

from routing.models import EventKind, RouteState, RouteStateValue, RoutingEvent
from routing.router import Router, get_router, router_reset
from routing.services import route_state_set
from tests.routing.conftest import chat_body, run


async def post(model: str) -> tuple[int, str]:
    response = await AsyncClient().post("/v1/chat/completions", data=chat_body(model), content_type="application/json")
    return response.status_code, response.headers.get("X-ModelGraph-Route", "")


async def posts(model: str, count: int) -> list[tuple[int, str]]:
    return [await post(model) for _ in range(count)]


@pytest.fixture
def one_attempt_pool(make_pool):
    """tool-use (chat-model at a, b, c), cheapest first (c), one attempt per request so each failure is seen."""

    def make(**fields):
        settings = {"strategy": "cheapest", "max_attempts": 1, "failures_to_deactivate": 3, "cooldown_seconds": 60}
        return make_pool("tools", capability="tool-use", **{**settings, **fields})

    return make


@pytest.mark.django_db
class TestDeactivation:
    def test_n_consecutive_failures_deactivate_the_offer_with_an_event(self, catalogue, upstreams, one_attempt_pool):
        one_attempt_pool()
        upstreams.c.configure(status=500)
        results = run(posts, "tool-use", 4)
        assert [status for status, _ in results] == [502, 502, 502, 200]
        assert results[3][1] == "chat-model@prov-b"  # c is out of rotation after its third failure
        assert len(upstreams.c.requests) == 3
        state = RouteState.objects.get()
        assert state.mapping == catalogue.mappings["chat-model@c"] and state.state == RouteStateValue.DEACTIVATED
        assert state.reason == "3 consecutive failures" and state.consecutive_failures == 3
        (event,) = RoutingEvent.objects.all()
        assert event.kind == EventKind.MODEL_DEACTIVATED and event.state == state

    def test_a_success_resets_the_count(self, catalogue, upstreams, one_attempt_pool):
        one_attempt_pool()
        upstreams.c.configure(error_every=3, error_status=500)  # ok, ok, fail, ok, ok, fail…
        run(posts, "tool-use", 9)
        assert not RouteState.objects.exists()

    def test_a_flapping_offer_is_deactivated_by_its_error_rate(self, catalogue, upstreams, one_attempt_pool):
        one_attempt_pool(error_rate_threshold=0.5, error_min_requests=6)
        upstreams.c.configure(error_every=2, error_status=503)  # never two failures in a row, half of them fail
        results = run(posts, "tool-use", 8)
        assert [route for _, route in results[:6]] == ["chat-model@prov-c"] * 6
        assert {route for _, route in results[6:]} == {"chat-model@prov-b"}
        state = RouteState.objects.get()
        assert state.reason.startswith("3 of the last 6 requests failed")

    def test_connection_failures_take_the_whole_provider_out(self, catalogue, upstreams, one_attempt_pool):
        one_attempt_pool(failures_to_deactivate=2)
        catalogue.providers["c"].api_base_url = "http://127.0.0.1:9/v1"
        catalogue.providers["c"].save()
        results = run(posts, "tool-use", 3)
        assert [status for status, _ in results] == [502, 502, 200]
        state = RouteState.objects.get()
        assert state.provider == catalogue.providers["c"] and "connection failures" in state.reason
        assert RoutingEvent.objects.get().kind == EventKind.PROVIDER_DEACTIVATED

    def test_standby_is_respected_and_never_overwritten(self, catalogue, upstreams, one_attempt_pool):
        one_attempt_pool()
        route_state_set(mapping_id=catalogue.mappings["chat-model@c"].pk, value=RouteStateValue.STANDBY)
        assert run(post, "tool-use") == (200, "chat-model@prov-b")
        assert upstreams.c.requests == []


@pytest.mark.django_db
class TestRecovery:
    def deactivate_c(self, upstreams):
        upstreams.c.configure(status=500)
        run(posts, "tool-use", 3)
        assert RouteState.objects.get().state == RouteStateValue.DEACTIVATED

    def test_after_the_cooldown_a_probe_recovers_the_offer(self, catalogue, upstreams, one_attempt_pool, clock):
        one_attempt_pool(cooldown_seconds=60)
        self.deactivate_c(upstreams)
        upstreams.c.reset()  # healthy again
        clock.advance(30)
        assert run(post, "tool-use")[1] == "chat-model@prov-b"
        assert upstreams.c.requests == []  # still cooling down: not even probed
        clock.advance(31)

        async def scenario():
            first = await post("tool-use")  # finds the cooldown over: probes in the background, routes elsewhere
            await get_router().drain()
            return first, await post("tool-use")

        first, second = run(scenario)
        assert first[1] == "chat-model@prov-b"
        probe, served = upstreams.c.requests  # the probe, then the request routed to it once recovered
        assert probe["json"]["max_tokens"] == 1 and probe["json"]["stream"] is False
        assert served["json"]["messages"][0]["content"] == "hi"
        assert second[1] == "chat-model@prov-c"
        assert RouteState.objects.get().state == RouteStateValue.ACTIVE
        assert list(RoutingEvent.objects.order_by("at", "pk").values_list("kind", flat=True)) == [
            EventKind.MODEL_DEACTIVATED,
            EventKind.MODEL_RECOVERED,
        ]

    def test_a_failed_probe_doubles_the_cooldown(self, catalogue, upstreams, one_attempt_pool, clock):
        one_attempt_pool(cooldown_seconds=60)
        self.deactivate_c(upstreams)
        clock.advance(61)

        async def scenario():
            await post("tool-use")
            await get_router().drain()

        run(scenario)
        state = RouteState.objects.get()
        assert state.state == RouteStateValue.DEACTIVATED and state.failed_probes == 1
        assert state.deactivated_until.timestamp() == pytest.approx(clock.now + 120, abs=1)
        assert RoutingEvent.objects.filter(kind=EventKind.MODEL_PROBE_FAILED).count() == 1

    def test_a_provider_refusing_our_key_recovers_through_its_model_list(
        self, catalogue, upstreams, one_attempt_pool, clock
    ):
        one_attempt_pool(cooldown_seconds=60)
        upstreams.c.configure(status=401)
        run(post, "tool-use")
        assert RouteState.objects.get().provider == catalogue.providers["c"]
        upstreams.c.reset()
        clock.advance(61)

        async def scenario():
            await post("tool-use")
            await get_router().drain()
            return await post("tool-use")

        assert run(scenario)[1] == "chat-model@prov-c"
        assert upstreams.c.requests[0]["path"] == "/v1/models"
        assert RoutingEvent.objects.filter(kind=EventKind.PROVIDER_RECOVERED).exists()


@pytest.mark.django_db
class TestPersistence:
    def test_state_survives_a_restart(self, catalogue, upstreams, one_attempt_pool, clock):
        one_attempt_pool()
        upstreams.c.configure(status=500)
        run(posts, "tool-use", 3)
        upstreams.c.reset()
        router_reset(Router(clock=clock))  # a new process: nothing in memory, states come from the database
        assert run(post, "tool-use")[1] == "chat-model@prov-b"
        assert upstreams.c.requests == []

    def test_other_processes_pick_up_a_change_through_the_cache(
        self, catalogue, upstreams, one_attempt_pool, settings, django_capture_on_commit_callbacks
    ):
        one_attempt_pool()
        settings.ROUTING_STATE_REFRESH = 0
        mapping_id = catalogue.mappings["chat-model@c"].pk
        assert run(post, "tool-use")[1] == "chat-model@prov-c"
        # Another process (or a curator in the admin) takes c out: this router sees it at its next refresh.
        with django_capture_on_commit_callbacks(execute=True):
            route_state_set(mapping_id=mapping_id, value=RouteStateValue.STANDBY)
        assert run(post, "tool-use")[1] == "chat-model@prov-b"
        with django_capture_on_commit_callbacks(execute=True):
            route_state_set(mapping_id=mapping_id, value=RouteStateValue.ACTIVE)
        assert run(post, "tool-use")[1] == "chat-model@prov-c"
