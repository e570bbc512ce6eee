"""`/api/health`: liveness and readiness of the database, the cache and the django-q2 workers (never cached).

Each check runs in its own thread with a budget of CHECK_BUDGET_SECONDS: a hung Redis or PostgreSQL makes that check
"timeout", never the whole answer slow. Anonymous callers see statuses only; hosts, versions and error text are for
staff sessions and admin API keys.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, connections
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from modelgraph.api import cache as api_cache
from modelgraph.api.bearer import BearerKeyAuthentication
from modelgraph.api.errors import ErrorSerializer
from modelgraph.heartbeat import FRESH_SECONDS, heartbeat_age

OK, DEGRADED, DOWN = "ok", "degraded", "down"
CHECK_BUDGET_SECONDS = 1.0


def _run_in_thread(check: Callable[[], dict], box: dict) -> None:
    started = time.perf_counter()
    try:
        result = check()
    except Exception as exc:  # a check that fails in an unforeseen way is that check down, not a 500
        result = {"status": DOWN, "error": f"{type(exc).__name__}: {exc}"[:300]}
    finally:
        connections.close_all()  # this thread's own connections only
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    box["result"] = result


def run_checks(checks: dict[str, Callable[[], dict]], budget: float = CHECK_BUDGET_SECONDS) -> dict[str, dict]:
    """Run every check at once, each in a daemon thread; one without an answer within `budget` seconds is
    "timeout" (down; degraded for the workers) and is left to finish on its own."""
    running = {}
    for name, check in checks.items():
        box: dict = {}
        thread = threading.Thread(target=_run_in_thread, args=(check, box), name=f"health-{name}", daemon=True)
        thread.start()
        running[name] = (thread, box)
    deadline = time.monotonic() + budget
    results = {}
    for name, (thread, box) in running.items():
        thread.join(max(0.0, deadline - time.monotonic()))
        results[name] = box.get("result") or {
            "status": DEGRADED if name == "worker" else DOWN,
            "detail": "timeout",
            "error": f"no answer within {budget:g} s",
            "latency_ms": round(budget * 1000, 2),
        }
    return results


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"status": DOWN, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"status": OK, "vendor": connection.vendor}


def check_cache() -> dict:
    key, token = f"api:health:{uuid.uuid4().hex}", uuid.uuid4().hex
    try:
        # django-redis swallows connection errors (IGNORE_EXCEPTIONS): a value that does not come back is the sign.
        cache.set(key, token, timeout=10)
        seen = cache.get(key)
        cache.delete(key)
    except Exception as exc:
        return {"status": DOWN, "error": f"{type(exc).__name__}: {exc}"[:300]}
    if seen != token:
        return {"status": DOWN, "error": "the cache did not return what was written"}
    api_cache.breaker.reset()  # the cache answers again: stop bypassing it
    return {"status": OK, "backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def check_worker() -> dict:
    if settings.Q_CLUSTER.get("sync"):
        return {"status": OK, "detail": "tasks run synchronously (no cluster needed)", "clusters": 0}
    try:
        from django_q.status import Stat

        stats = Stat.get_all()
    except Exception as exc:
        return {"status": DEGRADED, "detail": "unknown", "error": f"{type(exc).__name__}: {exc}"[:300]}
    if not stats:
        # On the embedded default the cluster's stats sit in a local-memory cache this process cannot see: the
        # heartbeat row a worker stamps every minute is the truth there (and a second opinion everywhere).
        try:
            age = heartbeat_age()
        except DatabaseError as exc:
            return {"status": DEGRADED, "detail": "unknown", "error": f"{type(exc).__name__}: {exc}"[:300]}
        if age is not None and age <= FRESH_SECONDS:
            return {"status": OK, "detail": "running", "heartbeat_age_s": round(age, 1)}
        last = None if age is None else round(age, 1)
        return {"status": DEGRADED, "detail": "not running", "clusters": 0, "heartbeat_age_s": last}
    return {
        "status": OK,
        "detail": "running",
        "clusters": len(stats),
        "workers": sum(len(getattr(stat, "workers", []) or []) for stat in stats),
        "states": sorted({str(getattr(stat, "status", "")) for stat in stats}),
    }


CheckSerializer = inline_serializer(
    "HealthCheck",
    {
        "status": serializers.ChoiceField(choices=[OK, DEGRADED, DOWN]),
        "latency_ms": serializers.FloatField(required=False, help_text="Staff and admin keys only."),
        "detail": serializers.CharField(required=False, help_text="`timeout` when the check ran out of its 1 s."),
        "error": serializers.CharField(required=False),
    },
)
HealthSerializer = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=[OK, DEGRADED, DOWN]),
        "checks": inline_serializer(
            "HealthChecks", {"database": CheckSerializer, "cache": CheckSerializer, "worker": CheckSerializer}
        ),
    },
)


def public_view(checks: dict[str, dict]) -> dict[str, dict]:
    """What anyone may see: each check's status (and "timeout"), no host, port, backend or error text."""
    return {
        name: {"status": check["status"], **({"detail": "timeout"} if check.get("detail") == "timeout" else {})}
        for name, check in checks.items()
    }


class HealthView(APIView):
    """Database down: 503 "down". Cache or workers unavailable: 200 "degraded" (the API still answers)."""

    authentication_classes = [BearerKeyAuthentication, SessionAuthentication]
    permission_classes = [AllowAny]
    throttle_classes: list = []
    renderer_classes = [JSONRenderer]

    @extend_schema(
        operation_id="health",
        summary="Liveness and readiness",
        description="Each check (database, cache, workers) within its own time budget. Database down: 503 `down`; "
        "cache or workers unavailable: 200 `degraded` (the API still answers). Anonymous callers see statuses only; "
        "an admin key or a staff session sees details.",
        responses={
            200: HealthSerializer,
            401: OpenApiResponse(ErrorSerializer, description="An Authorization header with an unknown key."),
            503: OpenApiResponse(HealthSerializer, description="The database is down."),
        },
    )
    def get(self, request):
        checks = run_checks({"database": check_database, "cache": check_cache, "worker": check_worker})
        if checks["database"]["status"] == DOWN:
            status = DOWN
        elif any(check["status"] != OK for check in checks.values()):
            status = DEGRADED
        else:
            status = OK
        shown = checks if checks["database"]["status"] == OK and self._sees_details(request) else public_view(checks)
        response = Response({"status": status, "checks": shown}, status=503 if status == DOWN else 200)
        response["Cache-Control"] = "no-store"
        if status == DOWN:
            response["Retry-After"] = "30"
        return response

    def perform_authentication(self, request) -> None:
        """Authenticate only once the checks have run, and only if the database answers (see `_sees_details`)."""

    @staticmethod
    def _sees_details(request) -> bool:
        """Staff sessions and valid admin API keys (a wrong key is 401, as on the admin API)."""
        try:
            user, key = request.user, request.auth
        except DatabaseError:  # the database went away since its check: statuses only
            return False
        if key is not None:
            return getattr(key, "revoked_at", True) is None
        return bool(user and user.is_staff)
