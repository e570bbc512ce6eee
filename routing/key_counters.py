"""The counters behind gateway key limits: requests over a sliding minute, tokens per UTC day, total spend.

With Redis as the cache (production) every gateway process shares them: admission is one Lua script (check the
day's tokens and the spend, then the sliding minute, and count the request, atomically), settlement another. On the
embedded default (local-memory cache) they live in this process, under a lock. A Redis outage falls back to the
process's own counters for ROUTING_KEY_COUNTERS_RETRY seconds: limits then hold per process, requests never fail.

Each counter starts from what the database knows (the grant's seeds: usage rows written in batches), so a Redis
flush or a restart does not hand a key a fresh budget.

Redis is called synchronously from the event loop: one loopback round trip (tens of microseconds) costs less than
handing it to a thread, and the cache's socket timeout bounds an outage.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver

from routing.conf import setting

if TYPE_CHECKING:
    from routing.key_limits import KeyGrant

logger = logging.getLogger(__name__)
REQUESTS, TOKENS, BUDGET = "requests", "tokens", "budget"
WINDOW_SECONDS = 60.0
SPEND_TTL = 30 * 86400  # an idle key's spend counter is dropped, then seeded again from the database
_CODES = {1: REQUESTS, 2: TOKENS, 3: BUDGET}

# KEYS: sliding-minute set, today's tokens, spend. ARGV: rpm limit, tokens limit, budget (nano-USD), tokens seed,
# spend seed, seconds left today, a unique member for this request, window (ms), spend TTL. A limit of -1 is none.
ADMIT_LUA = """
local tokens_limit, budget = tonumber(ARGV[2]), tonumber(ARGV[3])
if tokens_limit >= 0 then
  redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[6], 'NX')
  if tonumber(redis.call('GET', KEYS[2])) >= tokens_limit then return {2, tonumber(ARGV[6]) * 1000} end
end
if budget >= 0 then
  redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[9], 'NX')
  if tonumber(redis.call('GET', KEYS[3])) >= budget then return {3, 0} end
end
local rpm = tonumber(ARGV[1])
if rpm >= 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local window = tonumber(ARGV[8])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  if redis.call('ZCARD', KEYS[1]) >= rpm then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {1, tonumber(oldest[2]) + window - now}
  end
  redis.call('ZADD', KEYS[1], now, ARGV[7])
  redis.call('PEXPIRE', KEYS[1], window)
end
return {0, 0}
"""

# KEYS: today's tokens, spend. ARGV: tokens used (-1: not counted), tokens seed, seconds left today, nano-USD spent
# (-1: not counted), spend seed, spend TTL.
SETTLE_LUA = """
if tonumber(ARGV[1]) >= 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3], 'NX')
  redis.call('INCRBY', KEYS[1], ARGV[1])
end
if tonumber(ARGV[4]) >= 0 then
  redis.call('SET', KEYS[2], ARGV[5], 'NX')
  redis.call('INCRBY', KEYS[2], ARGV[4])
  redis.call('EXPIRE', KEYS[2], ARGV[6])
end
return 1
"""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Which limit a request hit and how long until asking again may succeed (None: not by waiting)."""

    limit: str
    retry_after: float | None


def utc_day(epoch: float) -> tuple[str, int]:
    """The UTC day of a moment (YYYY-MM-DD) and the whole seconds left in it (at least 1)."""
    moment = datetime.fromtimestamp(epoch, UTC)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() + 86400
    return moment.date().isoformat(), max(1, int(midnight - epoch + 0.999))


def _limit(value: int | None) -> int:
    return -1 if value is None else value


class Counters(Protocol):
    def admit(self, grant: KeyGrant, now: float) -> Refusal | None: ...

    def add(self, grant: KeyGrant, now: float, tokens: int | None, nano_usd: int | None) -> None: ...


