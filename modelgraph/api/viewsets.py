"""The one base of the public API: read-only anonymous access, pagination, throttling, response cache, ETags."""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework import viewsets
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer

from modelgraph.api import cache as api_cache
from modelgraph.api.errors import ParameterError, Throttled, api_exception_handler
from modelgraph.api.http_cache import SAFE_READS, conditional, hit_response, request_cache_key, serve_hit
from modelgraph.api.pagination import APIPagination
from modelgraph.api.throttling import ClientRateThrottle


class ReadOnlyViewSet(viewsets.GenericViewSet):
    """Anonymous GET/HEAD only (writes are 405), throttled per client, cached by version tags, answered with 304s.

    Subclasses say what a response shows through its version tags (catalog/cache_tags.py): `static_cache_tags` when
    every answer shows the same things, else `cache_tags()`; and how long it may be kept through
    `cache_timeout_setting`. Cache hits of views whose tags need no database read are answered before DRF runs
    (`serve_hit`).
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    pagination_class = APIPagination
    throttle_classes = [ClientRateThrottle]
    http_method_names = ["get", "head", "options"]
    static_cache_tags: tuple[str, ...] = ()
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
        if not self.static_cache_tags:  # an answer keyed by no tag would never be invalidated
            raise ImproperlyConfigured(f"{type(self).__name__} names no cache tags: set static_cache_tags.")
        return list(self.static_cache_tags)

    def cache_tags_are_static(self) -> bool:
        """Whether `cache_tags()` is known without reading the database; then a hit is answered before DRF runs and
        the throttle count rides along with the cache look-up. True when `cache_tags` is not overridden (the tags are
        `static_cache_tags`); views that override it say which actions qualify (e.g. `self.action == "list"`)."""
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
            if not throttle.verdict(throttle.count(counter)):
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
