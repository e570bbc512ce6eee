"""Fault scenarios against fake upstreams on loopback: each ends rotated, retried after the right delay,
deactivated, or as an error without duplicate output."""

from __future__ import annotations

import json

import pytest
from django.test import AsyncClient

from routing.models import EventKind, Outcome, RequestLog, RetryScope, RouteState, RoutingEvent
from tests.routing.conftest import KEY_A, chat_body, run, sse_data


async def post(body):
    return await AsyncClient().post("/v1/chat/completions", data=body, content_type="application/json")


async def stream(body) -> tuple[int, bytes]:
    response = await post(body)
    if not response.streaming:
        return response.status_code, response.content
    return response.status_code, b"".join([part async for part in response.streaming_content])


def contents(data: list[str]) -> str:
    text = ""
    for item in data:
        if item != "[DONE]" and "choices" in (chunk := json.loads(item)) and chunk["choices"]:
            text += chunk["choices"][0]["delta"].get("content", "")
    return text


@pytest.mark.django_db
class TestRateLimits:
    def test_429_with_retry_after_is_retried_after_exactly_that_delay(self, catalogue, upstreams, sleep):
        upstreams.a.configure("chat-model-a", fail_first=1, error_status=429, retry_after=7)
        response = run(post, chat_body("chat-model@prov-a"))
        assert response.status_code == 200
        assert sleep.delays == [pytest.approx(7.0, abs=0.05)]  # from the moment the 429 arrived
        assert len(upstreams.a.requests) == 2
        log = RequestLog.objects.get()
        assert log.attempts == 2 and log.attempt_log[0]["kind"] == "rate_limited"

    def test_429_rotates_at_once_to_another_provider_when_the_scope_allows(
        self, catalogue, upstreams, sleep, make_pool
    ):
        make_pool("coders", capability="code-generation", strategy="priority", priority_list=["@prov-a"])
        upstreams.a.configure(status=429, retry_after=7)
        response = run(post, chat_body("code-generation"))
        assert response.status_code == 200 and response["X-ModelGraph-Route"] != "coder-model@prov-a"
        assert sleep.delays == []  # nobody waits for a provider that is not retried

    def test_retry_after_longer_than_the_cap_gives_up_with_429(self, catalogue, upstreams, sleep):
        upstreams.a.configure(status=429, retry_after=120)
        response = run(post, chat_body("chat-model@prov-a"))
        assert response.status_code == 429 and response["Retry-After"] == "120"
        assert json.loads(response.content)["error"]["type"] == "rate_limit_error"
        assert sleep.delays == [] and len(upstreams.a.requests) == 1
        # Rate limits say nothing about health: no deactivation.
        assert not RouteState.objects.exists()


