"""Precomputed public API answers, served before Django: which paths qualify, and the stored bodies.

The apps that own the views register their routes here (catalog/api/precompute.py, at app ready): a path pattern,
the version tags (catalog/cache_tags.py) every answer of it is computed under, and how long one stays fresh. An answer
Django rendered for such a path is stored with every header Django sent (except the per-request ones) and the version
tokens read *before* it was rendered; the lane (modelgraph/fastlane.py) serves it only while those tokens are still
the current ones, checked in the same single round trip that reads the body (api_cache.lookup). A write bumps a tag,
so the next request misses and Django renders afresh: nothing stale is served, and nothing is ever deleted.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from modelgraph.api import cache as api_cache

# Headers that belong to one request, not to the answer: set again by the lane on every hit.
PER_REQUEST_HEADERS = frozenset({"x-request-id", "x-cache", "date", "set-cookie", "server"})
# Headers that describe the body; every other stored header (the middleware stack's security headers, DRF's Allow)
# is sent on a 304 too.
VIEW_HEADERS = frozenset(
    {"content-type", "content-length", "etag", "last-modified", "cache-control", "vary", "content-encoding"}
    | {"content-disposition", "content-language"}
)
# What Django keeps of a 200 when it answers 304 (django.utils.cache._not_modified, RFC 9110 15.4.5).
NOT_MODIFIED_KEEPS = ("cache-control", "content-location", "date", "etag", "expires", "last-modified", "vary")
LANE_PREFIX = "lane"
ORIGINS_KEY = "api:lane:origins"
MAX_ORIGINS = 4  # the (scheme, host) pairs eager precomputation renders for: a deployment answers under a few


# What a route's `compute` receives: the request (a WSGIRequest) and its query string's (name, value) pairs.
Compute = Callable[[Any, list[tuple[str, str]]], bytes | None]


@dataclass(frozen=True)
class Route:
    """A path whose GET answers are precomputed: `name` is its URL name (the metrics label)."""

    name: str
    pattern: re.Pattern[str]
    tags: tuple[str, ...]
    timeout_setting: str = "API_CACHE_CATALOGUE_SECONDS"
    by_encoding: bool = False  # the answer differs with Accept-Encoding (gzip or not)
    conditional_in_lane: bool = True  # the lane answers If-None-Match itself (else such requests go to Django)
    # Without the response cache (disabled, or down), the route's answer computed in the lane itself from
    # in-process data: (request, query pairs) → JSON body, or None to leave the request to Django.
    compute: Compute | None = None


_routes: dict[str, Route] = {}


def each_once_within(query: list[tuple[str, str]], allowed: Collection[str]) -> bool:
    """Whether every query parameter is one of `allowed` and none is repeated: what a `compute` may answer (a
    repeated or unknown parameter is the view's to judge)."""
    names = [name for name, _ in query]
    return len(set(names)) == len(names) and all(name in allowed for name in names)


def register(
    name: str,
    pattern: str,
    *,
    tags: tuple[str, ...],
    timeout_setting: str = "API_CACHE_CATALOGUE_SECONDS",
    by_encoding: bool = False,
    conditional_in_lane: bool = True,
    compute: Compute | None = None,
) -> Route:
    """Make GETs of paths fully matching `pattern` precomputable (idempotent: a route is kept by name)."""
    route = Route(name, re.compile(pattern), tuple(tags), timeout_setting, by_encoding, conditional_in_lane, compute)
    _routes[name] = route
    return route


def routes() -> tuple[Route, ...]:
    return tuple(_routes.values())


def route_for(path: str) -> Route | None:
    for route in _routes.values():
        if route.pattern.fullmatch(path):
            return route
    return None


@dataclass(frozen=True)
class PrecomputedResponse(api_cache.CachedResponse):
    """A stored 200 with every header Django sent but the per-request ones, as Django spelt and ordered them."""

    headers: tuple[tuple[str, str], ...] = ()

    def edge_headers(self) -> list[tuple[str, str]]:
        """The headers the middleware stack added (security headers...): Django sends them on a 304 as well."""
        return [(name, value) for name, value in self.headers if name.lower() not in VIEW_HEADERS]

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name), None)


def entry_key(scheme: str, host: str, path: str, query: list[tuple[str, str]], gzip: bool) -> str:
    """Where the answer to this request is stored: the query normalised (sorted pairs), as the API cache does."""
    return api_cache.response_key([LANE_PREFIX, scheme, host, path, repr(sorted(query)), "gzip" if gzip else ""])


# Answers this process has served or stored, by key: a hit then reads only the versions (a few bytes) from the cache,
# not the body again. Small bodies only, and a bounded number of them; the versions still decide every time.
HELD_MAX_ENTRIES = 256
HELD_MAX_BODY = 128 * 1024
_held: dict[str, PrecomputedResponse] = {}


def _hold(key: str, entry: object) -> None:
    if isinstance(entry, PrecomputedResponse) and len(entry.body) <= HELD_MAX_BODY:
        _held.pop(key, None)
        _held[key] = entry
        while len(_held) > HELD_MAX_ENTRIES:
            _held.pop(next(iter(_held)), None)


def lookup(key: str, route: Route, counter: api_cache.Counter | None) -> api_cache.Lookup:
    """One round trip: the route's tag versions, the entry if built under exactly those, the throttle counted."""
    found = api_cache.lookup(key, route.tags, counter, held=_held.get(key))
    if found.entry is not None:
        _hold(key, found.entry)
    return found


def keepable(status: int, headers: list[tuple[str, str]]) -> bool:
    """Whether Django's answer may be replayed to anyone: a 200 with an ETag that sets no cookie, and not the last
    good copy Django serves while the database is down (`X-Cache: STALE`, with a `Warning`)."""
    found = {name.lower(): value for name, value in headers}
    stale = "warning" in found or found.get("x-cache") == "STALE"
    return status == 200 and "etag" in found and "set-cookie" not in found and not stale


def store(
    key: str, route: Route, versions: dict[str, int], body: bytes, headers: list[tuple[str, str]]
) -> PrecomputedResponse:
    """Keep Django's answer under `key`, valid while `versions` (read before it was rendered) are current."""
    kept = tuple(
        (name, value)
        for name, value in headers
        if name.lower() not in PER_REQUEST_HEADERS and not name.lower().startswith("access-control-")
    )
    by_name = {name.lower(): value for name, value in kept}
    entry = PrecomputedResponse(
        body=body,
        content_type=by_name.get("content-type", "application/json"),
        etag=by_name.get("etag", ""),
        last_modified=None,
        versions=api_cache.frozen(versions),
        headers=kept,
    )
    timeout = getattr(settings, route.timeout_setting)
    # No stale-if-error copy here: the API cache keeps that one; the lane serves fresh answers only.
    entry = PrecomputedResponse(**{**entry.__dict__, "fresh_until": time.time() + timeout})
    api_cache.guarded_call(lambda: cache.set(key, entry, timeout=timeout))
    _hold(key, entry)
    return entry


def remember_origin(scheme: str, host: str) -> None:
    """Note a (scheme, host) the API is asked under, for eager precomputation after a change (a few at most)."""
    origins = known_origins()
    if (scheme, host) in origins:
        return
    kept = [*origins, (scheme, host)][-MAX_ORIGINS:]
    api_cache.guarded_call(lambda: cache.set(ORIGINS_KEY, kept, timeout=None))


def known_origins() -> list[tuple[str, str]]:
    found = api_cache.guarded_call(lambda: cache.get(ORIGINS_KEY), None)
    return [tuple(origin) for origin in found] if isinstance(found, list) else []  # type: ignore[misc]
