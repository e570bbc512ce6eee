"""Selection strategies: static orders, round-robin turns, stick-until-failure, latency, and the telemetry ranking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import AsyncClient
from django.utils import timezone

from routing import strategies
from routing.candidates import RouteCandidate
from routing.strategies import StrategyState
from telemetry.models import HourlyHealth
from telemetry.rollups import floor_hour
from tests.routing.conftest import chat_body, run


def offer(mapping_id: int, price: float | None, provider: str = "p", model: str = "m") -> RouteCandidate:
    return RouteCandidate(
        mapping_id, mapping_id, 1, model, f"{provider}{mapping_id}", model, price_input=price, price_output=price
    )


A, B, C = offer(1, 3.0), offer(2, 2.0), offer(3, None)


def ids(candidates) -> list[int]:
    return [c.mapping_id for c in candidates]


class TestStaticOrders:
    def test_cheapest_first_and_unpriced_last(self):
        assert ids(strategies.order("cheapest", [A, B, C])) == [2, 1, 3]

    def test_best_score_first_unscored_last_then_price(self):
        scores = {1: {"score": 0.9}, 3: {"score": 0.5}}
        assert ids(strategies.order("best_score", [A, B, C], scores)) == [1, 3, 2]

    def test_lowest_latency_by_median_time_to_first_token(self):
        scores = {1: {"median_ttft_ms": 300.0}, 2: {"median_ttft_ms": 120.0}}
        assert ids(strategies.order("lowest_latency", [A, B, C], scores)) == [2, 1, 3]

    def test_priority_list_entries_then_the_rest_cheapest_first(self):
        order = strategies.order("priority", [A, B, C], priority_list=["m@p3", "@p1"])
        assert ids(order) == [3, 1, 2]


class TestDynamicOrders:
    def test_round_robin_takes_turns(self):
        state, ordered = StrategyState(), strategies.order("round_robin", [A, B, C])
        firsts = [next(iter(state.arrange("pool", "round_robin", ordered))).mapping_id for _ in range(4)]
        assert firsts == [1, 2, 3, 1]

    def test_stick_until_failure(self):
        state, ordered = StrategyState(), [A, B, C]
        head = lambda: next(iter(state.arrange("pool", "stick_until_failure", ordered))).mapping_id  # noqa: E731
        assert head() == 1
        state.succeeded("pool", B)  # B answered (A was unavailable): stick to B
        assert head() == 2 and head() == 2
        state.failed("pool", B)  # B failed: it goes last, the next success becomes the sticky one
        assert ids(state.arrange("pool", "stick_until_failure", ordered)) == [1, 3, 2]
        state.succeeded("pool", C)
        assert head() == 3

    def test_lowest_latency_prefers_what_the_gateway_observed(self):
        clock = iter(range(0, 100, 5)).__next__
        state = StrategyState(clock=clock)
        scores = {1: {"median_ttft_ms": 100.0}, 2: {"median_ttft_ms": 200.0}}
        ordered = strategies.order("lowest_latency", [A, B], scores)
        assert ids(state.arrange("pool", "lowest_latency", ordered, scores)) == [1, 2]
        state.succeeded("pool", A, 900.0)  # A has become slow for real traffic
        assert ids(state.arrange("pool", "lowest_latency", ordered, scores)) == [2, 1]


@pytest.mark.django_db
class TestThroughTheGateway:
    def firsts(self, count: int) -> list[str]:
        async def scenario():
            client = AsyncClient()
            routes = []
            for _ in range(count):
                response = await client.post(
                    "/v1/chat/completions", data=chat_body("tool-use"), content_type="application/json"
                )
                routes.append(response["X-ModelGraph-Route"].split("@")[1])
            return routes

        return run(scenario)

    def test_round_robin_pool(self, catalogue, make_pool):
        make_pool("rr", capability="tool-use", strategy="round_robin")
        assert self.firsts(4) == ["prov-a", "prov-b", "prov-c", "prov-a"]

    def test_cheapest_pool(self, catalogue, make_pool):
        make_pool("cheap", capability="tool-use", strategy="cheapest")
        assert self.firsts(2) == ["prov-c", "prov-c"]

    def test_priority_pool(self, catalogue, make_pool):
        make_pool("prio", capability="tool-use", strategy="priority", priority_list=["chat-model@prov-b"])
        assert self.firsts(2) == ["prov-b", "prov-b"]

    def test_pool_provider_lists(self, catalogue, make_pool):
        pool = make_pool("no-c", capability="tool-use", strategy="cheapest")
        pool.exclude_providers.set([catalogue.providers["c"]])
        assert self.firsts(1) == ["prov-b"]

    def test_the_pool_with_the_lowest_priority_number_wins(self, catalogue, make_pool):
        make_pool("second", capability="tool-use", strategy="cheapest", priority=20)
        first = make_pool("first", capability="tool-use", strategy="cheapest", priority=10)
        first.include_providers.set([catalogue.providers["a"]])
        assert self.firsts(1) == ["prov-a"]

    def test_best_score_follows_the_telemetry_ranking(self, catalogue, make_pool):
        """Seeded health: a answers everything, b half, c has no probes; a ranks first despite its price."""
        hour = floor_hour(timezone.now() - timedelta(hours=1))
        for name, (ok, failed) in {"a": (1000, 0), "b": (500, 500)}.items():
            mapping = catalogue.mappings[f"chat-model@{name}"]
            HourlyHealth.objects.create(
                provider=mapping.provider, mapping=mapping, hour=hour, successes=ok, failures=failed
            )
        make_pool("best", capability="tool-use", strategy="best_score")
        from telemetry.selectors import compare_telemetry

        ranked = compare_telemetry([m.pk for k, m in catalogue.mappings.items() if k.startswith("chat-model")])
        best = max((pk for pk in ranked if ranked[pk]["measured"]), key=lambda pk: ranked[pk]["score"])
        assert best == catalogue.mappings["chat-model@a"].pk
        assert ranked[catalogue.mappings["chat-model@c"].pk]["score"] is None  # c was never probed: not measured
        assert self.firsts(2) == ["prov-a", "prov-a"]
