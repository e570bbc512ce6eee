"""Selection strategies: the order in which a pool's live members are offered a request.

Static orders (best score, cheapest, lowest latency, priority list) are computed when a pool's members or their
telemetry change; the per-request part (round-robin's turn, the sticky choice, observed latency) lives in
`StrategyState`, one per process.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Sequence

from catalog.ranking import offer_order_key
from routing.candidates import RouteCandidate

BEST_SCORE, CHEAPEST, LOWEST_LATENCY = "best_score", "cheapest", "lowest_latency"
PRIORITY, ROUND_ROBIN, STICKY = "priority", "round_robin", "stick_until_failure"
STRATEGIES = (BEST_SCORE, CHEAPEST, LOWEST_LATENCY, PRIORITY, ROUND_ROBIN, STICKY)
# Weight of the newest observation in the observed time-to-first-byte average.
EWMA_ALPHA = 0.3
LATENCY_RESORT_SECONDS = 1.0


def _stable(c: RouteCandidate) -> tuple:
    return (c.provider_slug, c.model_slug, c.mapping_id)


def _price(c: RouteCandidate) -> tuple:
    price = c.blended_price
    return (price is None, price or 0.0)


def _score(c: RouteCandidate, scores: dict[int, dict]) -> tuple:
    score = scores.get(c.mapping_id, {}).get("score")
    return (score is None, -(score or 0.0))


def _latency(c: RouteCandidate, scores: dict[int, dict], observed: dict[int, float] | None = None) -> tuple:
    # What the gateway itself measured wins over the probes' median: it is newer and it is this traffic.
    value = (observed or {}).get(c.mapping_id)
    if value is None:
        value = scores.get(c.mapping_id, {}).get("median_ttft_ms")
    return (value is None, value or 0.0)


def _priority(c: RouteCandidate, entries: Sequence[str]) -> int:
    return next((i for i, entry in enumerate(entries) if c.matches(entry)), len(entries))


def order(
    strategy: str, candidates: Iterable[RouteCandidate], scores: dict[int, dict] | None = None, priority_list=()
) -> list[RouteCandidate]:
    """The static preference order of a strategy (round-robin rotates it, stick-until-failure reorders its head)."""
    scores = scores or {}
    if strategy == CHEAPEST:
        key = lambda c: (*_price(c), *_score(c, scores), *_stable(c))  # noqa: E731
    elif strategy == LOWEST_LATENCY:
        key = lambda c: (*_latency(c, scores), *_score(c, scores), *_stable(c))  # noqa: E731
    elif strategy == PRIORITY:
        key = lambda c: (_priority(c, priority_list), *_price(c), *_stable(c))  # noqa: E731
    elif strategy == ROUND_ROBIN:
        key = _stable
    else:  # best score, and the base order stick-until-failure starts from: the catalogue's ranking order
        key = lambda c: offer_order_key(  # noqa: E731
            scores.get(c.mapping_id, {}).get("score"), c.blended_price, c.provider_slug, c.mapping_id
        )
    return sorted(candidates, key=key)


class StrategyState:
    """Per-process memory of the dynamic strategies: turns, sticky choices, observed latency."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._turns: dict[str, itertools.count] = {}
        self._sticky: dict[str, int] = {}
        self._avoid: dict[str, int] = {}
        self.observed_ms: dict[int, float] = {}
        self._latency_orders: dict[tuple, tuple[float, list[RouteCandidate]]] = {}

    def arrange(
        self, key: str, strategy: str, ordered: Sequence[RouteCandidate], scores=None
    ) -> Iterator[RouteCandidate]:
        """The members of one pool in the order this request offers them to."""
        if not ordered:
            return iter(())
        if strategy == ROUND_ROBIN:
            start = next(self._turns.setdefault(key, itertools.count())) % len(ordered)
            return itertools.chain(ordered[start:], ordered[:start])
        if strategy == STICKY:
            return self._sticky_order(key, ordered)
        if strategy == LOWEST_LATENCY and self.observed_ms:
            return iter(self._latency_order(key, ordered, scores or {}))
        return iter(ordered)

    def _sticky_order(self, key: str, ordered: Sequence[RouteCandidate]) -> Iterator[RouteCandidate]:
        sticky, avoid = self._sticky.get(key), self._avoid.get(key)
        head = [c for c in ordered if c.mapping_id == sticky]
        tail = [c for c in ordered if c.mapping_id == avoid and c.mapping_id != sticky]
        rest = (c for c in ordered if c.mapping_id not in (sticky, avoid))
        return itertools.chain(head, rest, tail)

    def _latency_order(self, key: str, ordered: Sequence[RouteCandidate], scores: dict) -> list[RouteCandidate]:
        cache_key = (key, id(ordered))
        now = self.clock()
        cached = self._latency_orders.get(cache_key)
        if cached is None or now - cached[0] > LATENCY_RESORT_SECONDS:
            resorted = sorted(ordered, key=lambda c: (*_latency(c, scores, self.observed_ms), *_stable(c)))
            cached = self._latency_orders[cache_key] = (now, resorted)
        return cached[1]

    def succeeded(self, key: str, candidate: RouteCandidate, first_byte_ms: float | None = None) -> None:
        if first_byte_ms is not None:
            previous = self.observed_ms.get(candidate.mapping_id)
            self.observed_ms[candidate.mapping_id] = (
                first_byte_ms if previous is None else previous + EWMA_ALPHA * (first_byte_ms - previous)
            )
        # The sticky choice is tried first whenever it is live, so another offer succeeding means it was not.
        self._sticky[key] = candidate.mapping_id
        if self._avoid.get(key) == candidate.mapping_id:
            del self._avoid[key]

    def failed(self, key: str, candidate: RouteCandidate) -> None:
        """The sticky choice is dropped on its first failure; the next success becomes the new one."""
        if self._sticky.get(key) == candidate.mapping_id:
            del self._sticky[key]
        self._avoid[key] = candidate.mapping_id
