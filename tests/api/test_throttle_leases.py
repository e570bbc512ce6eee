"""The throttle's counter leased in blocks (modelgraph/api/throttle_leases.py), on the real cache: a process takes
numbers for a client's next requests with one INCRBY, hands them out in order, refuses the request past the limit
as before, and counts limits under 200 a window one by one."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from modelgraph.api import cache as api_cache
from modelgraph.api.throttle_leases import CounterLeases, lease_size, leases
from modelgraph.api.throttling import ClientRateThrottle
from tests.api.lane import call

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.delete_pattern("api:throttle:*") if hasattr(cache, "delete_pattern") else cache.clear()
    leases.clear()
    yield
    leases.clear()


def _take(key: str):
    return lambda by: api_cache.count_hit(key, 60, by)


def _counter(rate: str) -> tuple[str, int]:
    """The key of this test client's counter for the current window of `rate`, and the window's length."""
    duration = ClientRateThrottle().parse_rate(rate)[1]
    return f"api:throttle:127.0.0.1:{int(time.time() // duration)}", duration


@pytest.mark.parametrize(
    ("limit", "size"), [(1, 1), (3, 1), (199, 1), (200, 2), (600, 6), (1_000, 10), (100_000, 16), (10**8, 16)]
)
def test_the_lease_grows_with_the_limit_and_stays_under_one_percent_of_it(limit, size):
    assert lease_size(limit) == size
    assert size == 1 or (size - 1) / limit < 0.01


def test_one_increment_numbers_a_block_of_requests_in_order():
    held = CounterLeases()
    numbers = [held.next_number("mg:test:block", 4, _take("mg:test:block")) for _ in range(5)]
    assert numbers == [1, 2, 3, 4, 5]
    assert cache.get("mg:test:block") == 8  # two increments of 4: the fifth request took the next block


def test_processes_sharing_a_counter_never_hand_out_the_same_number():
    first, second = CounterLeases(), CounterLeases()  # two workers' leases of one client's counter
    take = _take("mg:test:shared")
    numbers = [held.next_number("mg:test:shared", 3, take) for _ in range(7) for held in (first, second)]
    assert len(set(numbers)) == len(numbers) == 14
    assert max(numbers) <= cache.get("mg:test:shared") <= 14 + 2 * 2  # at most size - 1 unused per process


def test_a_counter_the_cache_cannot_reach_counts_nothing_and_keeps_no_lease():
    held = CounterLeases()
    assert held.next_number("mg:test:down", 4, lambda by: None) is None
    assert held.next_number("mg:test:down", 4, _take("mg:test:down")) == 1


def test_the_lane_counts_a_high_limit_in_blocks(catalogue, uncached_apps, settings):
    settings.API_THROTTLE_RATE = "1000/hour"  # a block of 10
    key, _ = _counter(settings.API_THROTTLE_RATE)
    call(uncached_apps.lane, "/api/resolve?name=gpt-4o")  # Django's first answer teaches the lane its headers
    seen = []
    for _ in range(11):
        assert call(uncached_apps.lane, "/api/resolve?name=gpt-4o").status == 200
        seen.append(cache.get(key))
    # Django counted the first request itself (one by one, or a block of its own); the lane then took whole blocks.
    assert len(set(seen)) == 2 and seen[-1] - seen[0] == 10


def test_the_request_past_the_limit_is_refused_exactly_in_one_process(catalogue, uncached_apps, settings):
    settings.API_THROTTLE_RATE = "200/hour"  # a block of 2
    answers = [call(uncached_apps.lane, "/api/resolve?name=gpt-4o").status for _ in range(202)]
    assert answers[:200] == [200] * 200 and answers[200:] == [429, 429]


def test_a_limit_under_200_is_counted_one_by_one(catalogue, uncached_apps, settings):
    settings.API_THROTTLE_RATE = "150/hour"
    key, _ = _counter(settings.API_THROTTLE_RATE)
    for count in range(1, 4):
        assert call(uncached_apps.lane, "/api/resolve?name=gpt-4o").status == 200
        assert cache.get(key) == count
