"""The gateway under a real uvicorn (modelgraph.asgi): chunks pass through as they arrive, errors stay JSON."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from routing.models import RequestLog
from tests.routing.conftest import chat_body, sse_data

pytestmark = pytest.mark.django_db(transaction=True)


def stream_chat(client: httpx.Client, model: str):
    """A streamed chat completion through the live gateway, as a context manager over the response."""
    body = chat_body(model, stream=True)
    return client.stream("POST", "/v1/chat/completions", content=body, headers={"Content-Type": "application/json"})


def test_the_first_chunk_arrives_while_the_upstream_still_holds_the_rest(catalogue, upstreams, live_gateway):
    upstreams.b.configure(hold_after_first=True)
    with httpx.Client(base_url=live_gateway.url, timeout=10) as client:
        with stream_chat(client, "chat-model@prov-b") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = response.iter_raw()
            first = next(events)
            # The upstream has sent one chunk and waits for release(): what we hold now cannot have been buffered.
            assert json.loads(sse_data(first)[0])["choices"][0]["delta"]["content"] == "1 "
            upstreams.b.release()
            rest = b"".join(events)
    data = sse_data(first + rest)
    assert data[-1] == "[DONE]" and len([d for d in data if "content" in d]) == 5


def test_a_stall_after_the_first_chunk_ends_with_one_error_event(catalogue, upstreams, live_gateway):
    upstreams.a.configure(stall_after_first=True)
    with httpx.Client(base_url=live_gateway.url, timeout=10) as client:
        response = client.post(
            "/v1/chat/completions",
            content=chat_body("chat-model@prov-a", stream=True),
            headers={"Content-Type": "application/json"},
        )
    data = sse_data(response.content)
    assert [json.loads(d).get("error", {}).get("code") for d in data] == [None, "stream_interrupted"]
    assert len(upstreams.a.requests) == 1
    assert RequestLog.objects.get().outcome == "stream_error"


def test_errors_are_json_under_uvicorn_too(catalogue, upstreams, live_gateway):
    upstreams.c.configure(status=500)
    with httpx.Client(base_url=live_gateway.url, timeout=10) as client:
        unknown_path = client.get("/v1/engines")
        failing = client.post(
            "/v1/chat/completions", content=chat_body("chat-model@prov-c"), headers={"Content-Type": "application/json"}
        )
        models = client.get("/v1/models/")
        bad_json = client.post("/v1/chat/completions", content=b"{nope", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "invalid_json"
    assert unknown_path.status_code == 404 and unknown_path.json()["error"]["code"] == "unknown_url"
    assert failing.status_code == 502 and failing.json()["error"]["type"] == "upstream_error"
    assert failing.headers["X-ModelGraph-Attempts"] == "3"
    assert "text-generation" in {entry["id"] for entry in models.json()["data"]}


@pytest.fixture
def lane(transactional_db):
    from tests.routing.live import LiveServer

    server = LiveServer("routing.asgi").start()
    yield server
    server.stop()


class TestGatewayLane:
    def test_a_client_going_away_cancels_the_upstream_stream(self, catalogue, upstreams, lane):
        upstreams.b.configure(hold_after_first=True)
        with httpx.Client(base_url=lane.url, timeout=10) as client:
            with stream_chat(client, "chat-model@prov-b") as response:
                next(response.iter_raw())
        # The gateway notices the disconnect, closes the upstream stream and logs the request as cancelled.
        deadline = time.monotonic() + 5
        while not RequestLog.objects.filter(outcome="cancelled").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert RequestLog.objects.get().outcome == "cancelled"
        deadline = time.monotonic() + 5
        while upstreams.b.app.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
        assert upstreams.b.app.in_flight == 0

    def test_other_paths_are_the_project_s(self, catalogue, lane, settings):
        settings.ROUTING_MAX_BODY_BYTES = 100
        with httpx.Client(base_url=lane.url, timeout=10) as client:
            assert client.get("/api/health").status_code in (200, 503)
            head = client.head("/v1/models")
            too_large = client.post("/v1/chat/completions", content=chat_body("chat-model", padding="x" * 200))
        assert head.status_code == 200 and head.content == b""
        assert too_large.status_code == 413 and too_large.json()["error"]["code"] == "request_too_large"
