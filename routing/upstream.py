"""The upstream side: pooled keep-alive connections per event loop, chat requests, whole SSE events, probes.

Requests go through `routing.http1`, a small HTTP/1.1 client on asyncio transports parsed by httptools: httpcore's
connection engine (under httpx) cost more CPU per forwarded request than the rest of the gateway. Upstream answers
are asked for uncompressed (`Accept-Encoding: identity`), so bodies are relayed as they arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import ssl
from collections import deque
from collections.abc import Callable
from typing import Any

import httpcore

from modelgraph.outbound import FailureKind, classify_exception, retry_after_seconds, user_agent
from modelgraph.secrets import key_resolve, redact
from modelgraph.sse import SseSplitter, SseTooLong
from routing import http1, retry
from routing.candidates import RouteCandidate
from routing.conf import setting

USER_AGENT = user_agent("gateway").encode()
_ERROR_BODY_BYTES = 4096
_MAX_HELD_EVENTS = 64  # chunks without output (role, usage) held back before the first with output
KEEPALIVE_EXPIRY = 30.0  # seconds an idle upstream connection is kept
# What the client raises (routing.http1 raises httpcore's exception types), and the OS's own.
UPSTREAM_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpcore.ConnectionNotAvailable,
    httpcore.ProxyError,
    OSError,
)

Response = http1.Response


class AttemptFailed(Exception):
    def __init__(self, failure: retry.Failure):
        super().__init__(failure.describe())
        self.failure = failure


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """Loading the CA bundle takes ~20 ms: once per process, shared by every pool (contexts are thread-safe)."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _request(url: str, method: str, headers: list[tuple[bytes, bytes]], content: bytes = b"", stream: bool = False):
    """Send on the running loop's pool for `url`'s origin (see routing.http1)."""
    pool = http1.pool_for(
        url,
        ssl_context=_ssl_context(),
        max_connections=setting("ROUTING_MAX_CONNECTIONS"),
        keepalive_expiry=KEEPALIVE_EXPIRY,
        max_body=setting("ROUTING_MAX_RESPONSE_BYTES"),
    )
    return pool.request(
        method, url, headers=headers, content=content, connect_timeout=setting("ROUTING_CONNECT_TIMEOUT"), stream=stream
    )


def request_headers(candidate: RouteCandidate, stream: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"Content-Type", b"application/json"),
        (b"Accept", b"text/event-stream" if stream else b"application/json"),
        (b"Accept-Encoding", b"identity"),
        (b"User-Agent", USER_AGENT),
    ]
    if candidate.key_ref:
        key = key_resolve(candidate.key_ref)
        if key:
            headers.append((b"Authorization", b"Bearer " + key.encode()))
    return headers


def header(response: Response, name: str, default: str = "") -> str:
    wanted = name.encode().lower()
    for key, value in response.headers:
        if key.lower() == wanted:
            return value.decode("latin-1")
    return default


def _error_message(body: bytes) -> str:
    text = body[:_ERROR_BODY_BYTES].decode("utf-8", "replace")
    try:
        error = json.loads(text).get("error")
        message = error.get("message") if isinstance(error, dict) else error
        text = str(message) if message else text
    except (ValueError, AttributeError):
        pass
    return redact(" ".join(text.split()))[:200]


def failure_from_response(response: Response, body: bytes) -> retry.Failure:
    status = response.status
    kind = retry.classify_status(status, frozenset(setting("ROUTING_RETRYABLE_STATUSES")))
    retry_after = None
    if status in (429, 503):
        retry_after = retry_after_seconds(header(response, "retry-after"))
        milliseconds = header(response, "retry-after-ms")
        if retry_after is None and milliseconds:
            with contextlib.suppress(ValueError):
                retry_after = max(0.0, float(milliseconds) / 1000)
    return retry.Failure(
        kind=kind,
        message=_error_message(body),
        status=status,
        retry_after=retry_after,
        body=redact(body[:_ERROR_BODY_BYTES].decode("utf-8", "replace")).encode(),
        content_type=header(response, "content-type", "application/json"),
    )


def failure_from_exception(exc: BaseException, stage: str = "") -> retry.Failure:
    where = f" {stage}" if stage else ""
    kind = classify_exception(exc)
    if kind is FailureKind.TIMEOUT:
        return retry.Failure(retry.TIMEOUT, f"timed out{where}")
    if kind is FailureKind.CONNECT:
        return retry.Failure(retry.CONNECT, redact(f"could not connect: {exc}")[:200])
    return retry.Failure(retry.STREAM if stage else retry.SERVER, redact(f"{type(exc).__name__}{where}: {exc}")[:200])


async def send_chat(
    candidate: RouteCandidate,
    payload: bytes,
    timeout: float,
    *,
    url: str | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
    method: str = "POST",
) -> Response:
    """A non-streaming completion, read whole within `timeout`; anything but a 200 raises AttemptFailed.

    `url` and `headers` default to the OpenAI chat endpoint; connectors (routing.connectors) state their own."""
    try:
        async with asyncio.timeout(timeout):
            response = await _request(
                url or f"{candidate.base_url}/chat/completions",
                method,
                headers or request_headers(candidate, False),
                payload,
            )
    except (TimeoutError, *UPSTREAM_ERRORS) as exc:
        raise AttemptFailed(failure_from_exception(exc)) from None
    if response.status != 200:
        raise AttemptFailed(failure_from_response(response, response.content))
    return response


