"""Versioned response caching for the public API: version counters per entity, and every call outage-proof.

A cached response records the version token of everything it shows (its tags, declared in catalog/cache_tags.py:
`catalogue` for lists, `model:<pk>` for one model...) and is served only while those are still the current versions.
Invalidation never deletes responses: it replaces the version tokens of exactly what changed, so the next read
misses. Tokens are nanosecond timestamps, which also give Last-Modified for free.

A stored response outlives its freshness by API_CACHE_STALE_SECONDS: that last good copy is served (marked stale)
only when the database is down (stale-if-error, modelgraph/middleware.py), never in place of a fresh answer.

Every cache call goes through `_guarded`: an error (or a call slow enough to be a timeout) opens a short circuit
breaker, and while it is open the API reads the database without touching the cache at all.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

T = TypeVar("T")

VERSION_PREFIX = "api:ver:"
RESPONSE_PREFIX = "api:resp:"

# A cache call this slow is a timeout (SOCKET_TIMEOUT is 0.5 s) that django-redis swallowed: treat it as an outage.
SLOW_CALL_SECONDS = 0.45
BREAKER_SECONDS = 5.0


class _Breaker:
    """Per-process circuit breaker: after a cache failure, skip the cache for a few seconds."""

    def __init__(self) -> None:
        self._open_until = 0.0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self, reason: str) -> None:
        with self._lock:
            if not self.is_open:
                logger.warning("API cache unavailable (%s): serving from the database for %ss", reason, BREAKER_SECONDS)
            self._open_until = time.monotonic() + BREAKER_SECONDS

    def reset(self) -> None:
        """Trust the cache again now (a health probe saw it answer): also retry missed bumps at once."""
        global _last_retry
        self._open_until = 0.0
        _last_retry = 0.0


breaker = _Breaker()


def _guarded(operation: Callable[[], T], default: T) -> T:
    if breaker.is_open:
        return default
    started = time.monotonic()
    try:
        result = operation()
    except Exception as exc:  # any backend error: the database answers instead
        breaker.trip(type(exc).__name__)
        return default
    if time.monotonic() - started > SLOW_CALL_SECONDS:
        breaker.trip("slow call")
    return result


def enabled() -> bool:
    return settings.API_CACHE_ENABLED and not breaker.is_open


def _new_token() -> int:
    return time.time_ns()


def _versions_from(found: dict, keys: dict[str, str]) -> dict[str, int] | None:
    """Version tokens of `keys` (cache key → tag) from a get_many answer, creating the missing ones."""
    missing = [key for key in keys if key not in found]
    if missing:
        # A version evicted or never set gets a fresh token (SET NX): a constant default could revive a stale body.
        token = _new_token()
        for key in missing:
            _guarded(lambda key=key: cache.add(key, token, timeout=None), False)
        found = {**found, **_guarded(lambda: cache.get_many(missing), {})}
    if any(key not in found for key in keys):
        return None
    return {tag: int(found[key]) for key, tag in keys.items()}


def versions(tags: Iterable[str]) -> dict[str, int] | None:
    """Current version token of each tag, creating missing ones; None when the cache cannot say."""
    keys = {VERSION_PREFIX + tag: tag for tag in dict.fromkeys(tags)}
    if not keys:
        return {}
    return _versions_from(_guarded(lambda: cache.get_many(list(keys)), {}), keys)


# Bumps that could not reach the cache (it was down when the write committed). Until they are replayed this
# process reads the database; the first look-up that finds the cache back replays them before anything is served.
_pending_bumps: set[str] = set()
_pending_lock = threading.Lock()
_RETRY_SECONDS = 1.0
_last_retry = 0.0


def _write_versions(tags: set[str]) -> bool:
    """Store a new token for each tag and read it back (django-redis with IGNORE_EXCEPTIONS fails silently)."""
    values = {VERSION_PREFIX + tag: _new_token() for tag in tags}
    try:
        cache.set_many(values, timeout=None)
        return cache.get_many(list(values)) == values
    except Exception:
        return False


# How many bumps this process has made (a figure for metrics and for tests that writes are coalesced).
bump_count = 0


def bump(tags: Iterable[str]) -> None:
    """Give each tag a new version token: every response that showed one of them is no longer served.

    Never skipped (not even while the circuit breaker is open): a bump that fails is kept and replayed."""
    global bump_count
    tags = set(tags)
    bump_count += 1
    if tags and not _write_versions(tags):
        with _pending_lock:
            _pending_bumps.update(tags)
        breaker.trip("version bump failed")


def forget_state() -> None:
    """Tests: a closed breaker and no missed bumps (both are per-process state)."""
    with _pending_lock:
        _pending_bumps.clear()
    breaker.reset()


def replay_pending_bumps() -> bool:
    """Replay bumps that failed (at most once a second); True when none is left."""
    global _last_retry
    if not _pending_bumps:
        return True
    now = time.monotonic()
    if now - _last_retry < _RETRY_SECONDS:
        return False
    _last_retry = now
    with _pending_lock:
        tags = set(_pending_bumps)
    if not _write_versions(tags):
        return False
    with _pending_lock:
        _pending_bumps.difference_update(tags)
    logger.warning("API cache back: replayed %d version bump(s) missed during the outage", len(tags))
    return not _pending_bumps


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    content_type: str
    etag: str
    last_modified: int | None  # seconds since the epoch
    versions: tuple[tuple[str, int], ...]  # the tag versions it was computed under: valid while they are current
    status: int = 200
    fresh_until: float | None = None  # epoch seconds; kept longer than this only as the stale-if-error copy

    @property
    def is_fresh(self) -> bool:
        return self.fresh_until is None or time.time() < self.fresh_until


def response_key(parts: Iterable[str]) -> str:
    digest = hashlib.blake2b(digest_size=20)
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return RESPONSE_PREFIX + digest.hexdigest()


def frozen(tag_versions: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(tag_versions.items()))


@dataclass(frozen=True)
class Counter:
    """A request counter to bump in the same round trip as a look-up (the throttle's)."""

    key: str
    timeout: int


@dataclass(frozen=True)
class Lookup:
    versions: dict[str, int] | None  # None: the cache cannot vouch for freshness
    entry: CachedResponse | None
    count: int | None = None  # the counter after this request; None when not asked or not counted


def _redis_client():
    """django-redis' client, for the pipelined hot path; None with any other backend."""
    client = getattr(cache, "client", None)
    return client if hasattr(client, "get_client") and hasattr(client, "decode") else None


def _fetch(keys: list[str], counter: Counter | None) -> tuple[dict, int | None]:
    """get_many(keys) and the counter bumped: one pipelined round trip on Redis, two calls elsewhere."""
    client = _redis_client()
    if client is None:
        count = count_hit(counter.key, counter.timeout) if counter else None
        return _guarded(lambda: cache.get_many(keys), {}), count

    def pipelined() -> tuple[dict, int | None]:
        redis = client.get_client(write=True)
        pipe = redis.pipeline(transaction=False)
        if counter:
            counter_key = client.make_key(counter.key)
            pipe.incr(counter_key)
        pipe.mget([client.make_key(key) for key in keys])
        *counted, values = pipe.execute()
        count = counted[0] if counter else None
        if count == 1:  # a new window's first request gives the counter its lifetime
            redis.expire(counter_key, counter.timeout)
        found = {key: client.decode(value) for key, value in zip(keys, values, strict=True) if value is not None}
        return found, count

    return _guarded(pipelined, ({}, None))


def lookup(key: str, tags: Iterable[str], counter: Counter | None = None, held: CachedResponse | None = None) -> Lookup:
    """One round trip: the current versions of `tags`, the response stored under `key` if still valid, and
    (optionally) a request counter bumped.

    A stored response carries the versions it was computed under; a bump of any of them makes it a miss. (Bodies are
    not keyed by version so that versions and body come back in the same MGET.) `held`: a copy of that response this
    process already has; when it is fresh only the versions are read, and it is the answer while they still match.
    """
    if not replay_pending_bumps():  # a write this process made is not in the cache yet: nothing there is safe
        return Lookup(None, None, count_hit(counter.key, counter.timeout) if counter else None)
    keys = {VERSION_PREFIX + tag: tag for tag in dict.fromkeys(tags)}
    if held is not None and held.is_fresh:
        found, count = _fetch([*keys], counter)
        tag_versions = _versions_from(found, keys)
        if tag_versions is not None and held.versions == frozen(tag_versions):
            return Lookup(tag_versions, held, count)
        found, _ = _fetch([*keys, key], None)  # the held copy is outdated: what the cache holds now (counted once)
    else:
        found, count = _fetch([*keys, key], counter)
    entry = found.pop(key, None)
    tag_versions = _versions_from(found, keys)
    if not isinstance(entry, CachedResponse) or not getattr(entry, "is_fresh", False):
        entry = None
    elif tag_versions is None or entry.versions != frozen(tag_versions):
        entry = None
    return Lookup(tag_versions, entry, count)


def response_set(key: str, value: CachedResponse, timeout: int) -> None:
    """Store a response: fresh for `timeout` seconds, then kept API_CACHE_STALE_SECONDS more as the last good copy."""
    value = replace(value, fresh_until=time.time() + timeout)
    _guarded(lambda: cache.set(key, value, timeout=timeout + settings.API_CACHE_STALE_SECONDS), None)


def stale_entry(key: str) -> CachedResponse | None:
    """The last good copy stored under `key`, whatever its versions and age: only for when the database is down."""
    entry = _guarded(lambda: cache.get(key), None)
    return entry if isinstance(entry, CachedResponse) else None


def last_modified(tag_versions: dict[str, int]) -> int | None:
    return max(tag_versions.values()) // 1_000_000_000 if tag_versions else None


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def guarded_call(operation: Callable[[], Any], default: Any = None) -> Any:
    """Run any other cache operation (health probes) under the same outage rules."""
    return _guarded(operation, default)


def count_hit(key: str, timeout: int, by: int = 1) -> int | None:
    """Add `by` to the counter `key` (created with `timeout`) and return it; None when the cache cannot count."""

    client = _redis_client()

    def increment() -> int:
        if client is not None:  # django-redis: one plain INCR on the connection (its incr() runs a Lua script)
            redis = client.get_client(write=True)
            redis_key = client.make_key(key)
            count = redis.incr(redis_key, by)
            if count == by:  # a new window's first request gives the counter its lifetime
                redis.expire(redis_key, timeout)
            return count
        try:
            return cache.incr(key, by)
        except ValueError:  # no counter yet in this window
            if cache.add(key, by, timeout=timeout):
                return by
            return cache.incr(key, by)

    return _guarded(increment, None)
