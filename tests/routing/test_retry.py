"""Retry policy: what a status means, Retry-After, exponential backoff with jitter, bounded attempts and time."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from routing import retry
from routing.candidates import RouteCandidate
from routing.policies import FailoverPolicy
from routing.retry import AttemptScheduler, Failure, classify_status, parse_retry_after

RETRYABLE = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
A1, A2, B1 = (
    RouteCandidate(1, 10, 1, "m", "a", "m"),
    RouteCandidate(2, 10, 2, "n", "a", "n"),
    RouteCandidate(3, 20, 1, "m", "b", "m"),
)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize(
    "status, kind",
    [
        (429, "rate_limited"),
        (401, "auth"),
        (403, "auth"),
        (404, "not_found"),
        (500, "server"),
        (503, "server"),
        (408, "server"),
        (529, "server"),
        (400, "client"),
        (422, "client"),
        (413, "client"),
    ],
)
def test_classify_status(status, kind):
    assert classify_status(status, RETRYABLE) == kind


class TestRetryAfter:
    def test_seconds(self):
        assert parse_retry_after("7") == 7.0 and parse_retry_after("1.5") == 1.5

    def test_http_date(self):
        now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
        header = format_datetime(now + timedelta(seconds=30), usegmt=True)
        assert parse_retry_after(header, now=now.timestamp()) == pytest.approx(30)

    def test_absent_or_unreadable(self):
        assert parse_retry_after(None) is None and parse_retry_after("soon") is None


class TestBackoff:
    def test_exponential_with_equal_jitter_and_a_cap(self):
        policy, rng = FailoverPolicy(backoff_base=0.5, backoff_max=4.0), random.Random(1)
        for failures, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)):
            delays = [policy.backoff(failures, rng) for _ in range(50)]
            assert all(ceiling / 2 <= d <= ceiling for d in delays)
            assert len(set(delays)) > 1  # jittered


class TestScheduler:
    def scheduler(self, candidates, **policy):
        clock = Clock()
        return AttemptScheduler(candidates, FailoverPolicy(**policy), clock=clock, rng=random.Random(0)), clock

    def test_a_fresh_member_is_tried_at_once_after_a_failure(self):
        scheduler, _ = self.scheduler([A1, B1])
        assert scheduler.next() == (A1, 0.0)
        scheduler.failed(A1, Failure(retry.SERVER))
        assert scheduler.next() == (B1, 0.0)

    def test_retry_after_is_the_wait_for_that_member(self):
        scheduler, clock = self.scheduler([A1])
        scheduler.next()
        scheduler.failed(A1, Failure(retry.RATE_LIMITED, retry_after=7))
        clock.now += 2
        assert scheduler.next() == (A1, 5.0)

    def test_retry_after_beyond_the_cap_takes_the_member_out(self):
        scheduler, _ = self.scheduler([A1], retry_after_max=10)
        scheduler.next()
        scheduler.failed(A1, Failure(retry.RATE_LIMITED, retry_after=60))
        assert scheduler.next() is None

    def test_auth_failures_take_every_member_of_that_provider_out(self):
        scheduler, _ = self.scheduler([A1, A2, B1])
        scheduler.next()
        scheduler.failed(A1, Failure(retry.AUTH, status=401))
        assert scheduler.next() == (B1, 0.0)

    def test_attempts_are_bounded(self):
        scheduler, _ = self.scheduler([A1, B1], max_attempts=2)
        for _ in range(2):
            candidate, _ = scheduler.next()
            scheduler.failed(candidate, Failure(retry.SERVER))
        assert scheduler.next() is None

    def test_total_time_is_bounded(self):
        scheduler, clock = self.scheduler([A1], max_total_seconds=5, max_attempts=10)
        scheduler.next()
        scheduler.failed(A1, Failure(retry.RATE_LIMITED, retry_after=4))
        clock.now += 2
        assert scheduler.next() == (A1, 2.0)
        scheduler.failed(A1, Failure(retry.RATE_LIMITED, retry_after=4))
        assert scheduler.next() is None  # the next try would start after the 5 s budget