# Server-sent events.
def data_of(event: bytes) -> bytes | None:
    """The data of an event (its `data:` lines joined), None for comments and events without data."""
    lines = [line[5:].removeprefix(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None


DONE = b"[DONE]"


def chunk_json(data: bytes) -> dict | None:
    """A chunk's JSON object, or None when the data is not one (a malformed chunk)."""
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def event_json(event: bytes) -> dict | None:
    data = data_of(event)
    if not data or data == DONE:
        return None
    return chunk_json(data)


def is_done(event: bytes) -> bool:
    return data_of(event) == DONE


def carries_output(chunk: dict) -> bool:
    """Whether a chunk holds some of the answer (content, a tool call, reasoning…), not just a role or usage."""
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        return False
    for choice in choices:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if isinstance(delta, dict) and any(value for name, value in delta.items() if name != "role"):
            return True
    return False


def is_error(event: bytes) -> bool:
    if b'"error"' not in event:
        return False
    value = event_json(event)
    return bool(value and value.get("error"))


class EventStream:
    """The whole SSE events of an upstream response, in order, as they arrive (a partial event is never handed
    out, so a stream cut mid-event cannot leave half an event downstream)."""

    def __init__(self, response: Response):
        self.response = response
        self._chunks = response.aiter_stream()
        self._splitter = SseSplitter(max_pending=setting("ROUTING_MAX_RESPONSE_BYTES"))
        self._events: deque[bytes] = deque()

    async def next(self) -> bytes | None:
        """The next event (with its blank-line terminator), or None when the upstream closed the stream."""
        while not self._events:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._events.extend(self._splitter.end_events())
                return self._events.popleft() if self._events else None
            try:
                self._events.extend(self._splitter.events(chunk))
            except SseTooLong as long:  # an event without end: the attempt fails as a read of the upstream does
                await self.aclose()
                raise httpcore.ReadError(f"{long} (ROUTING_MAX_RESPONSE_BYTES)") from None
        return self._events.popleft()

    async def finish(self, timeout: float = 1.0) -> None:
        """After [DONE]: read to the end of the body, so the connection goes back to the pool (a response closed
        with unread bytes closes its connection, and the next stream pays a new TCP handshake)."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(timeout):
                async for _ in self._chunks:
                    pass

    async def aclose(self) -> None:
        """Gives the connection back if the body was read to its end, closes it otherwise."""
        with contextlib.suppress(Exception):
            await self.response.aclose()


async def open_stream(
    candidate: RouteCandidate,
    payload: bytes,
    timeout: float,
    *,
    url: str | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
    wrap: Callable[[EventStream], Any] | None = None,
) -> tuple[EventStream, bytes]:
    """Start a streaming completion and wait for its first data event (within `timeout`).

    Everything up to here can still be retried elsewhere: nothing has been sent downstream. A connector states its
    `url` and `headers`, and `wrap`s the events in its translation to OpenAI chunks.
    """
    response: Response | None = None
    handed_over = False
    try:
        async with asyncio.timeout(timeout):
            response = await _request(
                url or f"{candidate.base_url}/chat/completions",
                "POST",
                headers or request_headers(candidate, True),
                payload,
                stream=True,
            )
            if response.status != 200:
                raise AttemptFailed(failure_from_response(response, await response.aread()))
            events = EventStream(response)
            if wrap is not None:
                events = wrap(events)
            first = await _first_output(events)
            handed_over = True  # from here the stream gives its connection back when it is closed
            return events, first
    except AttemptFailed:
        raise
    except (TimeoutError, *UPSTREAM_ERRORS) as exc:
        stage = "before the first event" if response is not None else ""
        raise AttemptFailed(failure_from_exception(exc, stage)) from None
    finally:
        if not handed_over:
            await _close(response)


async def _first_output(events: EventStream) -> bytes:
    """The events up to the first that carries output, joined: an empty, malformed or failing start is a failed
    attempt (retried elsewhere), since nothing has gone downstream yet. Comments (keep-alives) are dropped."""
    held: list[bytes] = []
    while True:
        event = await events.next()
        if event is None:
            what = "before its first event" if not held else "without any output"
            raise AttemptFailed(retry.Failure(retry.STREAM, f"the stream ended {what}"))
        data = data_of(event)
        if data is None:
            continue
        if data == DONE:
            raise AttemptFailed(retry.Failure(retry.STREAM, "empty stream: [DONE] before any output"))
        value = chunk_json(data)
        if value is None:
            raise AttemptFailed(retry.Failure(retry.STREAM, "malformed chunk before the first output"))
        if value.get("error"):
            message = redact(json.dumps(value.get("error")))[:200]
            raise AttemptFailed(retry.Failure(retry.SERVER, f"error event before the first chunk: {message}"))
        held.append(event)
        if carries_output(value) or len(held) >= _MAX_HELD_EVENTS:
            return b"".join(held)


async def _close(response: Response | None) -> None:
    if response is not None:
        with contextlib.suppress(Exception):
            await response.aclose()


async def probe(candidate: RouteCandidate, *, provider_wide: bool) -> tuple[bool, str]:
    """Is it serving again? An offer: a one-token completion. A provider: its model listing (`GET /models`)."""
    try:
        async with asyncio.timeout(setting("ROUTING_PROBE_TIMEOUT")):
            if provider_wide:
                response = await _request(f"{candidate.base_url}/models", "GET", request_headers(candidate, False))
            else:
                body = {
                    "model": candidate.provider_model_id,
                    "max_tokens": 1,
                    "stream": False,
                    "messages": [{"role": "user", "content": "ping"}],
                }
                response = await _request(
                    f"{candidate.base_url}/chat/completions",
                    "POST",
                    request_headers(candidate, False),
                    json.dumps(body).encode(),
                )
    except (TimeoutError, *UPSTREAM_ERRORS) as exc:
        return False, failure_from_exception(exc).describe()
    if response.status == 200:
        return True, ""
    return False, failure_from_response(response, response.content).describe()
