"""Edge guards of every request: hostile input answered 400/404 before any view reads it, JSON errors under /api/
and /v1/ (never Django's HTML pages), and the database down answered from the last good copy or a 503."""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.deprecation import MiddlewareMixin
from rest_framework.views import APIView

from modelgraph.admin_relations import holdable
from modelgraph.api import cache as api_cache
from modelgraph.api.errors import is_api_path, json_error
from modelgraph.api.http_cache import hit_response, request_cache_key
from modelgraph.api.viewsets import ReadOnlyViewSet

logger = logging.getLogger(__name__)

NUL = "\x00"
NO_NUL = "Must not contain NUL characters."
RETRY_AFTER_SECONDS = 30  # a database restart or fail-over usually takes this long
DATABASE_DOWN = (OperationalError, InterfaceError)
# Headers an error answer keeps when its HTML body is replaced by JSON.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")


def _bad_request(request: HttpRequest, parameter: str, message: str) -> HttpResponse:
    if is_api_path(request.path):
        return json_error(request, 400, message, parameter=parameter)
    html = render_to_string("web/400.html", {"parameter": parameter, "message": message}, request=request)
    return HttpResponse(html, status=400)


def _allowed_methods(view_func, cls: type[APIView]) -> set[str]:
    actions = getattr(view_func, "actions", None) or {}
    allowed = {method for method in cls.http_method_names if hasattr(cls, method) or method in actions}
    if "get" in allowed:
        allowed.add("head")
    return allowed & set(cls.http_method_names)


def _phrase(status: int) -> str:
    try:
        return f"{HTTPStatus(status).phrase}."
    except ValueError:
        return "Error."


class HostileInputMiddleware(MiddlewareMixin):
    """Refuse what no view can answer before it reaches one: NUL characters in a path or query parameter
    (PostgreSQL cannot store or compare them: 400 naming the parameter), an admin object id that is not a valid
    primary key (404), and a method a DRF view does not serve (405 with Allow, before authentication).

    The public API's ReadOnlyViewSet checks NUL itself, so that a refused request still counts against the
    client's throttle."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        cls = getattr(view_func, "cls", None)
        if isinstance(cls, type) and issubclass(cls, APIView):
            allowed = _allowed_methods(view_func, cls)
            if request.method.lower() not in allowed:
                response = json_error(request, 405, f'Method "{request.method[:20]}" not allowed.')
                response["Allow"] = ", ".join(sorted(method.upper() for method in allowed))
                return response
            if issubclass(cls, ReadOnlyViewSet):
                return None
        for name, value in view_kwargs.items():
            if NUL in str(value):
                return _bad_request(request, name, NO_NUL)
        for name, values in request.GET.lists():
            if NUL in name or any(NUL in value for value in values):
                return _bad_request(request, name.replace(NUL, "\\0")[:60], NO_NUL)
        return self._admin_object_id(request, view_func, view_kwargs) or self._admin_selected_ids(request, view_func)

    @staticmethod
    def _admin_object_id(request, view_func, view_kwargs):
        """The admin's change/history/delete views: an id its model's key cannot hold is no such object."""
        model_admin = getattr(view_func, "model_admin", None)
        object_id = view_kwargs.get("object_id")
        if model_admin is None or object_id is None:
            return None
        try:
            model_admin.model._meta.pk.to_python(unquote(object_id))
        except (ValidationError, ValueError, TypeError, OverflowError):
            html = render_to_string("web/404.html", {"missing": request.path, "kind": "page"}, request=request)
            return HttpResponse(html, status=404)
        return None

    @staticmethod
    def _admin_selected_ids(request, view_func):
        """An admin list action posted with a selected id its model's key cannot hold (Django filters the list by
        them unchecked: `abc`, `1e400`, NUL or an empty id were 500s in every admin, its own and other apps'):
        a 400 naming `_selected_action`, and the action is not run."""
        model_admin = getattr(view_func, "model_admin", None)
        if model_admin is None or request.method != "POST" or "_selected_action" not in request.POST:
            return None
        meta = model_admin.model._meta
        for value in request.POST.getlist("_selected_action"):
            if not holdable(meta.pk, value):
                message = f"{value[:40]!r} is not the id of any {meta.verbose_name}; nothing was done."
                return _bad_request(request, "_selected_action", message.replace(NUL, "\\0"))
        return None


class ApiErrorMiddleware(MiddlewareMixin):
    """JSON for every error under /api/ and /v1/, and the database down is never a 500.

    When PostgreSQL cannot be reached, a read of the public API is answered from the last good copy of that answer
    (`X-Cache: STALE` and a `Warning: 110` header); without one, 503 with Retry-After (JSON under the API, a page
    elsewhere)."""

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_DOWN):
            return None
        logger.warning("Database unavailable for %s %s: %s", request.method, request.path[:200], exception)
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()  # the next request connects afresh
        if request.path.startswith("/api/") and request.method in ("GET", "HEAD"):
            stale = self._stale(request)
            if stale is not None:
                return stale
        if is_api_path(request.path):
            response = json_error(request, 503, "The database is unavailable; retry shortly.")
        else:
            response = HttpResponse(render_to_string("web/503.html", request=request), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @staticmethod
    def _stale(request) -> HttpResponse | None:
        try:
            entry = api_cache.stale_entry(request_cache_key(request))
        except Exception:  # a bad Host header or the cache failing too: no copy to serve
            return None
        if entry is None:
            return None
        response = hit_response(request, entry)
        response["X-Cache"] = "STALE"
        response["Warning"] = '110 - "Response is stale"'
        return response

    def process_response(self, request, response):
        if response.status_code < 400 or not is_api_path(request.path):
            return response
        content_type = response.get("Content-Type", "")
        if content_type.startswith("application/json") or getattr(response, "streaming", False):
            return response
        status = response.status_code
        detail = {
            404: "Not found: no such API path.",
            405: f'Method "{request.method[:20]}" not allowed.',
            500: "Server error: the request could not be answered; it has been logged.",
        }.get(status) or _phrase(status)
        replaced = json_error(request, status, detail)
        for name in KEPT_HEADERS:
            if response.has_header(name):
                replaced[name] = response[name]
        return replaced
