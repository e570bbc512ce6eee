"""Counting a client's requests with fewer round trips: a process leases a block of the client's window counter.

The throttle numbers each request by a shared counter (one per client and window, in the cache: see
throttling.ClientRateThrottle). Asking the cache for every number cost the public API's in-process answers (the
resolve lane) a Redis round trip per request, as much as the rest of the answer. Instead, a process takes `size`
numbers at once (one INCRBY) and hands them out to that client's next requests itself.

What this changes, and why it is bounded: a number handed out is still the request's place in the window, so a
request past the limit is refused as before; only numbers a process took and did not use by the window's end are
counted without a request behind them. A client may so be refused up to (size − 1) requests early per process.
The lease grows with the limit (one number per 100 of it, at most 16), so that slack stays under 1% of the limit
per process, and limits under 200 a window are counted one by one, exactly as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

LEASE_MAX = 16
LIMIT_PER_NUMBER = 100  # a lease of n numbers needs a limit of at least n × 100 requests a window
MAX_HELD = 4096  # clients with a lease held in this process (older windows' leases are dropped past it)


def lease_size(limit: int) -> int:
    """How many numbers to take at once for a counter whose limit is `limit` requests a window."""
    return max(1, min(LEASE_MAX, limit // LIMIT_PER_NUMBER))


class CounterLeases:
    """The numbers this process took and has not handed out yet, per counter key (thread-safe)."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[int, int]] = {}  # key -> (next number to hand out, last number taken)
        self._lock = threading.Lock()

    def next_number(self, key: str, size: int, take: Callable[[int], int | None]) -> int | None:
        """The next number of `key` for one request: from this process's lease, else from `take(size)` (which
        adds `size` to the shared counter and returns its new value, or None when the counter cannot be reached:
        the request is then not counted)."""
        with self._lock:
            held = self._held.get(key)
            if held is not None and held[0] <= held[1]:
                self._held[key] = (held[0] + 1, held[1])
                return held[0]
        last = take(size)
        if last is None:
            return None
        first = last - size + 1
        with self._lock:
            if len(self._held) >= MAX_HELD:
                self._held.clear()  # unused numbers of dropped leases stay counted: the bounded slack above
            if size > 1:
                self._held[key] = (first + 1, last)
        return first

    def clear(self) -> None:
        with self._lock:
            self._held.clear()


leases = CounterLeases()
