"""The one base of the public API: read-only anonymous access, pagination, throttling, response cache, ETags."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import InvalidPage
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from drf_spectacular.utils import OpenApiResponse
from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.throttling import AnonRateThrottle

from modelgraph.api import cache as api_cache
from modelgraph.api.client_ip import client_ip
from modelgraph.api.errors import (
    ErrorSerializer,
    ParameterError,
    ParameterErrorSerializer,
    Throttled,
    ThrottledSerializer,
    api_exception_handler,
)

SAFE_READS = ("GET", "HEAD")
CACHE_CONTROL = "public, no-cache"  # clients may keep a copy but must revalidate (cheap: ETag → 304)


def parse_positive_int(name: str, raw: str, maximum: int | None = None) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ParameterError(name, f"A whole number is required, got {raw[:40]!r}.") from None
    if value < 1 or (maximum is not None and value > maximum):
        bound = f" and at most {maximum}" if maximum is not None else ""
        raise ParameterError(name, f"Must be at least 1{bound}, got {value}.")
    return value


class APIPagination(PageNumberPagination):
    """Page-number pagination: `page` (1-based) and `page_size` (1–API_MAX_PAGE_SIZE); bad values are 400."""

    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.API_MAX_PAGE_SIZE

    @property
    def page_size(self) -> int:
        return settings.API_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:  # given but empty is a 400, like any other value that is not a number
            return self.page_size
        return parse_positive_int(self.page_size_query_param, raw, self.max_page_size)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if raw in self.last_page_strings:
            return paginator.num_pages
        return parse_positive_int(self.page_query_param, raw)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        paginator = self.django_paginator_class(queryset, self.get_page_size(request))
        number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            raise NotFound(f"Page {number} does not exist: the last page is {paginator.num_pages}.") from None
        return list(self.page)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1 (or `last`). A page beyond the last one is 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page (default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


class ClientRateThrottle(AnonRateThrottle):
    """Per-client (per-IP) request rate from API_THROTTLE_RATE, counted in fixed windows with one atomic INCR.

    DRF's own throttle keeps a list of every request time in the window and rewrites it on each request; a counter
    costs the same at 10 or 10,000 requests a minute. A cache outage lets requests through.
    """

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_ident(self, request) -> str:
        return client_ip(request)  # X-Forwarded-For only from API_TRUSTED_PROXIES (see modelgraph/api/client_ip.py)

    def counter(self, request) -> api_cache.Counter | None:
        """This client's counter for the current window (and the wait until the next); None: do not count."""
        if self.rate is None or api_cache.breaker.is_open:
            return None
        now = self.timer()
        window = int(now // self.duration)
        self.wait_seconds = (window + 1) * self.duration - now
        return api_cache.Counter(f"api:throttle:{self.get_ident(request)}:{window}", int(self.duration) + 1)

    def allow_request(self, request, view) -> bool:
        prior = getattr(request, "api_lookup", None)
        if prior is not None and prior.throttle is not None:  # counted already, before DRF ran
            self.wait_seconds = prior.throttle.wait_seconds
            return self.verdict(prior.found.count)
        counter = self.counter(request)
        if counter is None:
            return True
        if getattr(view, "defer_throttle", False):
            view.throttle_counter = (counter, self)  # counted with the response-cache look-up, in one round trip
            return True
        return self.verdict(api_cache.count_hit(counter.key, counter.timeout))

    def verdict(self, count: int | None) -> bool:
        return count is None or count <= self.num_requests

    def wait(self) -> float:
        return self.wait_seconds


NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such object, or a page beyond the last one.")}
# What any read of the public API may answer besides 200 (views override 404 when they say more, e.g. near matches).
ERROR_RESPONSES = {
    304: OpenApiResponse(description="Not modified: the `If-None-Match` / `If-Modified-Since` copy is current."),
    400: OpenApiResponse(ParameterErrorSerializer, description="A parameter is invalid; `errors` names it."),
    **NOT_FOUND,
    429: OpenApiResponse(ThrottledSerializer, description="Too many requests; see `retry_after` / Retry-After."),
}


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


class ReadOnlyViewSet(viewsets.GenericViewSet):
    """Anonymous GET/HEAD only (writes are 405), throttled per client, cached by version tags, answered with 304s.

    Subclasses say what a response shows through `cache_tags()` (default: the whole catalogue) and how long it may
    be kept through `cache_timeout_setting`. Cache hits of views whose tags need no database read are answered
    before DRF runs (`serve_hit`).
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    pagination_class = APIPagination
    throttle_classes = [ClientRateThrottle]
    http_method_names = ["get", "head", "options"]
    cache_timeout_setting = "API_CACHE_CATALOGUE_SECONDS"
    cache_statuses: tuple[int, ...] = (200,)  # answers worth keeping (e.g. a 404 that was costly to reach)

    _cache_store: tuple[str, dict[str, int]] | None = None
    _last_modified: int | None = None

    defer_throttle = False
    throttle_counter: tuple[api_cache.Counter, ClientRateThrottle] | None = None

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        view = super().as_view(actions, **initkwargs)

        def view_or_cache_hit(request, *args, **kwargs):
            hit = serve_hit(cls, view.actions, view.initkwargs, request, kwargs)
            return hit if hit is not None else view(request, *args, **kwargs)

        return functools.update_wrapper(view_or_cache_hit, view)

    def cache_tags(self) -> list[str]:
        return [api_cache.CATALOGUE]

    def cache_tags_are_static(self) -> bool:
        """Whether `cache_tags()` is known without reading the database; then a hit is answered before DRF runs and
        the throttle count rides along with the cache look-up. True when `cache_tags` is not overridden; views that
        override it say which actions qualify (e.g. `self.action == "list"`)."""
        return type(self).cache_tags is ReadOnlyViewSet.cache_tags

    def get_exception_handler(self):
        return api_exception_handler

    def throttled(self, request, wait):
        raise Throttled(wait, settings.API_THROTTLE_RATE)

    def initial(self, request, *args, **kwargs):
        prior = getattr(request, "api_lookup", None)
        self.defer_throttle = (
            prior is None and request.method in SAFE_READS and api_cache.enabled() and self.cache_tags_are_static()
        )
        super().initial(request, *args, **kwargs)
        for name, values in [*request.query_params.lists(), *((k, [v]) for k, v in kwargs.items())]:
            if any("\x00" in str(value) for value in values):
                self._count_deferred_throttle(request)
                raise ParameterError(name, "Must not contain NUL characters.")
        if request.method in SAFE_READS:
            method = request.method.lower()
            setattr(self, method, functools.partial(self._serve_through_cache, getattr(self, method)))

    def _count_deferred_throttle(self, request) -> None:
        """Count a request that ends before the cache look-up that was to count it."""
        if self.throttle_counter is not None:
            counter, throttle = self.throttle_counter
            self.throttle_counter = None
            if not throttle.verdict(api_cache.count_hit(counter.key, counter.timeout)):
                self.throttled(request, throttle.wait())

    def _serve_through_cache(self, handler, request, *args, **kwargs):
        if not api_cache.enabled():
            self._count_deferred_throttle(request)
            return handler(request, *args, **kwargs)
        key = request_cache_key(request)
        prior = getattr(request, "api_lookup", None)
        if prior is not None and prior.key == key:
            found = prior.found
        else:
            counter, throttle = self.throttle_counter or (None, None)
            found = api_cache.lookup(key, self.cache_tags(), counter)
            if throttle is not None and not throttle.verdict(found.count):
                self.throttled(request, throttle.wait())
        if found.versions is None:  # the cache cannot vouch for freshness: read the database
            return handler(request, *args, **kwargs)
        if found.entry is not None:
            self._last_modified = found.entry.last_modified
            return hit_response(request, found.entry)
        self._last_modified = api_cache.last_modified(found.versions)
        self._cache_store = (key, found.versions)
        return handler(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        status = response.status_code
        if request.method not in SAFE_READS or status not in (200, *self.cache_statuses):
            return response
        if response.has_header("X-Cache"):  # answered from the cache
            return response
        if hasattr(response, "render"):
            response.render()
        etag = api_cache.strong_etag(response.content)
        response["X-Cache"] = "MISS" if self._cache_store else "BYPASS"
        if self._cache_store and status in self.cache_statuses:
            key, tag_versions = self._cache_store
            entry = api_cache.CachedResponse(
                body=response.content,
                content_type=response["Content-Type"],
                etag=etag,
                last_modified=self._last_modified,
                versions=api_cache.frozen(tag_versions),
                status=status,
            )
            api_cache.response_set(key, entry, getattr(settings, self.cache_timeout_setting))
        if status != 200:
            return response
        response["ETag"] = etag
        return conditional(request, response, self._last_modified)