@pytest.mark.django_db
class TestServerErrors:
    def test_500_is_retried_with_backoff_on_the_same_offer(self, catalogue, upstreams, sleep):
        upstreams.b.configure("chat-model-b", fail_first=2, error_status=500)
        response = run(post, chat_body("chat-model@prov-b"))
        assert response.status_code == 200 and len(upstreams.b.requests) == 3
        first, second = sleep.delays
        assert 0.125 <= first <= 0.25 and 0.25 <= second <= 0.5  # equal jitter over 0.25 s, then 0.5 s

    def test_500_rotates_to_the_next_member_without_waiting(self, catalogue, upstreams, sleep, make_pool):
        make_pool("chat", capability="tool-use", strategy="cheapest")
        upstreams.c.configure(status=500)
        response = run(post, chat_body("tool-use"))
        assert response.status_code == 200 and response["X-ModelGraph-Route"] == "chat-model@prov-b"
        assert sleep.delays == []

    def test_same_model_scope_never_leaves_the_first_model(self, catalogue, upstreams, make_pool):
        make_pool("strict", strategy="cheapest", retry_scope=RetryScope.SAME_MODEL, max_attempts=5)
        upstreams.c.configure(status=500)
        upstreams.b.configure(status=500)
        upstreams.a.configure(status=500)
        response = run(post, chat_body("text-generation"))
        assert response.status_code == 502
        tried = {a["route"].split("@")[0] for a in RequestLog.objects.get().attempt_log}
        assert len(tried) == 1

    def test_a_timeout_moves_on(self, catalogue, upstreams, settings, make_pool):
        settings.ROUTING_REQUEST_TIMEOUT = 0.2
        make_pool("chat", capability="tool-use", strategy="cheapest")
        upstreams.c.configure(latency=1.0)
        response = run(post, chat_body("tool-use"))
        assert response.status_code == 200 and response["X-ModelGraph-Route"] == "chat-model@prov-b"
        assert RequestLog.objects.get().attempt_log[0]["kind"] == "timeout"

    def test_a_client_error_from_upstream_is_relayed_not_retried_and_keys_are_redacted(self, catalogue, upstreams):
        upstreams.a.configure(status=400, echo_key_in_error=True)
        response = run(post, chat_body("chat-model@prov-a"))
        assert response.status_code == 400 and len(upstreams.a.requests) == 1
        assert KEY_A not in response.content.decode() and "[redacted]" in response.content.decode()
        assert json.loads(response.content)["error"]["message"].startswith("fake 400")


@pytest.mark.django_db
class TestAuthFailures:
    def test_401_deactivates_the_whole_provider_and_rotates(self, catalogue, upstreams, make_pool):
        make_pool("chat", capability="tool-use", strategy="priority", priority_list=["@prov-a"])
        upstreams.a.configure(status=401, echo_key_in_error=True)
        response = run(post, chat_body("tool-use"))
        assert response.status_code == 200 and response["X-ModelGraph-Route"] != "chat-model@prov-a"
        state = RouteState.objects.get()
        assert state.provider == catalogue.providers["a"] and state.state == "deactivated"
        event = RoutingEvent.objects.get()
        assert event.kind == EventKind.PROVIDER_DEACTIVATED and "401" in event.message
        assert KEY_A not in json.dumps(event.detail) and KEY_A not in state.last_error
        # Every offer of the provider is out, for every model.
        upstreams.a.reset()
        assert run(post, chat_body("coder-model@prov-a")).status_code == 503
        assert upstreams.a.requests == []


@pytest.mark.django_db
class TestOddErrorText:
    """An upstream error message holding a NUL used to fail the request log, route state and event writes (the
    request itself ended in an exception, and a batched log writer lost its whole batch)."""

    @pytest.mark.parametrize(("status", "answered"), [(500, 502), (401, 502), (400, 400), (429, 429)])
    def test_a_nul_in_an_upstream_error_is_logged_as_an_escape(self, catalogue, upstreams, status, answered):
        upstreams.a.configure(status=status, error_message="bad \x00 thing")
        response = run(post, chat_body("chat-model@prov-a"))
        assert response.status_code == answered
        log = RequestLog.objects.get()
        assert "bad \\x00 thing" in log.error and "\x00" not in json.dumps(log.attempt_log)
        for state in RouteState.objects.all():
            assert "\x00" not in state.last_error


