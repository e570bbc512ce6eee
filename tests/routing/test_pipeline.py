"""The pipeline over plain candidate rows: pool priority, delivery and state filters, retry scope. No I/O."""

from __future__ import annotations

import pytest

from routing.candidates import RouteCandidate
from routing.pipeline import NoRoute, RouteSet, filter_delivery, filter_state, route_plan
from routing.policies import FailoverPolicy, PoolSpec
from routing.table import CapabilityNode, ModelInfo, RoutingTable, capability_admits


def offer(mapping_id: int, model: str = "m1", provider: str = "p1", price: float | None = 1.0, modes=()):
    return RouteCandidate(
        mapping_id=mapping_id,
        provider_id=hash(provider) % 1000,
        model_id=hash(model) % 1000,
        model_slug=model,
        provider_slug=provider,
        provider_model_id=f"{model}-{provider}",
        base_url="http://x/v1",
        price_input=price,
        price_output=price,
        delivery_modes=tuple(modes),
    )


def spec(slug="pool", priority=100, strategy="cheapest", scope="any", attempts=3) -> PoolSpec:
    return PoolSpec(
        slug=slug, priority=priority, strategy=strategy, retry=FailoverPolicy(max_attempts=attempts, scope=scope)
    )


def nothing_blocked(candidate):
    return None


class TestDeliveryFilter:
    def test_unstated_modes_mean_sync_and_streaming_not_batch(self):
        plain, batch_only = offer(1), offer(2, modes=["batch"])
        assert filter_delivery([plain, batch_only], "streaming") == [plain]
        assert filter_delivery([plain, batch_only], "batch") == [batch_only]

    def test_a_stream_request_skips_offers_without_streaming(self):
        sync_only, both = offer(1, price=0.1, modes=["sync"]), offer(2, price=5, modes=["sync", "streaming"])
        plan = route_plan([RouteSet("k", spec(), [sync_only, both])], mode="streaming", blocked=nothing_blocked)
        assert plan.candidates == [both]


class TestStateFilter:
    def test_blocked_offers_are_dropped(self):
        a, b = offer(1), offer(2)
        assert list(filter_state([a, b], lambda c: "deactivated" if c is a else None)) == [b]

    def test_nothing_live_raises_no_route_with_the_reasons(self):
        a, b, c = offer(1), offer(2), offer(3, modes=["sync"])
        blocked = {1: "deactivated", 2: "provider on standby"}
        with pytest.raises(NoRoute) as caught:
            route_plan(
                [RouteSet("k", spec(), [a, b, c])],
                mode="streaming",
                blocked=lambda x: blocked.get(x.mapping_id),
                requested="text-generation",
            )
        message = str(caught.value)
        assert "1 deactivated" in message and "1 provider on standby" in message
        assert "1 not offering streaming delivery" in message

    def test_a_capability_without_members_says_so(self):
        with pytest.raises(NoRoute, match="No provider serves 'vision' yet"):
            route_plan([RouteSet("k", spec(), [])], mode="sync", blocked=nothing_blocked, requested="vision")


class TestPoolSelection:
    def test_the_first_pool_with_a_live_member_wins(self):
        first = RouteSet("first", spec("first", priority=1), [offer(1)])
        second = RouteSet("second", spec("second", priority=2), [offer(2)])
        assert route_plan([first, second], mode="sync", blocked=nothing_blocked).route_set is first
        plan = route_plan([first, second], mode="sync", blocked=lambda c: "deactivated" if c.mapping_id == 1 else None)
        assert plan.route_set is second and plan.candidates[0].mapping_id == 2


class TestScope:
    members = [offer(1, "m1", "p1", 1), offer(2, "m2", "p1", 2), offer(3, "m1", "p2", 3), offer(4, "m2", "p2", 4)]

    @pytest.mark.parametrize(
        "scope, expected", [("any", [1, 2, 3, 4]), ("same_model", [1, 3]), ("same_provider", [1, 2])]
    )
    def test_retries_stay_within_the_scope_of_the_first_choice(self, scope, expected):
        plan = route_plan(
            [RouteSet("k", spec(scope=scope, attempts=9), self.members)], mode="sync", blocked=nothing_blocked
        )
        assert [c.mapping_id for c in plan.candidates] == expected

    def test_no_more_members_than_attempts(self):
        plan = route_plan([RouteSet("k", spec(attempts=2), self.members)], mode="sync", blocked=nothing_blocked)
        assert [c.mapping_id for c in plan.candidates] == [1, 2]


class TestCapabilityTree:
    def node(self, id, slug, parent=None, **fields):
        return CapabilityNode(id=id, slug=slug, name=slug, parent_id=parent, **fields)

    def test_members_meet_the_node_and_every_ancestor(self):
        text = self.node(1, "text", outputs=frozenset({"text"}), excludes=frozenset({"embeddings"}))
        code = self.node(2, "code", parent=1, pattern="code|devstral")
        nodes = {1: text, 2: code}
        text_io = {"input_modalities": frozenset({"text"}), "output_modalities": frozenset({"text"})}
        coder = ModelInfo(1, "qwen3-coder-480b", "Qwen3 Coder", **text_io)
        embedder = ModelInfo(2, "code-embed", "Code Embed", capabilities=frozenset({"embeddings"}), **text_io)
        chat = ModelInfo(3, "llama", "Llama", **text_io)
        assert capability_admits(code, nodes, coder)
        assert not capability_admits(code, nodes, embedder)  # its parent excludes embedding models
        assert not capability_admits(code, nodes, chat) and capability_admits(text, nodes, chat)

    def test_a_capability_without_pools_gets_an_implicit_one_with_every_member(self):
        node = self.node(1, "text", outputs=frozenset({"text"}))
        model = ModelInfo(7, "llama", "Llama", output_modalities=frozenset({"text"}))
        candidate = RouteCandidate(1, 1, 7, "llama", "p", "llama-p")
        table = RoutingTable.build([node], [], [candidate], {7: model})
        (entry,) = table.pools["text"]
        assert entry.spec.slug == "text:default" and entry.candidates == [candidate]

    def test_pool_filters_members_and_providers(self):
        node = self.node(1, "text")
        models = {m: ModelInfo(m, f"m{m}", f"M{m}") for m in (1, 2)}
        candidates = [
            RouteCandidate(i, p, m, f"m{m}", f"p{p}", "x") for i, (m, p) in enumerate([(1, 1), (1, 2), (2, 1)])
        ]
        pools = [(PoolSpec("only-m1", capability_id=1), {"members": {1}, "include": set(), "exclude": {2}})]
        table = RoutingTable.build([node], pools, candidates, models)
        assert [c.mapping_id for c in table.pools["text"][0].candidates] == [0]
