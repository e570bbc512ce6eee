"""The public API's fast lane: a WSGI callable in front of Django that answers precomputed bodies itself.

A GET or HEAD of a registered path (modelgraph/api/precomputed.py) asking for JSON is looked up in one cache round
trip that also counts the client against the public API's throttle (the same counter Django's ClientRateThrottle
uses) and reads the version tokens the stored body must have been built under. A current body is answered here,
with the headers Django sent for it, CORS as CorsMiddleware adds it, a fresh request id and `304` on a matching
If-None-Match: no URL resolution, middleware stack or DRF. Everything else (a miss, a throttled client, a cache that
cannot vouch for freshness, other paths, methods or conditions) goes to Django untouched; a miss's answer is stored
on the way out, under the version tokens read before Django rendered it, so a write during the render leaves that
entry stale by construction. `precompute()` renders the hottest paths eagerly after a catalogue change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from io import BytesIO
from urllib.parse import parse_qsl

from corsheaders.middleware import CorsMiddleware
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_script_name
from django.http import HttpResponse
from django.urls import set_script_prefix
from django.utils.http import parse_etags

from modelgraph import metrics
from modelgraph.api import cache as api_cache
from modelgraph.api import precomputed
from modelgraph.api.throttling import ClientRateThrottle
from modelgraph.request_id import HEADER as REQUEST_ID_HEADER
from modelgraph.request_id import request_id_for

logger = logging.getLogger(__name__)

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
JSON_MEDIA = ("application/json", "*/*", "application/*")
# Conditions the lane leaves to Django (412s, date comparisons): rare, and Django answers them exactly.
DJANGO_CONDITIONS = ("HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_MODIFIED_SINCE")
STATUS_LINES = {200: "200 OK", 304: "304 Not Modified"}


def accepts_json(environ: dict) -> bool:
    accept = environ.get("HTTP_ACCEPT", "")
    return not accept or any(media in accept for media in JSON_MEDIA)


def _gzip_accepted(environ: dict) -> bool:
    """Accept-Encoding names gzip (or `*`) with a non-zero quality (as catalog/api/download.py reads it)."""
    for part in environ.get("HTTP_ACCEPT_ENCODING", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        params = params.strip().lower()
        try:
            if float(params.removeprefix("q=").strip() if params.startswith("q=") else "1") > 0:
                return True
        except ValueError:
            continue
    return False


def _candidate(environ: dict) -> precomputed.Route | None:
    """The registered route of a request the lane may answer (cheap checks on the environ only), else None."""
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or not accepts_json(environ):
        return None
    if any(name in environ for name in DJANGO_CONDITIONS):
        return None
    route = precomputed.route_for(environ.get("PATH_INFO", ""))
    if route is None or (not route.conditional_in_lane and "HTTP_IF_NONE_MATCH" in environ):
        return None
    return route


class FastLane:
    """WSGI middleware: precomputed answers here, everything else by `app` (Django's WSGI handler)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.cors = CorsMiddleware(lambda request: HttpResponse())

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        route = _candidate(environ)
        if route is None:
            return self.app(environ, start_response)
        started = time.monotonic()
        try:
            request, key = _request_and_key(environ, route)
        except Exception:  # a bad Host, an undecodable path...: Django answers it properly
            return self.app(environ, start_response)
        if request is None:
            return self.app(environ, start_response)
        if not api_cache.enabled():  # no stored answers: a route that computes its own answers may still
            if route.compute is not None and request.method == "GET":
                return self._computed(environ, start_response, request, route, started)
            return self.app(environ, start_response)
        throttle = ClientRateThrottle()
        counter = throttle.counter(request)
        found = precomputed.lookup(key, route, counter)
        counted = counter.key if counter is not None and found.count is not None else None
        if found.versions is None or found.entry is None or (counted and not throttle.verdict(found.count)):
            if counted:  # Django counts this request itself (and answers a throttled client its 429)
                api_cache.guarded_call(lambda: cache.decr(counted))
            if found.versions is None or request.method != "GET" or "HTTP_IF_NONE_MATCH" in environ:
                return self.app(environ, start_response)
            return self._render_and_store(environ, start_response, request, route, key, found.versions)
        entry = found.entry
        if not isinstance(entry, precomputed.PrecomputedResponse):
            return self.app(environ, start_response)
        response = self._answer(request, environ, entry)
        elapsed = time.monotonic() - started
        metrics.api_request_observed(route.name, environ["REQUEST_METHOD"], response.status_code, elapsed, "HIT")
        start_response(STATUS_LINES[response.status_code], [*response.items()])
        return [response.content]

    def _answer(self, request: WSGIRequest, environ: dict, entry: precomputed.PrecomputedResponse) -> HttpResponse:
        """The stored answer for this request: a 304 when the client's copy is current."""
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match:
            tags = parse_etags(if_none_match)
            if "*" not in tags and not any(tag.removeprefix("W/") == entry.etag for tag in tags):
                if_none_match = None
        if if_none_match:
            response = HttpResponse(status=304)
            del response["Content-Type"]
            for name, value in entry.headers:
                if name.lower() in precomputed.NOT_MODIFIED_KEEPS:
                    response[name] = value
            for name, value in entry.edge_headers():
                response[name] = value
            # CommonMiddleware measures every body, a 304's empty one too.
            if entry.header("content-length") is not None:
                response["Content-Length"] = "0"
        else:
            response = HttpResponse(entry.body, status=200)
            for name, value in entry.headers:
                response[name] = value
            response["X-Cache"] = "HIT"
        response[REQUEST_ID_HEADER] = request_id_for(environ.get("HTTP_X_REQUEST_ID"))
        self.cors.add_response_headers(request, response)
        return response

    def _computed(self, environ, start_response, request, route, started) -> Iterable[bytes]:
        """A route's answer computed here (route.compute), with the headers of Django's answers to that route: the
        first 200 Django gives this process (and conditional requests) teach them; what `compute` cannot answer
        for sure goes to Django as before."""
        headers = _computed_headers.get(route.name)
        if headers is None or "HTTP_IF_NONE_MATCH" in environ:
            return self._learn_headers(environ, start_response, route)
        set_script_prefix(get_script_name(environ))  # the absolute URLs in the body, as Django would reverse them
        try:
            body = route.compute(request, parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        except Exception:  # the database went away, say: Django answers (and closes a broken connection)
            logger.warning("Computing %s in the lane failed", route.name, exc_info=True)
            body = None
        if body is None:
            return self.app(environ, start_response)
        throttle = ClientRateThrottle()
        counter = throttle.counter(request)
        if counter is not None and not throttle.verdict(throttle.count(counter)):
            throttle.uncount(counter)  # Django counts it again and answers the 429
            return self.app(environ, start_response)
        response = HttpResponse(body, status=200)
        for name, value in headers:
            response[name] = value
        response["ETag"] = api_cache.strong_etag(body)
        response["Content-Length"] = str(len(body))
        response[REQUEST_ID_HEADER] = request_id_for(environ.get("HTTP_X_REQUEST_ID"))
        self.cors.add_response_headers(request, response)
        cache_status = response.get("X-Cache", "BYPASS")
        metrics.api_request_observed(route.name, "GET", 200, time.monotonic() - started, cache_status)
        start_response(STATUS_LINES[200], [*response.items()])
        return [body]

    def _learn_headers(self, environ, start_response, route) -> Iterable[bytes]:
        """Django answers; the headers of a 200 it would give anyone become the route's computed answers' headers."""

        def capture(status: str, headers: list, exc_info=None):
            if status.startswith("200 ") and precomputed.keepable(200, headers):
                _computed_headers[route.name] = tuple(
                    (name, value)
                    for name, value in headers
                    if name.lower() not in COMPUTED_SETS_ITSELF and not name.lower().startswith("access-control-")
                )
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.app(environ, capture)

    def _render_and_store(self, environ, start_response, request, route, key, versions) -> Iterable[bytes]:
        """Django answers; a 200 it would replay to anyone is kept for the next request."""
        captured: dict = {}

        def capture(status: str, headers: list, exc_info=None):
            captured["status"], captured["headers"] = int(status.split(" ", 1)[0]), headers
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if captured and precomputed.keepable(captured["status"], captured["headers"]):
            precomputed.store(key, route, versions, body, captured["headers"])
            precomputed.remember_origin(request.scheme, request.get_host())
        return [body]


# Per route: the headers of Django's 200s but the ones a computed answer sets itself (see FastLane._computed).
_computed_headers: dict[str, tuple[tuple[str, str], ...]] = {}
COMPUTED_SETS_ITSELF = frozenset({"etag", "content-length", "x-request-id", "date", "server"})


def _request_and_key(environ: dict, route: precomputed.Route) -> tuple[WSGIRequest | None, str]:
    request = WSGIRequest({**environ})  # a copy: WSGIRequest rewrites PATH_INFO, which Django must still read raw
    try:
        host = request.get_host()
    except DisallowedHost:
        return None, ""
    query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if any(name == "format" or "\x00" in name or "\x00" in value for name, value in query):
        return None, ""  # another renderer, or input Django refuses with a 400 naming the parameter
    gzip = route.by_encoding and _gzip_accepted(environ)
    return request, precomputed.entry_key(request.scheme or "http", host, request.path, query, gzip)


_handler: WSGIHandler | None = None


def precompute(paths: Iterable[tuple[str, dict[str, str]]]) -> int:
    """Render `paths` (each with extra request headers) for every origin the API has been asked under, and store
    them: run after a catalogue change so the hottest answers never miss. Returns how many were stored."""
    global _handler
    if not api_cache.enabled():
        return 0
    origins = precomputed.known_origins()
    if not origins:
        return 0
    if _handler is None:
        _handler = WSGIHandler()
    stored = 0
    for scheme, host in origins:
        for path, headers in paths:
            stored += _precompute_one(_handler, scheme, host, path, headers)
    return stored


def _precompute_one(handler: WSGIHandler, scheme: str, host: str, path: str, headers: dict[str, str]) -> int:
    path_info, _, query = path.partition("?")
    name, _, port = host.partition(":")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": name,
        "SERVER_PORT": port or ("443" if scheme == "https" else "80"),
        "HTTP_HOST": host,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": scheme,
        "wsgi.input": BytesIO(),
        "HTTP_ACCEPT": "application/json",
        **{"HTTP_" + key.upper().replace("-", "_"): value for key, value in headers.items()},
    }
    if scheme == "https":
        environ["HTTPS"] = "on"
    route = precomputed.route_for(path_info)
    if route is None:
        return 0
    try:
        request, key = _request_and_key(environ, route)
        versions = api_cache.versions(route.tags) if request is not None else None
        if versions is None:
            return 0
        # The handler's get_response, not its __call__: no request_started/finished signals, which would close
        # the database connection of whatever write announced the change.
        response = handler.get_response(WSGIRequest({**environ}))
        items = [*response.items()]
        if not isinstance(response, HttpResponse) or not precomputed.keepable(response.status_code, items):
            return 0
        precomputed.store(key, route, versions, response.content, items)
    except Exception:  # eager precomputation is an optimisation: the first request renders it instead
        logger.warning("Precomputing %s failed", path, exc_info=True)
        return 0
    return 1
