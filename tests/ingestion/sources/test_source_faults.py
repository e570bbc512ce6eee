"""Source adapters under injected faults (timeouts, 429s, 5xx, malformed, truncated bodies); the replay server."""

from __future__ import annotations

import time

import pytest

from ingestion.sources import (
    SourceErrorKind,
)
from ingestion.sources.http import retry_after_seconds
from tests.ingestion.sources.support import ADAPTERS, FIRST_PATH, KEY, failing, run

pytest_plugins = ["tests.replay.fixtures"]


FAULTS = [  # (fault, options, kind, words in the message, attempts made)
    ("timeout", {"seconds": 3}, SourceErrorKind.TIMEOUT, "no response within 0.2s", 3),
    ("status", {"status": 429, "retry_after": "1"}, SourceErrorKind.RATE_LIMITED, "HTTP 429, Retry-After 1s", 3),
    ("status", {"status": 500}, SourceErrorKind.HTTP, "HTTP 500", 3),
    ("malformed", {}, SourceErrorKind.MALFORMED, "not valid JSON", 1),
    ("truncated", {"mode": "length"}, SourceErrorKind.MALFORMED, "truncated", 3),
    ("truncated", {"mode": "cut"}, SourceErrorKind.MALFORMED, "truncated", 1),
    ("schema_change", {}, SourceErrorKind.SCHEMA, "unexpected response shape", 1),
]


BODY_FAULTS = [  # a body that never completes or never ends: (fault, options, kind, words, attempts made)
    ("trickle", {"seconds": 0.02}, SourceErrorKind.TIMEOUT, "no complete response within 0.2s", 3),
    ("endless", {}, SourceErrorKind.MALFORMED, "larger than 1,048,576 bytes", 1),
    ("bomb", {}, SourceErrorKind.MALFORMED, "larger than 1,048,576 bytes", 1),
]


class TestFaults:
    @pytest.mark.parametrize("name", list(ADAPTERS))
    @pytest.mark.parametrize(("fault", "options", "kind", "words", "attempts"), FAULTS, ids=lambda v: str(v)[:18])
    def test_each_fault_is_a_clear_typed_error(
        self, name, fault, options, kind, words, attempts, build, replay_server, client, sleeps
    ):
        replay_server.mount(name)
        replay_server.fault(fault, **options)
        error = failing(build(name, timeout=0.2), replay_server, client)
        assert error.kind == kind and words in error.message
        assert error.message.startswith(f"{name}: GET {FIRST_PATH.get(name, '/v1/models')}")
        assert error.partial == [] and KEY not in str(error)
        assert len(replay_server.requests) == attempts
        if fault == "status" and options["status"] == 429:
            assert sleeps == [0.05, 0.05]  # Retry-After honoured up to the configured cap

    @pytest.mark.parametrize("name", list(ADAPTERS))
    @pytest.mark.parametrize(("fault", "options", "kind", "words", "attempts"), BODY_FAULTS, ids=lambda v: str(v)[:18])
    def test_a_body_that_never_completes_is_a_bounded_error(
        self, name, fault, options, kind, words, attempts, build, replay_server, client, sleeps, settings
    ):
        """Each read arrives well within the read timeout, or the body streams without end, or a small gzip inflates
        to a gigabyte: the attempt's deadline and the byte cap end it, instead of a run that never returns."""
        settings.INGESTION_MAX_RESPONSE_BYTES = 1024 * 1024
        replay_server.mount(name)
        replay_server.fault(fault, **options)
        started = time.monotonic()
        error = failing(build(name, timeout=0.2), replay_server, client)
        assert error.kind == kind and words in error.message, error.message
        assert error.message.startswith(f"{name}: GET {FIRST_PATH.get(name, '/v1/models')}")
        assert error.partial == [] and KEY not in str(error)
        assert len(replay_server.requests) == attempts
        assert time.monotonic() - started < attempts * 0.2 + 2

    def test_a_passing_rate_limit_is_waited_out(self, build, replay_server, client, sleeps):
        replay_server.mount("openai")
        replay_server.fault("status", status=429, retry_after="0.02", times=1)
        assert len(run(build("openai"), replay_server, client)) == 123
        assert sleeps == [0.02] and len(replay_server.requests) == 3 - 1

    def test_a_passing_server_error_is_retried_with_backoff(self, build, replay_server, client, sleeps):
        replay_server.mount("cohere")
        replay_server.fault("status", path="/v1/models", query={"page_token": None}, status=503, times=2)
        assert len(run(build("cohere"), replay_server, client)) == 35
        assert sleeps == [0.01, 0.02]

    @pytest.mark.parametrize(
        ("name", "second_page", "kept"),
        [
            ("anthropic", {"after_id": "claude-opus-4-1-20250805"}, 10),
            ("cohere", {"page_token": "eyJhZnRlciI6ICJjb21tYW5kLXI3Yi0xMi0yMDI0In0="}, 20),
            ("google", {"pageToken": "Ch9tb2RlbHMvdmVvLTMuMS1nZW5lcmF0ZS1wcmV2aWV3"}, 50),
        ],
    )
    def test_a_failing_second_page_keeps_the_first_as_partial(
        self, name, second_page, kept, build, replay_server, client
    ):
        replay_server.mount(name)
        (route,) = replay_server.fault("status", query=second_page, status=500)
        error = failing(build(name, page_size=10), replay_server, client)
        assert error.kind == SourceErrorKind.HTTP and "gave up after 3 attempts" in error.message
        assert len(error.partial) == kept and route.hits == 3
        assert all(o.source == name for o in error.partial)

    def test_a_failing_lab_keeps_the_labs_read_before_it(self, build, replay_server, client):
        replay_server.mount("huggingface")
        replay_server.fault("malformed", query={"author": "CohereForAI", "cursor": None})
        error = failing(build("huggingface"), replay_server, client, key=None)
        assert error.kind == SourceErrorKind.MALFORMED
        assert {o.external_id.split("/")[0] for o in error.partial} == {"meta-llama", "mistralai"}


class TestReplayServer:
    def test_latency_applies_to_every_request(self, build, replay_server, client):
        replay_server.latency = 0.05
        started = time.monotonic()
        run(build("anthropic", page_size=10), replay_server, client)
        assert time.monotonic() - started >= 0.1

    def test_an_unknown_route_is_a_404(self, build, replay_server, client):
        error = failing(build("openai"), replay_server, client)
        assert error.kind == SourceErrorKind.HTTP and "HTTP 404" in error.message

    def test_retry_after_as_an_http_date(self):
        assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
        assert retry_after_seconds("2") == 2.0 and retry_after_seconds("soon") is None
