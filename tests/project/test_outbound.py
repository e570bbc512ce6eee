"""modelgraph.outbound: the failure classifier, the retry policy and the client factory (over loopback HTTP)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpcore
import httpx
import pytest

from modelgraph.outbound import (
    FailureKind,
    RetryPolicy,
    async_client,
    classify_exception,
    classify_status,
    retry_after_seconds,
    retryable,
    sync_client,
    user_agent,
)


class TestClassifyStatus:
    @pytest.mark.parametrize("status", [200, 201, 204, 299])
    def test_2xx_is_no_failure(self, status):
        assert classify_status(status) is None

    @pytest.mark.parametrize(
        ("status", "kind"),
        [
            (401, FailureKind.AUTH),
            (403, FailureKind.AUTH),
            (429, FailureKind.RATE_LIMITED),
            (408, FailureKind.TIMEOUT),
            (504, FailureKind.TIMEOUT),
            (524, FailureKind.TIMEOUT),
            (500, FailureKind.SERVER),
            (503, FailureKind.SERVER),
            (529, FailureKind.SERVER),
            (400, FailureKind.CLIENT),
            (404, FailureKind.CLIENT),
            (422, FailureKind.CLIENT),
            (301, FailureKind.REDIRECT),
            (307, FailureKind.REDIRECT),
            (101, FailureKind.UNEXPECTED),
        ],
    )
    def test_each_status_has_one_kind(self, status, kind):
        assert classify_status(status) is kind


class TestClassifyException:
    @pytest.mark.parametrize(
        ("exc", "kind"),
        [
            (TimeoutError(), FailureKind.TIMEOUT),
            (httpx.ReadTimeout("slow"), FailureKind.TIMEOUT),
            (httpx.ConnectTimeout("slow"), FailureKind.TIMEOUT),
            (httpcore.ReadTimeout("slow"), FailureKind.TIMEOUT),
            (httpx.ConnectError("refused"), FailureKind.CONNECT),
            (httpcore.ConnectError("refused"), FailureKind.CONNECT),
            (ConnectionRefusedError(), FailureKind.CONNECT),
            (httpx.RemoteProtocolError("peer closed"), FailureKind.TRUNCATED),
            (httpx.ReadError("reset"), FailureKind.TRUNCATED),
            (httpcore.RemoteProtocolError("peer closed"), FailureKind.TRUNCATED),
            (httpx.DecodingError("bad gzip"), FailureKind.DECODE),
            (ValueError("not JSON"), FailureKind.DECODE),
            (httpx.UnsupportedProtocol("ftp"), FailureKind.CONFIG),
            (httpx.InvalidURL("no host"), FailureKind.CONFIG),
            (httpx.WriteError("broken pipe"), FailureKind.NETWORK),
            (httpcore.ProxyError("proxy said no"), FailureKind.NETWORK),
            (OSError("no route"), FailureKind.NETWORK),
            (KeyError("our bug"), FailureKind.UNEXPECTED),
        ],
    )
    def test_each_exception_has_one_kind(self, exc, kind):
        assert classify_exception(exc) is kind

    def test_transient_failures_are_retryable_and_our_mistakes_are_not(self):
        assert all(retryable(kind) for kind in ("timeout", "connect", "truncated", "network", "rate_limited", "server"))
        assert not any(retryable(kind) for kind in ("auth", "client", "redirect", "decode", "config", "unexpected"))
        assert not retryable(None)


class TestRetryPolicy:
    def test_backoff_doubles_from_the_base(self):
        policy = RetryPolicy(backoff=0.5, backoff_max=100, jitter=0)
        assert [policy.wait(attempt) for attempt in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]

    def test_backoff_never_passes_its_cap(self):
        policy = RetryPolicy(backoff=1, backoff_max=3, jitter=0.5)
        assert all(policy.wait(attempt) <= 3 for attempt in range(1, 12) for _ in range(20))
        assert RetryPolicy(backoff=1, backoff_max=3, jitter=0).wait(10) == 3

    def test_jitter_stays_within_its_bounds(self):
        policy = RetryPolicy(backoff=1, backoff_max=100, jitter=0.25)
        waits = [policy.wait(3) for _ in range(500)]
        assert all(3.0 <= wait <= 5.0 for wait in waits)
        assert len(set(waits)) > 1  # the jitter spreads retries out

    def test_retry_after_is_honoured_up_to_the_cap(self):
        policy = RetryPolicy(backoff=1, retry_after_max=30, jitter=0.5)
        assert policy.wait(1, retry_after=7.5) == 7.5
        assert policy.wait(4, retry_after=0) == 0
        assert policy.wait(1, retry_after=600) == 30

    def test_retried_statuses_follow_the_kinds_unless_listed(self):
        by_kind = RetryPolicy()
        assert by_kind.retries_status(503) and by_kind.retries_status(429) and by_kind.retries_status(408)
        assert not by_kind.retries_status(404) and not by_kind.retries_status(401)
        listed = RetryPolicy(statuses=frozenset({425, 503}))
        assert listed.retries_status(425) and listed.retries_status(503) and not listed.retries_status(501)

    def test_retried_exceptions_follow_the_kinds(self):
        policy = RetryPolicy()
        assert policy.retries_exception(httpx.ConnectError("refused"))
        assert not policy.retries_exception(httpx.DecodingError("bad gzip"))
        assert RetryPolicy(retry_on=frozenset({FailureKind.DECODE})).retries_exception(httpx.DecodingError("bad"))

    def test_sleep_is_injectable(self):
        slept: list[float] = []
        policy = RetryPolicy(sleep=slept.append)
        policy.sleep(policy.wait(1, retry_after=2))
        assert slept == [2]


class TestRetryAfterSeconds:
    def test_delta_seconds(self):
        assert retry_after_seconds("7") == 7.0 and retry_after_seconds(" 1.5 ") == 1.5

    def test_http_date(self):
        now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
        header = format_datetime(now + timedelta(seconds=30), usegmt=True)
        assert retry_after_seconds(header, now=now.timestamp()) == pytest.approx(30)

    def test_a_date_in_the_past_means_now(self):
        now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
        header = format_datetime(now - timedelta(minutes=5), usegmt=True)
        assert retry_after_seconds(header, now=now.timestamp()) == 0

    @pytest.mark.parametrize("value", [None, "", "soon", "-"])
    def test_absent_or_unreadable_is_none(self, value):
        assert retry_after_seconds(value) is None


class TestClients:
    @pytest.fixture
    def redirecting(self, httpserver):
        httpserver.expect_request("/start").respond_with_data(
            "", status=302, headers={"Location": httpserver.url_for("/elsewhere")}
        )
        httpserver.expect_request("/elsewhere").respond_with_data("followed")
        return httpserver

    def test_the_sync_client_never_follows_a_redirect_and_says_who_it_is(self, redirecting):
        with sync_client("ingestion", timeout=5) as client:
            response = client.get(redirecting.url_for("/start"))
        assert response.status_code == 302
        assert [request.path for request, _ in redirecting.log] == ["/start"]
        request = redirecting.log[0][0]
        assert request.headers["User-Agent"] == user_agent("ingestion")
        assert request.headers["User-Agent"].startswith("ModelGraph/") and "(ingestion)" in user_agent("ingestion")

    def test_the_async_client_never_follows_a_redirect_and_says_who_it_is(self, redirecting):
        async def fetch() -> httpx.Response:
            async with async_client(
                "snapshots", timeout=5, base_url=redirecting.url_for(""), headers={"Accept": "application/json"}
            ) as client:
                return await client.get("/start")

        response = asyncio.run(fetch())
        assert response.status_code == 302
        assert [request.path for request, _ in redirecting.log] == ["/start"]
        request = redirecting.log[0][0]
        assert request.headers["User-Agent"] == user_agent("snapshots")
        assert request.headers["Accept"] == "application/json"
