"""The request id: a client's X-Request-Id (or a new one) comes back as `x-request-id`, lands in the request log row,
and is on every JSON log line the request writes — under uvicorn, through both ways /v1/ is served."""

from __future__ import annotations

import io
import json
import logging
import re

import httpx
import pytest

from modelgraph.logging_json import JsonFormatter
from routing.models import RequestLog
from tests.routing.conftest import chat_body

pytestmark = pytest.mark.django_db(transaction=True)
GENERATED = re.compile(r"[0-9a-f]{32}")


def chat(url: str, model: str, **headers: str) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=10) as client:
        return client.post(
            "/v1/chat/completions", content=chat_body(model), headers={"Content-Type": "application/json", **headers}
        )


class TestRoundTrip:
    def test_the_clients_id_comes_back_and_is_in_the_request_log(self, catalogue, upstreams, live_gateway):
        response = chat(live_gateway.url, "chat-model@prov-a", **{"X-Request-Id": "client-req-42"})
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "client-req-42"
        assert RequestLog.objects.get().request_id == "client-req-42"

    def test_without_one_an_id_is_made_up_and_kept(self, catalogue, upstreams, live_gateway):
        response = chat(live_gateway.url, "chat-model@prov-a")
        made = response.headers["x-request-id"]
        assert GENERATED.fullmatch(made)
        assert RequestLog.objects.get().request_id == made

    @pytest.mark.parametrize("hostile", ["has spaces in it", "x" * 101, "<script>", "-starts-with-a-dash"])
    def test_an_unusable_id_is_replaced_never_echoed(self, catalogue, upstreams, live_gateway, hostile):
        response = chat(live_gateway.url, "chat-model@prov-a", **{"X-Request-Id": hostile})
        assert GENERATED.fullmatch(response.headers["x-request-id"])
        assert RequestLog.objects.get().request_id == response.headers["x-request-id"]

    def test_errors_carry_it_too(self, catalogue, upstreams, live_gateway):
        response = chat(live_gateway.url, "no-such-model", **{"X-Request-Id": "lost-one"})
        assert response.status_code == 404 and response.headers["x-request-id"] == "lost-one"
        row = RequestLog.objects.get()
        assert (row.status, row.request_id) == (404, "lost-one")


@pytest.fixture
def json_lines():
    """What the routing loggers write, as a JSON handler would write it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("routing")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_log_lines_written_while_serving_a_request_carry_its_id(
    catalogue, upstreams, make_pool, live_gateway, json_lines
):
    make_pool("tools", capability="tool-use", strategy="cheapest", max_attempts=1, failures_to_deactivate=1)
    upstreams.c.configure(status=500)
    response = chat(live_gateway.url, "tool-use", **{"X-Request-Id": "trace-7f3a"})
    assert response.status_code == 502
    (line,) = [line for line in json_lines() if "deactivated" in line["message"]]
    assert line["request_id"] == "trace-7f3a"
    assert line["level"] == "WARNING" and line["logger"] == "routing.rotation"


class TestMadeUpIds:
    def test_ids_are_distinct_within_a_process_and_across_a_fork(self):
        import os

        from modelgraph.request_id import request_id_for

        ours = {request_id_for(None) for _ in range(10_000)}
        assert len(ours) == 10_000 and all(GENERATED.fullmatch(made) for made in ours)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child writes the ids it makes; it shares the parent's state up to the fork
            os.close(read)
            os.write(write, " ".join(request_id_for(None) for _ in range(100)).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            theirs = set(pipe.read().split())
        os.waitpid(pid, 0)
        assert len(theirs) == 100 and not theirs & ours
        assert not theirs & {request_id_for(None) for _ in range(100)}  # the parent's next ones differ too
