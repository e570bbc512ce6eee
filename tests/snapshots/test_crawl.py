"""The crawler: bounded concurrency, retries with backoff, Retry-After, timeouts, failures reported not raised."""

from __future__ import annotations

import time

import pytest

from snapshots.crawl import Crawler, retry_after_seconds
from snapshots.entities import endpoints_path
from tests.snapshots.replay import Catalogue, CatalogueServer


@pytest.fixture
def small():
    return Catalogue(limit=40)


def test_concurrency_is_bounded_and_every_response_arrives(small):
    paths = [endpoints_path(m) for m in small.models]
    with CatalogueServer(small, latency=0.05) as server, Crawler(server.url, concurrency=8) as crawler:
        results = list(crawler.fetch_many(paths))
    assert sorted(r.path for r in results) == sorted(paths) and all(r.ok for r in results)
    assert 2 <= server.max_in_flight <= 8  # really concurrent, never above the bound


def test_a_slow_consumer_holds_back_the_producer(small):
    paths = [endpoints_path(m) for m in small.models]
    with CatalogueServer(small) as server, Crawler(server.url, concurrency=4) as crawler:
        for index, _ in enumerate(crawler.fetch_many(paths)):
            if index == 0:
                time.sleep(0.3)
                assert len(server.requests) <= 4 + 1  # no more than the permits were taken
            else:
                break


def test_server_errors_are_retried_with_backoff(small):
    path = endpoints_path(next(iter(small.models)))
    small.fail(path, 503, times=2)
    with CatalogueServer(small) as server, Crawler(server.url, retries=3, backoff=0.01) as crawler:
        result = crawler.fetch(path)
    assert result.ok and result.attempts == 3


def test_retry_after_is_waited_for(small):
    path = endpoints_path(next(iter(small.models)))
    small.fail(path, 429, times=1, retry_after=0.3)
    with CatalogueServer(small) as server, Crawler(server.url, retries=2, backoff=0.001) as crawler:
        started = time.monotonic()
        result = crawler.fetch(path)
    assert result.ok and result.attempts == 2 and time.monotonic() - started >= 0.3


def test_exhausted_retries_are_reported_not_raised(small):
    path = endpoints_path(next(iter(small.models)))
    small.fail(path, 500)
    with CatalogueServer(small) as server, Crawler(server.url, retries=2, backoff=0.001) as crawler:
        result = crawler.fetch(path)
    assert not result.ok and result.status == 500 and result.attempts == 3 and result.error == "HTTP 500"


def test_a_client_error_is_not_retried(small):
    with CatalogueServer(small) as server, Crawler(server.url, retries=3, backoff=0.001) as crawler:
        result = crawler.fetch(endpoints_path("nobody/nothing"))
    assert result.status == 404 and result.attempts == 1


def test_each_request_has_a_timeout(small):
    path = endpoints_path(next(iter(small.models)))
    with (
        CatalogueServer(small, latency=0.5) as server,
        Crawler(server.url, timeout=0.1, retries=1, backoff=0.001) as crawler,
    ):
        result = crawler.fetch(path)
    assert not result.ok and result.status == 0 and result.error.startswith("no complete answer within 0.1s")


def test_a_trickled_body_is_given_up_at_the_deadline(small):
    """A byte every 20 ms passes any read timeout; the whole answer has one deadline, so the attempt ends."""
    path = endpoints_path(next(iter(small.models)))
    small.fail(path, body="trickle", seconds=0.02)
    with CatalogueServer(small) as server, Crawler(server.url, timeout=0.3, retries=1, backoff=0.001) as crawler:
        started = time.monotonic()
        result = crawler.fetch(path)
    assert not result.ok and result.status == 0 and result.attempts == 2
    assert result.error.startswith("no complete answer within 0.3s") and time.monotonic() - started < 2


@pytest.mark.parametrize("body", ["endless", "bomb"])
def test_a_body_beyond_the_cap_is_refused_as_it_arrives(small, settings, body):
    """A body without end, or 250 KB of gzip that inflates to 256 MiB: refused at the cap, not retried."""
    settings.SNAPSHOTS_MAX_RESPONSE_BYTES = 1024 * 1024
    path = endpoints_path(next(iter(small.models)))
    small.fail(path, body=body)
    with CatalogueServer(small) as server, Crawler(server.url, timeout=5, retries=2, backoff=0.001) as crawler:
        result = crawler.fetch(path)
    assert not result.ok and result.status == 0 and result.attempts == 1
    assert "larger than 1,048,576 bytes" in result.error


def test_retry_after_parsing():
    assert retry_after_seconds("2.5") == 2.5
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
