"""Gateway key scopes and limits in one process (routing/key_limits.py, key_counters.py, key_usage.py): allowed
capabilities and models, requests per minute, tokens per day and a budget, on Redis and on the local fallback; the
usage rows; the counters' seeds from the database and their fallback when Redis is away."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal

import pytest
import redis
from django.test import AsyncClient
from django_redis import get_redis_connection

from routing.access import gateway_key_issue
from routing.candidates import RouteCandidate
from routing.key_counters import BUDGET, REQUESTS, TOKENS, LocalCounters, RedisCounters, SharedCounters, utc_day
from routing.key_limits import KeyGrant, cost_nano_usd
from routing.key_usage import key_usage_flush, usage_tally
from routing.models import GatewayKey, GatewayKeyUsage
from tests.routing.conftest import chat_body, run, sse_data

# The fake upstream answers 12 prompt and 5 completion tokens; at prov-a ($3 in, $9 out per million) that costs
# 12 × 3 + 5 × 9 = 81 micro-dollars.
TOKENS_PER_ANSWER = 17
COST_AT_A = Decimal("0.000081")


def issue(name: str = "app", capabilities=(), models=(), **limits) -> tuple[GatewayKey, str]:
    key = GatewayKey(name=name, **limits)
    return key, gateway_key_issue(key=key, capabilities=list(capabilities), models=list(models))


async def post(key: str, model: str, stream: bool = False):
    return await AsyncClient().post(
        "/v1/chat/completions",
        data=chat_body(model, stream=stream),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


async def posts(key: str, model: str, count: int, stream: bool = False) -> list:
    """Sequential requests; a stream is read to its end (which settles its usage) before the next one."""
    responses = []
    for _ in range(count):
        response = await post(key, model, stream)
        if response.status_code == 200 and stream:
            response.body = b"".join([part async for part in response.streaming_content])
        responses.append(response)
    return responses


def error_of(response) -> dict:
    body = json.loads(response.content)
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def usage_today(key: GatewayKey) -> GatewayKeyUsage:
    return GatewayKeyUsage.objects.get(key=key, day=dt.datetime.now(dt.UTC).date())


@pytest.fixture(params=["redis", "local"])
def counters(request, settings):
    """Both ways limits are counted: the cache's Redis (shared by processes) and the local-memory fallback."""
    if request.param == "local":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return request.param


@pytest.mark.django_db
class TestScopes:
    def test_a_key_scoped_to_a_capability_may_use_it_and_the_models_it_routes_to(self, catalogue, upstreams):
        _, raw = issue(capabilities=[catalogue.tree["tool-use"]])
        assert run(post, raw, "tool-use").status_code == 200
        assert run(post, raw, "chat-model@prov-b").status_code == 200  # chat-model has tools: a tool-use member
        refused = run(post, raw, "text-generation")
        assert refused.status_code == 403
        error = error_of(refused)
        assert (error["type"], error["code"], error["param"]) == ("permission_error", "model_not_allowed", "model")
        assert "tool-use" in error["message"]
        assert run(post, raw, "coder-model").status_code == 403  # no tools: not routed by tool-use
        assert len(upstreams.a.requests + upstreams.b.requests + upstreams.c.requests) == 2

    def test_a_key_scoped_to_a_model_may_use_it_at_any_provider_and_nothing_else(self, catalogue, upstreams):
        _, raw = issue(models=[catalogue.coder])
        assert run(post, raw, "coder-model").status_code == 200
        assert run(post, raw, "coder-model@prov-a").status_code == 200
        assert run(post, raw, "chat-model").status_code == 403
        assert run(post, raw, "code-generation").status_code == 403

    def test_an_unscoped_key_and_the_configured_keys_may_use_everything_without_limits(self, catalogue, settings):
        settings.ROUTING_GATEWAY_KEYS = ["mg-flat-list-key"]
        _, raw = issue()
        for key in (raw, "mg-flat-list-key"):
            assert [r.status_code for r in run(posts, key, "text-generation", 6)] == [200] * 6
        assert GatewayKeyUsage.objects.get().requests == 6  # usage of issued keys only


