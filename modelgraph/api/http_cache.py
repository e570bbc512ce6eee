"""The response cache at the HTTP edge: a request's cache key, a stored answer as a response with its caching
headers and 304s, and the hit answered before DRF runs (one Redis round trip, the throttle count riding along)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from modelgraph.api import cache as api_cache
from modelgraph.api.throttling import ClientRateThrottle

SAFE_READS = ("GET", "HEAD")
CACHE_CONTROL = "public, no-cache"  # clients may keep a copy but must revalidate (cheap: ETag → 304)


@dataclass(frozen=True)
class PriorLookup:
    """A cache look-up made before DRF ran (see `serve_hit`), reused by the DRF path on a miss."""

    key: str
    found: api_cache.Lookup
    throttle: ClientRateThrottle | None  # set when the look-up also counted the request


def request_cache_key(request) -> str:
    query = sorted((k, v) for k, values in request.GET.lists() for v in values)
    return api_cache.response_key([request.method, request.scheme, request.get_host(), request.path, repr(query)])


def hit_response(request, entry: api_cache.CachedResponse) -> HttpResponse:
    response = HttpResponse(entry.body, content_type=entry.content_type, status=entry.status)
    response["X-Cache"] = "HIT"
    if entry.status != 200:
        return response
    response["ETag"] = entry.etag
    return conditional(request, response, entry.last_modified)


def conditional(request, response: HttpResponse, last_modified: int | None) -> HttpResponse:
    """Caching headers on a 200, and 304 when the client's copy (If-None-Match / If-Modified-Since) is current."""
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = CACHE_CONTROL
    response["Vary"] = "Accept"
    return get_conditional_response(request, etag=response["ETag"], last_modified=last_modified, response=response)


def _accepts_json(request) -> bool:
    accept = request.META.get("HTTP_ACCEPT", "")
    return not accept or any(media in accept for media in ("application/json", "*/*", "application/*"))


def serve_hit(viewset_class, actions: dict, initkwargs: dict, request, kwargs: dict) -> HttpResponse | None:
    """Answer a cache hit before DRF runs (no Request wrapper, negotiation, permissions...): one Redis round trip
    counts the request against the throttle, reads the tag versions and the stored response. Anything else (a miss,
    a throttled client, tags that need the database, an unusual request) returns None and DRF answers."""
    method = request.method.lower()
    if request.method not in SAFE_READS or method not in actions or not api_cache.enabled():
        return None
    if not _accepts_json(request) or "format" in request.GET:
        return None
    try:
        viewset = viewset_class(**initkwargs)
        viewset.action, viewset.request, viewset.args, viewset.kwargs = actions[method], request, (), kwargs
        if not viewset.cache_tags_are_static():
            return None
        throttle = ClientRateThrottle()
        counter = throttle.counter(request)
        key = request_cache_key(request)
        found = api_cache.lookup(key, viewset.cache_tags(), counter)
    except Exception:  # the DRF path will meet the same problem and answer it properly
        return None
    request.api_lookup = PriorLookup(key, found, throttle if counter is not None else None)
    if counter is not None and not throttle.verdict(found.count):
        return None  # DRF answers the 429 (from this count)
    if found.versions is None or found.entry is None:
        return None
    return hit_response(request, found.entry)