class LocalCounters:
    """This process's counters (the embedded default, and the fallback while Redis is away)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.day = ""
        self.requests: dict[str, deque[float]] = {}
        self.tokens: dict[str, int] = {}
        self.spend: dict[str, int] = {}

    def _roll(self, day: str) -> None:
        if day != self.day:
            self.day, self.tokens = day, {}

    def admit(self, grant: KeyGrant, now: float) -> Refusal | None:
        day, left = utc_day(now)
        with self.lock:
            self._roll(day)
            if grant.tokens_per_day is not None:
                used = self.tokens.setdefault(grant.digest, grant.tokens_seed(day))
                if used >= grant.tokens_per_day:
                    return Refusal(TOKENS, left)
            if grant.budget_nano_usd is not None:
                if self.spend.setdefault(grant.digest, grant.spent_nano_usd) >= grant.budget_nano_usd:
                    return Refusal(BUDGET, None)
            if grant.requests_per_minute is not None:
                log = self.requests.setdefault(grant.digest, deque())
                while log and log[0] <= now - WINDOW_SECONDS:
                    log.popleft()
                if len(log) >= grant.requests_per_minute:
                    return Refusal(REQUESTS, log[0] + WINDOW_SECONDS - now)
                log.append(now)
        return None

    def add(self, grant: KeyGrant, now: float, tokens: int | None, nano_usd: int | None) -> None:
        day, _ = utc_day(now)
        with self.lock:
            self._roll(day)
            if tokens is not None:
                self.tokens[grant.digest] = self.tokens.get(grant.digest, grant.tokens_seed(day)) + tokens
            if nano_usd is not None:
                self.spend[grant.digest] = self.spend.get(grant.digest, grant.spent_nano_usd) + nano_usd


class RedisCounters:
    """Counters in the cache's Redis, shared by every process using it (keys under the cache's prefix)."""

    def __init__(self, client, make_key) -> None:
        self.client, self.make_key = client, make_key
        self.admit_script = client.register_script(ADMIT_LUA)
        self.settle_script = client.register_script(SETTLE_LUA)

    def _keys(self, grant: KeyGrant, day: str) -> tuple[str, str, str]:
        base = f"routing:key:{grant.digest[:32]}"
        return self.make_key(f"{base}:rpm"), self.make_key(f"{base}:tokens:{day}"), self.make_key(f"{base}:spend")

    def admit(self, grant: KeyGrant, now: float) -> Refusal | None:
        day, left = utc_day(now)
        keys = self._keys(grant, day)
        args = [
            _limit(grant.requests_per_minute),
            _limit(grant.tokens_per_day),
            _limit(grant.budget_nano_usd),
            grant.tokens_seed(day),
            grant.spent_nano_usd,
            left,
            uuid.uuid4().hex,
            int(WINDOW_SECONDS * 1000),
            SPEND_TTL,
        ]
        code, wait_ms = self.admit_script(keys=list(keys), args=args)
        if not code:
            return None
        limit = _CODES[int(code)]
        return Refusal(limit, None if limit == BUDGET else max(0.0, int(wait_ms) / 1000))

    def add(self, grant: KeyGrant, now: float, tokens: int | None, nano_usd: int | None) -> None:
        day, left = utc_day(now)
        _, tokens_key, spend_key = self._keys(grant, day)
        args = [_limit(tokens), grant.tokens_seed(day), left, _limit(nano_usd), grant.spent_nano_usd, SPEND_TTL]
        self.settle_script(keys=[tokens_key, spend_key], args=args)


class SharedCounters:
    """Redis when it answers, this process's counters while it does not (retried after a while)."""

    def __init__(self, shared: Counters | None) -> None:
        self.shared = shared
        self.local = LocalCounters()
        self.retry_at = 0.0

    def _backend(self) -> Counters:
        if self.shared is None or time.monotonic() < self.retry_at:
            return self.local
        return self.shared

    def _failed(self, exc: Exception) -> None:
        self.retry_at = time.monotonic() + setting("ROUTING_KEY_COUNTERS_RETRY")
        logger.warning("routing: key limits counted per process for a while, Redis failed: %s", exc)

    def admit(self, grant: KeyGrant, now: float | None = None) -> Refusal | None:
        backend, now = self._backend(), time.time() if now is None else now
        try:
            return backend.admit(grant, now)
        except Exception as exc:  # a cache outage must never refuse or fail a request
            if backend is self.local:
                raise
            self._failed(exc)
            return self.local.admit(grant, now)

    def add(self, grant: KeyGrant, tokens: int | None, nano_usd: int | None, now: float | None = None) -> None:
        backend, now = self._backend(), time.time() if now is None else now
        try:
            backend.add(grant, now, tokens, nano_usd)
        except Exception as exc:
            if backend is self.local:
                raise
            self._failed(exc)
            self.local.add(grant, now, tokens, nano_usd)


def _redis_counters() -> RedisCounters | None:
    """The cache's Redis when the cache is django-redis; None on the local-memory cache."""
    if not settings.CACHES.get("default", {}).get("BACKEND", "").startswith("django_redis."):
        return None
    from django_redis import get_redis_connection

    cache = caches["default"]
    return RedisCounters(get_redis_connection("default"), lambda name: str(cache.make_key(name)))


_lock = threading.Lock()
_counters: SharedCounters | None = None


def key_counters() -> SharedCounters:
    global _counters
    if _counters is None:
        with _lock:
            if _counters is None:
                _counters = SharedCounters(_redis_counters())
    return _counters


@receiver(setting_changed)
def _forget_counters(*, setting: str, **kwargs) -> None:
    global _counters
    if setting == "CACHES" or setting.startswith("ROUTING_"):
        _counters = None