@pytest.mark.django_db
class TestStreamFailures:
    def test_stall_after_the_first_chunk_ends_with_an_error_event_and_no_duplicate(self, catalogue, upstreams):
        upstreams.b.configure(stall_after_first=True)
        status, content = run(stream, chat_body("chat-model@prov-b", stream=True))
        assert status == 200
        data = sse_data(content)
        assert contents(data) == "1 "  # the one chunk, once
        error = json.loads(data[-1])["error"]
        assert error["code"] == "stream_interrupted" and "stalled" in error["message"]
        assert "[DONE]" not in data
        assert len(upstreams.b.requests) == 1  # never retried into a second answer
        log = RequestLog.objects.get()
        assert log.outcome == Outcome.STREAM_ERROR and log.status == 200

    def test_a_stream_cut_mid_way_ends_with_an_error_event(self, catalogue, upstreams):
        upstreams.c.configure(cut_after=2)
        status, content = run(stream, chat_body("chat-model@prov-c", stream=True))
        data = sse_data(content)
        assert contents(data) == "1 2 " and json.loads(data[-1])["error"]["code"] == "stream_interrupted"
        assert "[DONE]" not in data and len(upstreams.c.requests) == 1

    def test_a_stream_that_fails_before_its_first_chunk_is_retried(self, catalogue, upstreams, make_pool):
        make_pool("chat", capability="tool-use", strategy="cheapest")
        upstreams.c.configure(cut_after=0)
        status, content = run(stream, chat_body("tool-use", stream=True))
        data = sse_data(content)
        assert status == 200 and contents(data) == "1 2 3 4 5 " and data[-1] == "[DONE]"
        assert len(upstreams.c.requests) == 1 and len(upstreams.b.requests) == 1

    def test_streaming_errors_before_the_first_chunk_get_a_status(self, catalogue, upstreams):
        upstreams.c.configure(status=503)
        status, content = run(stream, chat_body("chat-model@prov-c", stream=True))
        assert status == 502 and json.loads(content)["error"]["type"] == "upstream_error"

    def test_a_slow_first_token_times_out_and_moves_on(self, catalogue, upstreams, settings, make_pool):
        settings.ROUTING_FIRST_TOKEN_TIMEOUT = 0.2
        make_pool("chat", capability="tool-use", strategy="cheapest")
        upstreams.c.configure(first_token_delay=1.0)
        status, content = run(stream, chat_body("tool-use", stream=True))
        assert status == 200 and contents(sse_data(content)) == "1 2 3 4 5 "
        assert RequestLog.objects.get().attempt_log[0]["kind"] == "timeout"


@pytest.mark.django_db
class TestRateLimitRotation:
    def test_a_429_with_retry_after_takes_the_member_out_for_that_long(self, catalogue, upstreams, clock, make_pool):
        make_pool("coders", capability="code-generation", strategy="priority", priority_list=["@prov-a"])
        upstreams.a.configure(status=429, retry_after=7)
        assert run(post, chat_body("code-generation")).status_code == 200  # rotated to b at once
        upstreams.a.reset()
        second = run(post, chat_body("code-generation"))
        assert second.status_code == 200 and second["X-ModelGraph-Route"] != "coder-model@prov-a"
        assert upstreams.a.requests == []  # not asked again while its Retry-After runs
        clock.advance(7.5)
        third = run(post, chat_body("code-generation"))
        assert third["X-ModelGraph-Route"] == "coder-model@prov-a" and len(upstreams.a.requests) == 1

    def test_no_available_provider_says_when_to_retry(self, catalogue, upstreams, clock):
        upstreams.a.configure(status=429, retry_after=120)
        assert run(post, chat_body("chat-model@prov-a")).status_code == 429
        clock.advance(20)
        response = run(post, chat_body("chat-model@prov-a"))
        assert response.status_code == 503 and json.loads(response.content)["error"]["code"] == "no_available_provider"
        assert response["Retry-After"] == "100"  # the soonest moment a member comes back
        assert len(upstreams.a.requests) == 1

    def test_retry_after_is_at_least_one_second(self, catalogue, upstreams, clock):
        upstreams.a.configure(status=429, retry_after=120)
        run(post, chat_body("chat-model@prov-a"))
        clock.advance(119.8)
        response = run(post, chat_body("chat-model@prov-a"))
        assert response.status_code == 503 and response["Retry-After"] == "1"

    def test_a_member_on_standby_gives_the_default_retry_after(self, catalogue, upstreams):
        from routing.models import RouteStateValue
        from routing.services import route_state_set

        route_state_set(provider_id=catalogue.providers["a"].pk, value=RouteStateValue.STANDBY)
        response = run(post, chat_body("chat-model@prov-a"))
        assert response.status_code == 503 and response["Retry-After"] == "30"


