"""The request id: taken from a client's `X-Request-Id` (when it is a sane token) or made up, kept in a context
variable for the request's log lines and its gateway request log row, and returned as `x-request-id`.

The gateway lane (routing/asgi.py) sets it itself; Django requests get it from `RequestIdMiddleware`, which also
counts /api/ requests and their cache results for /metrics.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from contextvars import ContextVar

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.signals import request_finished
from django.dispatch import receiver

from modelgraph import metrics

HEADER = "x-request-id"
# What is echoed back and logged: letters, digits and a few separators, at most 100 of them (a UUID, a ULID, an
# nginx $request_id, a trace id all fit). Anything else is replaced, never echoed into a header or a log line.
_ACCEPTED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,99}").fullmatch
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})  # others count as "other"


class _Ids:
    """New ids: a random per-process prefix (80 bits) and a counter (48 bits), 32 hex characters like a UUID's.

    One `getrandom` per process instead of one per request (uuid4): on this path a system call is worth saving.
    A forked worker draws its own prefix, so two processes never hand out the same id."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.prefix = os.urandom(10).hex()
        self.counter = itertools.count(int.from_bytes(os.urandom(4)))

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFFFFFFFFFF:012x}"


_ids = _Ids()
os.register_at_fork(after_in_child=_ids.reset)


def request_id_for(incoming: str | None) -> str:
    """The client's id when acceptable, else a new one (32 hex characters)."""
    if incoming and _ACCEPTED(incoming):
        return incoming
    return _ids.next()


def current_request_id() -> str:
    """The id of the request being served here ("" outside any request)."""
    return REQUEST_ID.get()


def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match is not None else "") or "unmatched"


@receiver(request_finished)
def _request_finished(**kwargs) -> None:
    REQUEST_ID.set("")


class RequestIdMiddleware:
    """First in MIDDLEWARE: the request id for everything after it; under /api/, a request and cache count."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        started = self._begin(request)
        return self._end(request, self.get_response(request), started)

    async def _acall(self, request):
        started = self._begin(request)
        return self._end(request, await self.get_response(request), started)

    @staticmethod
    def _begin(request) -> float:
        # Not reset on the way out: Django logs 4xx/5xx answers after the middleware chain, and those lines should
        # carry the id too. Under ASGI each request has its own context; under WSGI `request_finished` clears it.
        request.request_id = request_id_for(request.META.get("HTTP_X_REQUEST_ID"))
        REQUEST_ID.set(request.request_id)
        return time.monotonic()

    @staticmethod
    def _end(request, response, started: float):
        response[HEADER] = request.request_id
        if request.path.startswith("/api/"):
            metrics.api_request_observed(
                _view_name(request),
                request.method if request.method in METHODS else "other",
                response.status_code,
                time.monotonic() - started,
                response.get("X-Cache"),
            )
        return response
