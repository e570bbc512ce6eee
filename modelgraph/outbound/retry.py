"""How hard one outbound request is tried: attempts, exponential backoff with jitter, Retry-After up to a cap.

A small policy of our own rather than tenacity or httpx-retries: httpx-retries retries inside the transport, where
callers cannot count attempts or say why the last one failed (the snapshot manifest and ingestion's errors do), and
tenacity's retry loop would need every retryable response turned into an exception just to carry its Retry-After.
Callers keep their own few-line loops (sync or async) and ask this policy two things: retry? and how long to wait?
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

from modelgraph.outbound.failures import RETRYABLE, FailureKind, classify_exception, classify_status


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - (now if now is not None else time.time()))


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one request is tried. Tests shrink the waits and record them through `sleep`/`async_sleep`."""

    attempts: int = 4  # tries per request, the first included
    backoff: float = 0.5  # first wait in seconds; doubles on each retry
    backoff_max: float = 8.0  # no backoff wait is longer, jitter included
    retry_after_max: float = 30.0  # a longer Retry-After is honoured only up to this many seconds
    jitter: float = 0.25  # each backoff wait is scaled by a random factor in [1 - jitter, 1 + jitter]
    retry_on: frozenset[FailureKind] = RETRYABLE  # the failure kinds worth another try
    statuses: frozenset[int] | None = None  # when set, exactly these statuses are retried (whatever their kind)
    sleep: Callable[[float], None] = time.sleep
    async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def wait(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt `attempt` (1 for the first): the server's Retry-After when it gave
        one (never more than `retry_after_max`), else exponential backoff with jitter (never more than
        `backoff_max`)."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.retry_after_max))
        wait = self.backoff * (2 ** (max(1, attempt) - 1)) * random.uniform(1 - self.jitter, 1 + self.jitter)
        return max(0.0, min(wait, self.backoff_max))

    def retries(self, kind: FailureKind | None) -> bool:
        return kind in self.retry_on

    def retries_status(self, status: int) -> bool:
        if self.statuses is not None:
            return status in self.statuses
        return self.retries(classify_status(status))

    def retries_exception(self, exc: BaseException) -> bool:
        return self.retries(classify_exception(exc))
