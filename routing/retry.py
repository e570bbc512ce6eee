"""Retries: what a failure means, and which member to try next after how long.

- 429: honour Retry-After (seconds or an HTTP date) exactly; longer than the pool's `retry_after_max` and that
  member is out of this request. Without the header, exponential backoff.
- 408/409/425/5xx, timeouts, malformed answers and streams that fail before their first chunk: backoff, then retry.
- 401/403 (our key was refused) and connection failures (the provider is down): every member of that provider is
  out of this request; 404 (the provider does not know the model): that member is out.
- Any other 4xx: the request itself is wrong; it is answered as the upstream said, never retried.

Each member has its own backoff clock, so a request moves on at once to a member that has not failed yet and only
waits when every member in scope is cooling down. Attempts are bounded by `max_attempts` and `max_total_seconds`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from modelgraph import outbound
from modelgraph.outbound import FailureKind, retry_after_seconds
from modelgraph.storable_text import storable_text
from routing.candidates import RouteCandidate
from routing.policies import FailoverPolicy

RATE_LIMITED, SERVER, TIMEOUT, CONNECT = "rate_limited", "server", "timeout", "connect"
AUTH, NOT_FOUND, CLIENT, STREAM = "auth", "not_found", "client", "stream"
# Failures that say something about the offer's health (rotation counts them).
OFFER_FAILURES = frozenset({SERVER, TIMEOUT, NOT_FOUND, STREAM})
# Failures that say something about the whole provider.
PROVIDER_FAILURES = frozenset({AUTH, CONNECT})


@dataclass
class Failure:
    kind: str
    message: str = ""
    status: int | None = None
    retry_after: float | None = None
    body: bytes = b""  # the upstream's answer, relayed (redacted) for client errors
    content_type: str = "application/json"

    def __post_init__(self) -> None:
        # The message is quoted from the upstream into the request log, the route state and events: a NUL or a
        # lone surrogate in it (PostgreSQL refuses both) would fail those writes, and lose a whole batch of logs.
        self.message = storable_text(self.message)

    def describe(self) -> str:
        return f"{self.status} {self.message}".strip() if self.status else self.message or self.kind


def classify_status(status: int, retryable: frozenset[int] | set[int]) -> str:
    """The gateway's word for a status (modelgraph.outbound decides what it is); `retryable` adds statuses
    (409, 425…) that are tried again elsewhere."""
    kind = outbound.classify_status(status)
    if kind is FailureKind.RATE_LIMITED:
        return RATE_LIMITED
    if kind is FailureKind.AUTH:
        return AUTH
    if status == 404:
        return NOT_FOUND
    if status in retryable or kind in (FailureKind.SERVER, FailureKind.TIMEOUT):
        return SERVER
    return CLIENT


parse_retry_after = retry_after_seconds


class AttemptScheduler:
    """Hands out (member, delay) pairs for the attempts of one request; `failed` tells it how an attempt went."""

    def __init__(self, candidates: list[RouteCandidate], policy: FailoverPolicy, *, clock=time.monotonic, rng=None):
        self.candidates = candidates
        self.policy = policy
        self.clock = clock
        self.rng = rng or random.Random()
        self.started = clock()
        self.deadline = self.started + policy.max_total_seconds
        self.attempts = 0
        self.ready_at = {c.mapping_id: self.started for c in candidates}
        self.failures: dict[int, int] = {}
        self.out: set[int] = set()

    def remaining(self) -> float:
        return max(0.0, self.deadline - self.clock())

    def next(self) -> tuple[RouteCandidate, float] | None:
        """The member to try next and how long to wait first; None when attempts, members or time are used up."""
        if self.attempts >= self.policy.max_attempts:
            return None
        live = [
            (self.ready_at[c.mapping_id], i, c) for i, c in enumerate(self.candidates) if c.mapping_id not in self.out
        ]
        if not live:
            return None
        ready_at, _, candidate = min(live, key=lambda item: item[:2])
        now = self.clock()
        delay = max(0.0, ready_at - now)
        if now + delay >= self.deadline:
            return None
        self.attempts += 1
        return candidate, delay

    def failed(self, candidate: RouteCandidate, failure: Failure) -> None:
        now = self.clock()
        count = self.failures[candidate.mapping_id] = self.failures.get(candidate.mapping_id, 0) + 1
        if failure.kind in PROVIDER_FAILURES:
            self.out.update(c.mapping_id for c in self.candidates if c.provider_id == candidate.provider_id)
        elif failure.kind == NOT_FOUND:
            self.out.add(candidate.mapping_id)
        elif failure.retry_after is not None:
            if failure.retry_after > self.policy.retry_after_max:
                self.out.add(candidate.mapping_id)
            else:
                self.ready_at[candidate.mapping_id] = now + failure.retry_after
        else:
            self.ready_at[candidate.mapping_id] = now + self.policy.backoff(count, self.rng)
