"""The routing pipeline over plain candidate rows, no I/O: pool selection → delivery filter → state filter →
selection strategy → the members a request may try, best first, within its retry scope.

    route_sets = [RouteSet(...), ...]             # the pools of the requested capability, by priority
    plan = route_plan(route_sets, mode="streaming", blocked=states.blocked, arrange=strategy_state.arrange)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from routing import strategies
from routing.candidates import BATCH, STREAMING, SYNC, RouteCandidate
from routing.policies import ANY, SAME_MODEL, SAME_PROVIDER, PoolSpec

MODES = (SYNC, STREAMING, BATCH)
Arrange = Callable[[str, str, Sequence[RouteCandidate], dict], Iterable[RouteCandidate]]
Blocked = Callable[[RouteCandidate], str | None]


class RouteSet:
    """One pool's members with their telemetry, in the pool strategy's static order, split by delivery mode."""

    def __init__(
        self, key: str, spec: PoolSpec, candidates: Sequence[RouteCandidate], scores: dict[int, dict] | None = None
    ):
        self.key = key
        self.spec = spec
        self.scores = scores or {}
        self.candidates = list(candidates)
        self.ordered = strategies.order(spec.strategy, self.candidates, self.scores, spec.priority_list)
        self.by_mode = {mode: [c for c in self.ordered if c.delivers(mode)] for mode in MODES}

    def __repr__(self) -> str:
        return f"<RouteSet {self.key} {self.spec.strategy} ({len(self.candidates)} members)>"


@dataclass
class Plan:
    route_set: RouteSet
    candidates: list[RouteCandidate]
    skipped: Counter = field(default_factory=Counter)

    @property
    def spec(self) -> PoolSpec:
        return self.route_set.spec


class NoRoute(Exception):
    """No pool has a live member that delivers the requested mode (an answer of 503)."""

    def __init__(self, requested: str, reasons: Counter):
        self.requested, self.reasons = requested, reasons
        self.retry_after: float | None = None  # seconds until the soonest member comes back (the router knows)
        if not reasons:
            message = f"No provider serves {requested!r} yet."
        else:
            described = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
            message = f"No live provider for {requested!r}: {described}."
        super().__init__(message)


def in_scope(scope: str, first: RouteCandidate, other: RouteCandidate) -> bool:
    if scope == SAME_PROVIDER:
        return other.provider_id == first.provider_id
    if scope == SAME_MODEL:
        return other.model_id == first.model_id
    return scope == ANY or other.mapping_id == first.mapping_id


def default_arrange(
    key: str, strategy: str, ordered: Sequence[RouteCandidate], scores: dict
) -> Iterator[RouteCandidate]:
    return iter(ordered)


def filter_delivery(candidates: Iterable[RouteCandidate], mode: str) -> list[RouteCandidate]:
    return [c for c in candidates if c.delivers(mode)]


def filter_state(candidates: Iterable[RouteCandidate], blocked: Blocked) -> Iterator[RouteCandidate]:
    return (c for c in candidates if blocked(c) is None)


def route_plan(
    route_sets: Sequence[RouteSet],
    *,
    mode: str,
    blocked: Blocked,
    arrange: Arrange = default_arrange,
    requested: str = "",
) -> Plan:
    """The first pool (by priority) with a live member for `mode`, and the members a request may try there.

    At most `max_attempts` members are listed: each attempt needs at most one new member.
    """
    for route_set in route_sets:
        spec = route_set.spec
        deliverable = route_set.by_mode[mode]
        chosen: list[RouteCandidate] = []
        for candidate in arrange(route_set.key, spec.strategy, deliverable, route_set.scores):
            if blocked(candidate) is not None:
                continue
            if chosen and not in_scope(spec.retry.scope, chosen[0], candidate):
                continue
            chosen.append(candidate)
            if len(chosen) >= spec.retry.max_attempts:
                break
        if chosen:
            return Plan(route_set, chosen)
    raise NoRoute(requested, _reasons(route_sets, mode, blocked))


def _reasons(route_sets: Sequence[RouteSet], mode: str, blocked: Blocked) -> Counter:
    """Why nothing was routable, counted over distinct offers (only computed when that happens)."""
    reasons: Counter = Counter()
    seen: set[int] = set()
    for route_set in route_sets:
        for candidate in route_set.candidates:
            if candidate.mapping_id in seen:
                continue
            seen.add(candidate.mapping_id)
            if not candidate.delivers(mode):
                reasons[f"not offering {mode} delivery"] += 1
            else:
                reasons[blocked(candidate) or "unavailable"] += 1
    return reasons
