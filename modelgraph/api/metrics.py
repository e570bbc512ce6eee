"""`/metrics`: the Prometheus exposition (modelgraph/metrics.py), for admin API keys with the `metrics:read` scope.

Refusals are JSON like the rest of the API: 401 without a key (or with an unknown one), 403 for a revoked key or one
without the scope, 429 after too many bad keys (the admin API's limit). With METRICS_OPEN="loopback" (the embedded
default) a direct loopback client needs no key; a request that came through a proxy is never taken as one.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions

from modelgraph import metrics
from modelgraph.api.bearer import BearerKeyAuthentication
from modelgraph.models import ApiScope

SCOPE = ApiScope.METRICS_READ.value
FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")
REALM = 'Bearer realm="modelgraph-metrics"'


def _refused(status: int, detail: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _direct_loopback(request) -> bool:
    if settings.METRICS_OPEN != "loopback" or any(request.META.get(name) for name in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _refusal(request) -> JsonResponse | None:
    """Why this request may not read the metrics (a response), or None when it may."""
    if _direct_loopback(request):
        return None
    try:
        found = BearerKeyAuthentication().authenticate(request)
    except exceptions.Throttled as exc:
        return _refused(429, str(exc.detail), Retry_After=str(getattr(exc, "wait", None) or 1))
    except exceptions.APIException as exc:
        return _refused(exc.status_code, str(exc.detail), WWW_Authenticate=REALM)
    if found is None:
        detail = f"an admin API key with the '{SCOPE}' scope is required: Authorization: Bearer <key>"
        return _refused(401, detail, WWW_Authenticate=REALM)
    key = found[1]
    if key.revoked_at is not None:
        return _refused(403, "this API key has been revoked")
    if not key.has_scope(SCOPE):
        return _refused(403, f"this API key lacks the scope '{SCOPE}'")
    return None


@csrf_exempt  # no cookie is read; a POST gets the JSON 405 below, not the CSRF page
def metrics_view(request) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _refused(405, f'Method "{request.method[:20]}" not allowed.', Allow="GET, HEAD")
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    body, content_type = metrics.exposition()
    response = HttpResponse(b"" if request.method == "HEAD" else body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
