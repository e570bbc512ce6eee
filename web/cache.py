"""Whole-page caching keyed by the versions of what a page shows.

A page is stored under the current version tokens of the catalogue (bumped by every catalogue write and registry
load) and, for pages with charts or rankings, of telemetry (bumped by every probe round): the API's invalidation
(modelgraph.api.cache) so a page is never older than the data it shows. A cache outage costs a render, never an
error. `WEB_CACHE_ENABLED = False` turns it off (query-count tests measure the database work).

Below the whole pages, `page_part` keeps what only the catalogue (or the snapshot archive) changes, such as a
model's look-up, the offers it ranks, their archive links, its price periods and the HTML no telemetry changes
(web/model_page.py), under those versions alone: the telemetry version changes every probe round and makes every
model page render again, and those renders need not read the catalogue again. It is not turned off with the page
cache: it is the precomputed path a render takes (issue 19), and every write that changes a part bumps one of its
versions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from functools import wraps
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from catalog import cache_tags
from modelgraph.api import cache as api_cache

CATALOGUE, TELEMETRY, SNAPSHOTS = cache_tags.CATALOGUE, cache_tags.TELEMETRY, cache_tags.SNAPSHOTS
PAGE_PREFIX = "web:page:"
PART_PREFIX = "web:part:"

T = TypeVar("T")


def enabled() -> bool:
    return getattr(settings, "WEB_CACHE_ENABLED", True) and not api_cache.breaker.is_open


def cached_page(*tags: str):
    """Cache a view's 200 answers for the API's catalogue time (5 min), or its telemetry time (1 min) when the page
    shows telemetry."""
    timeout_setting = "API_CACHE_TELEMETRY_SECONDS" if TELEMETRY in tags else "API_CACHE_CATALOGUE_SECONDS"

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in ("GET", "HEAD") or not enabled():
                return view(request, *args, **kwargs)
            versions = api_cache.versions(tags)
            if versions is None:
                return view(request, *args, **kwargs)
            key = page_key(request, versions)
            hit = api_cache.guarded_call(lambda: cache.get(key))
            if isinstance(hit, tuple) and len(hit) == 2:
                response = HttpResponse(hit[1], content_type=hit[0])
                response["X-Cache"] = "hit"
                return response
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                stored = (response["Content-Type"], response.content)
                api_cache.guarded_call(lambda: cache.set(key, stored, timeout=getattr(settings, timeout_setting)))
                response["X-Cache"] = "miss"
            return response

        return wrapped

    return decorator


def page_key(request: HttpRequest, versions: dict[str, int]) -> str:
    """The page's host and full path under the versions it was rendered with: a bump makes a new key."""
    digest = hashlib.blake2b(digest_size=20)
    for part in (request.get_host(), request.get_full_path(), *(f"{t}={versions[t]}" for t in sorted(versions))):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return PAGE_PREFIX + digest.hexdigest()


def page_part(
    name: str,
    key: str,
    compute: Callable[[], T],
    *,
    tags: Iterable[str] = (CATALOGUE,),
    store: Callable[[T], bool] = bool,
) -> T:
    """`compute()` kept as `name`/`key` with the versions of `tags` it was computed under, and served while they are
    current: computed again after any write that bumps one of them, and without the cache when it cannot say (an
    outage costs the computation, never an error or a stale part). `store` says whether a result is worth keeping
    (by default any truthy one).

    One round trip, as the API's `lookup`: the versions and the part come back in the same MGET (the part is not
    keyed by version, so each name and key holds one entry, replaced when it is outdated)."""
    if not api_cache.replay_pending_bumps():  # a write this process made is not in the cache yet: nothing is safe
        return compute()
    version_keys = {api_cache.VERSION_PREFIX + tag: tag for tag in sorted(set(tags))}
    part_key = f"{PART_PREFIX}{name}:{key}"
    found = api_cache.guarded_call(lambda: cache.get_many([*version_keys, part_key]))
    if found is None:
        return compute()
    stored = found.pop(part_key, None)
    current: dict[str, int] | None = {tag: found[k] for k, tag in version_keys.items() if k in found}
    if len(current) < len(version_keys):
        current = api_cache.versions(version_keys.values())  # a fresh token for each missing one, never a default
        if current is None:
            return compute()
    versions = api_cache.frozen({tag: int(value) for tag, value in current.items()})
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == versions:
        return stored[1]
    value = compute()
    if store(value):
        entry = (versions, value)
        api_cache.guarded_call(lambda: cache.set(part_key, entry, timeout=settings.API_CACHE_CATALOGUE_SECONDS))
    return value


def key_of(text: str) -> str:
    """A cache-key-safe digest of any text (a path as typed, with spaces or any length)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
