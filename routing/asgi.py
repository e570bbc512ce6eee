"""ASGI entry point for gateway processes: every /v1/ path is answered straight from ASGI, every other path by the
project's Django application (modelgraph.asgi), unchanged.

Django's ASGI handler costs more per request than the whole gateway: a new thread for each request's
thread-sensitive context (and one more to join it), hand-offs to and from the sync-only middleware (WhiteNoise),
the request signals. None of it serves the gateway (no session, user, CSRF token or static file; the database is
touched only when a route state changes), so this lane runs the same code as the Django views (`routing.surface`)
without the detour. Serve it with `manage.py gateway_serve` (several workers, TCP_NODELAY kept) or
`uvicorn routing.asgi:application`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelgraph.settings.base")

from modelgraph.asgi import application as django_application
from modelgraph.request_id import REQUEST_ID, request_id_for
from routing import errors, gateway, surface
from routing.router import get_router

logger = logging.getLogger(__name__)
JSON = "application/json"
BATCH_API_PREFIXES = ("/v1/files", "/v1/batches")


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"].startswith(BATCH_API_PREFIXES):
        await django_application(scope, receive, send)  # the Batch API is Django's (routing/batch_views.py)
    elif scope["type"] == "http" and (scope["path"] == "/v1" or scope["path"].startswith("/v1/")):
        await _gateway(scope, receive, send)
    elif scope["type"] == "lifespan":
        await _lifespan(receive, send)
    else:
        await django_application(scope, receive, send)


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            # Rows still waiting for the batched writer are written before the worker exits.
            await asyncio.to_thread(get_router().log.writer.stop)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _gateway(scope, receive, send) -> None:
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
    REQUEST_ID.set(request_id_for(headers.get("x-request-id")))  # this request's task: its own context
    method, path = scope["method"], scope["path"]
    client = (scope.get("client") or (None,))[0]
    try:
        if path in surface.CHAT_PATHS:
            surface.allow(method, "POST")
            await surface.authorize(headers, client)
            body = await _read_body(receive, headers.get("content-length"))
            if body is None:
                return  # the client left before sending its request: nobody to answer
            answer = await surface.chat(body)
            if isinstance(answer, gateway.StreamAnswer):
                return await _send_stream(answer, receive, send)
            return await _send(send, method, 200, answer.body, answer.content_type, answer.headers)
        if path in surface.EMBEDDINGS_PATHS:
            surface.allow(method, "POST")
            await surface.authorize(headers, client)
            body = await _read_body(receive, headers.get("content-length"))
            if body is None:
                return
            answer = await surface.embed(body)
            return await _send(send, method, 200, answer.body, answer.content_type, answer.headers)
        if path in surface.MODELS_PATHS or path.startswith("/v1/models/"):
            surface.allow(method, "GET", "HEAD")
            await surface.authorize(headers, client)
            model_id = path.removeprefix("/v1/models").strip("/")
            body = await (surface.model_detail(model_id) if model_id else surface.models_list())
            return await _send(send, method, 200, json.dumps(body).encode(), JSON, {})
        raise surface.not_found(method, path)
    except errors.GatewayError as exc:
        await _send(send, method, exc.status, exc.content(), JSON, exc.headers)
    except Exception:
        logger.exception("routing: %s %s failed", method, path)
        error = surface.internal_error()
        await _send(send, method, error.status, error.content(), JSON, {})


async def _read_body(receive, declared: str | None) -> bytes | None:
    surface.check_declared_length(declared)
    limit, parts, size = surface.body_limit(), [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise surface.too_large()
        parts.append(chunk)
        if not message.get("more_body"):
            return b"".join(parts)


def _raw_headers(content_type: str, headers: dict, length: int | None = None) -> list:
    raw = [(b"content-type", content_type.encode()), (b"x-request-id", REQUEST_ID.get().encode())]
    if length is not None:
        raw.append((b"content-length", str(length).encode()))
    raw.extend((name.lower().encode("latin-1"), str(value).encode("latin-1")) for name, value in headers.items())
    return raw


async def _send(send, method: str, status: int, body: bytes, content_type: str, headers: dict) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": _raw_headers(content_type, headers, len(body))}
    )
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


async def _send_stream(answer: gateway.StreamAnswer, receive, send) -> None:
    """Each event is sent as it comes; a client that goes away cancels the stream (and the upstream request)."""
    headers = _raw_headers("text/event-stream", {**surface.STREAM_HEADERS, **answer.headers})
    await send({"type": "http.response.start", "status": 200, "headers": headers})

    async def pump() -> None:
        async for event in answer.events:
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    pumping, watching = asyncio.ensure_future(pump()), asyncio.ensure_future(watch())
    try:
        await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pumping, watching):
            task.cancel()
        for task in (pumping, watching):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if pumping.done() and not pumping.cancelled() and pumping.exception() is not None:
            logger.error("routing: a stream failed", exc_info=pumping.exception())
        await answer.events.aclose()  # settles the exchange if the pump stopped mid-way