@pytest.mark.django_db
class TestBrokenStreams:
    def test_a_malformed_chunk_mid_stream_is_a_failure_not_a_success(self, catalogue, upstreams):
        upstreams.b.configure(malformed=True)
        status, content = run(stream, chat_body("chat-model@prov-b", stream=True))
        data = sse_data(content)
        assert status == 200 and contents(data) == "1 "
        assert json.loads(data[-1])["error"]["code"] == "stream_interrupted" and "[DONE]" not in data
        assert not any("broken" in item for item in data)  # the malformed chunk never reaches the client
        log = RequestLog.objects.get()
        assert log.outcome == Outcome.STREAM_ERROR and "malformed" in log.error

    def test_a_malformed_first_chunk_is_retried_elsewhere(self, catalogue, upstreams, make_pool):
        make_pool("chat", capability="tool-use", strategy="cheapest")
        upstreams.c.configure(malformed=True, tokens=1)
        status, content = run(stream, chat_body("tool-use", stream=True))
        assert status == 200 and contents(sse_data(content)) == "1 2 3 4 5 "
        log = RequestLog.objects.get()
        assert log.attempts == 2 and log.attempt_log[0]["kind"] == "stream" and log.outcome == Outcome.SUCCESS

    def test_an_event_without_end_is_cut_at_the_limit_with_an_error_event(self, catalogue, upstreams, settings):
        """After the first chunk the upstream sends one event that never ends: the gateway refuses to hold more
        than ROUTING_MAX_RESPONSE_BYTES of it and ends the stream as failed, instead of filling its memory."""
        settings.ROUTING_MAX_RESPONSE_BYTES = 1024 * 1024
        upstreams.b.configure(endless=True)
        status, content = run(stream, chat_body("chat-model@prov-b", stream=True))
        data = sse_data(content)
        assert status == 200 and contents(data) == "1 " and "[DONE]" not in data
        error = json.loads(data[-1])["error"]
        assert error["code"] == "stream_interrupted" and "longer than 1,048,576 bytes" in error["message"]
        log = RequestLog.objects.get()
        assert log.outcome == Outcome.STREAM_ERROR and "ROUTING_MAX_RESPONSE_BYTES" in log.error

    def test_an_answer_without_end_is_a_failed_attempt_retried_elsewhere(
        self, catalogue, upstreams, settings, make_pool
    ):
        settings.ROUTING_MAX_RESPONSE_BYTES = 1024 * 1024
        make_pool("chat", capability="tool-use", strategy="cheapest")
        upstreams.c.configure(endless=True)
        response = run(post, chat_body("tool-use"))
        assert response.status_code == 200
        assert json.loads(response.content)["choices"][0]["message"]["content"] == "1 2 3 4 5"
        attempt = RequestLog.objects.get().attempt_log[0]
        assert attempt["route"] == "chat-model@prov-c" and "larger than 1,048,576 bytes" in attempt["error"]

    def test_an_empty_stream_is_retried_elsewhere(self, catalogue, upstreams, make_pool):
        make_pool("chat", capability="tool-use", strategy="cheapest")
        upstreams.c.configure(empty=True)
        status, content = run(stream, chat_body("tool-use", stream=True))
        assert status == 200 and contents(sse_data(content)) == "1 2 3 4 5 "
        attempt = RequestLog.objects.get().attempt_log[0]
        assert attempt["route"] == "chat-model@prov-c" and "output" in attempt["error"]

    def test_an_empty_stream_with_nowhere_else_to_go_is_an_error(self, catalogue, upstreams):
        upstreams.c.configure(empty=True)
        status, content = run(stream, chat_body("chat-model@prov-c", stream=True))
        assert status == 502 and json.loads(content)["error"]["code"] == "upstream_failed"
        assert RequestLog.objects.get().outcome == Outcome.UPSTREAM_ERROR