@pytest.mark.django_db
class TestLimits:
    def test_requests_per_minute_refuse_with_retry_after(self, catalogue, upstreams, counters):
        key, raw = issue(requests_per_minute=3)
        responses = run(posts, raw, "chat-model@prov-b", 5)
        assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
        error = error_of(responses[3])
        assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
        assert 1 <= int(responses[3]["Retry-After"]) <= 60
        assert len(upstreams.b.requests) == 3
        usage = usage_today(key)
        assert (usage.requests, usage.refused) == (5, 2)

    def test_each_key_has_its_own_counters(self, catalogue, counters):
        _, first = issue("first", requests_per_minute=1)
        _, second = issue("second", requests_per_minute=1)
        assert [run(post, k, "chat-model").status_code for k in (first, second, first, second)] == [200, 200, 429, 429]

    def test_tokens_per_day_count_the_answers_usage(self, catalogue, counters):
        key, raw = issue(tokens_per_day=40)
        responses = run(posts, raw, "chat-model@prov-c", 4)
        assert [r.status_code for r in responses] == [200, 200, 200, 429]  # 0, 17, 34 used before each: then 51
        error = error_of(responses[3])
        assert (error["type"], error["code"]) == ("tokens", "rate_limit_exceeded")
        assert 1 <= int(responses[3]["Retry-After"]) <= 86400 and responses[3]["x-should-retry"] == "false"
        usage = usage_today(key)
        assert (usage.prompt_tokens, usage.completion_tokens, usage.refused) == (36, 15, 1)

    def test_a_stream_counts_the_tokens_of_its_usage_chunk(self, catalogue, counters):
        _, raw = issue(tokens_per_day=30)
        first, second = run(posts, raw, "chat-model@prov-b", 2, stream=True)
        assert first.status_code == 200 and sse_data(first.body)[-1] == "[DONE]"
        assert second.status_code == 200  # 17 used < 30
        assert run(post, raw, "chat-model@prov-b").status_code == 429  # 34 used

    def test_the_budget_is_spent_at_the_answering_offer_s_catalogue_prices(self, catalogue, counters):
        key, raw = issue(budget_usd=Decimal("0.0002"))
        responses = run(posts, raw, "chat-model@prov-a", 4)
        assert [r.status_code for r in responses] == [200, 200, 200, 429]  # 0, 81, 162 µ$ spent: then 243
        error = error_of(responses[3])
        assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")
        assert "$0.0002" in error["message"] and responses[3]["Retry-After"].isdigit()
        assert usage_today(key).spend_usd == 3 * COST_AT_A

    def test_the_counters_start_from_the_usage_in_the_database(self, catalogue, counters):
        """A Redis flush or a restart must not hand a key a fresh budget or day."""
        key, raw = issue(budget_usd=Decimal("0.001"), tokens_per_day=1000)
        today = dt.datetime.now(dt.UTC).date()
        GatewayKeyUsage.objects.create(key=key, day=today, prompt_tokens=900, completion_tokens=50, spend_usd=0)
        GatewayKeyUsage.objects.create(key=key, day=today - dt.timedelta(days=3), spend_usd=Decimal("0.00095"))
        first, second = run(posts, raw, "chat-model@prov-a", 2)
        assert first.status_code == 200
        assert second.status_code == 429 and error_of(second)["code"] == "insufficient_quota"  # 950 + 81 µ$

    def test_a_changed_limit_applies_at_once_in_this_process(self, catalogue, counters):
        key, raw = issue(requests_per_minute=1)
        assert [r.status_code for r in run(posts, raw, "chat-model", 2)] == [200, 429]
        key.requests_per_minute = None
        key.save()
        assert run(post, raw, "chat-model").status_code == 200

    def test_with_redis_as_the_cache_the_counters_are_in_it(self, catalogue):
        """(What lets several gateway processes share them: see test_two_processes.py.)"""
        key, raw = issue(requests_per_minute=5, tokens_per_day=100)
        assert run(post, raw, "chat-model").status_code == 200
        names = {name.decode() for name in get_redis_connection("default").keys(f"*{key.key_hash[:32]}*")}
        assert {name.rsplit(":", 2)[-2] if ":tokens:" in name else name.rsplit(":", 1)[-1] for name in names} == {
            "rpm",
            "tokens",
        }


def grant(**limits) -> KeyGrant:
    return KeyGrant(id=1, digest="d" * 64, name="unit", **limits)


class TestLocalCounters:
    def test_the_minute_slides(self):
        counters, key, start = LocalCounters(), grant(requests_per_minute=2), 1_000_000.0
        assert counters.admit(key, start) is None and counters.admit(key, start + 20) is None
        refusal = counters.admit(key, start + 30)
        assert refusal.limit == REQUESTS and refusal.retry_after == pytest.approx(30)
        assert counters.admit(key, start + 60.5) is None  # the first left the window
        assert counters.admit(key, start + 61).limit == REQUESTS  # the one at +20 is still in it

    def test_tokens_reset_on_the_next_utc_day_and_spend_never(self):
        counters = LocalCounters()
        key = grant(tokens_per_day=10, budget_nano_usd=1000)
        noon = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC).timestamp()
        counters.add(key, noon, 10, 400)
        refusal = counters.admit(key, noon)
        assert refusal.limit == TOKENS and refusal.retry_after == 12 * 3600
        counters.add(key, noon, None, 700)
        assert counters.admit(key, noon + 86400).limit == BUDGET


class TestRedisOutage:
    def test_limits_hold_per_process_while_redis_is_away(self):
        dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
        counters = SharedCounters(RedisCounters(dead, lambda name: name))
        key = grant(requests_per_minute=2)
        results = [counters.admit(key) for _ in range(3)]
        assert results[:2] == [None, None] and results[2].limit == REQUESTS
        assert counters._backend() is counters.local  # not retried until ROUTING_KEY_COUNTERS_RETRY has passed


def test_an_answer_of_unknown_cost_is_counted_as_unpriced_never_as_free(db):
    """An offer the catalogue has no price for: its answers are not spend, and the usage says how many there were."""
    key, _ = issue(budget_usd=Decimal("1"))
    unpriced = RouteCandidate(1, 1, 1, "chat-model", "prov-x", "chat-model", price_input=None, price_output=0.6)
    priced = RouteCandidate(1, 1, 1, "chat-model", "prov-y", "chat-model", price_input=0.3, price_output=0.6)
    usage = {"prompt_tokens": 10, "completion_tokens": 5}
    assert cost_nano_usd(unpriced, usage) is None and cost_nano_usd(priced, usage) == 6000
    day = utc_day(time.time())[0]
    usage_tally.add(key.id, day, refused=False, prompt=10, completion=5, cost=cost_nano_usd(unpriced, usage))
    usage_tally.add(key.id, day, refused=False, prompt=10, completion=5, cost=cost_nano_usd(priced, usage))
    usage_tally.add(key.id, day, refused=True, prompt=0, completion=0, cost=None)  # a refusal costs nothing
    key_usage_flush()
    row = GatewayKeyUsage.objects.get(key=key, day=day)
    assert (row.requests, row.refused, row.unpriced, row.spend_usd) == (3, 1, 1, Decimal("0.000006"))
