"""A real OpenAI-compatible provider on loopback, with faults to order: the code under test talks HTTP to it unchanged.

`POST /v1/chat/completions` (stream → SSE `data:` chunks then `data: [DONE]`; otherwise JSON with `usage`),
`POST /v1/embeddings` (a 3-wide vector per input), `GET /v1/models`, `GET /v1/models/{id}`. Behaviour is set per
test, for every model or for one model id:

    server.configure(latency=0.3)                        # every model: 300 ms before the response headers
    server.configure("slow-model", first_token_delay=2)  # one model only
    server.configure(status=429, retry_after=7)          # fixed status (500, 429 with Retry-After, 401…)
    server.configure(error_every=3, error_status=503)    # every 3rd request fails (deterministic)
    server.configure(fail_first=2, error_status=429)     # the first 2 requests fail, then it recovers
    server.configure(error_rate=0.2, seed=1)             # seeded random failures
    server.configure(stall_after_first=True)             # hold the connection after the first chunk
    server.configure(hold_after_first=True)              # send the rest only after `server.release()`
    server.configure(cut_after=2)                        # drop the connection after 2 chunks, no [DONE]
    server.configure(malformed=True) / configure(empty=True)

A request with `tools` is answered by a call of the first tool (`{"city": "Paris"}`), streamed or not.

An asyncio ASGI app; `tests.replay.asgi.AsgiLoopbackServer` serves it on loopback (hundreds of concurrent streams).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import threading
import time
from dataclasses import dataclass, field, replace

from tests.replay.asgi import AsgiLoopbackServer


@dataclass
class Behaviour:
    latency: float = 0.0  # seconds before the response headers
    first_token_delay: float = 0.0  # seconds between the headers and the first chunk
    inter_token_delay: float = 0.0
    tokens: int = 5
    status: int = 200
    retry_after: int | None = None
    error_every: int = 0  # every Nth request (per model) answers error_status
    fail_first: int = 0  # the first N requests (per model) answer error_status
    error_rate: float = 0.0  # seeded random share of requests answering error_status
    error_status: int = 500
    seed: int = 0
    stall_after_first: bool = False
    hold_after_first: bool = False  # after the first chunk, wait for `release()` (timing tests without sleeping)
    cut_after: int | None = None  # chunks sent before the connection is dropped without [DONE]
    malformed: bool = False
    endless: bool = False  # the answer never ends: a JSON body, or (streaming) an event after the first chunk
    empty: bool = False  # 200, then [DONE] with no token
    include_usage: bool = True
    line_ending: bytes = b"\n"  # SSE allows LF, CRLF or a bare CR
    error_message: str | None = None  # the error body's message instead of "fake <status>" (any text, NUL too)
    error_body: bytes | None = None  # the error body itself, sent as it is (text/plain)
    echo_key_in_error: bool = False  # like "Incorrect API key provided: sk-…": the key must never reach our rows
    models: list[str] = field(default_factory=lambda: ["fake-model"])  # what GET /v1/models lists


class _CutStream(Exception):
    """Raised inside the app to drop the connection mid-body (uvicorn closes the socket, no terminating chunk)."""


class FakeOpenAI:
    """The ASGI app; `configure`/`reset` may be called from the test thread at any time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.shutdown: asyncio.Event | None = None
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.default = Behaviour()
            self.per_model: dict[str, dict] = {}
            self.counters: dict[str, itertools.count] = {}
            self.randoms: dict[str, random.Random] = {}
            self.requests = []
            self.in_flight = self.max_in_flight = 0
            self.released = threading.Event()

    def configure(self, model: str | None = None, **changes) -> None:
        with self.lock:
            if model is None:
                self.default = replace(self.default, **changes)
            else:
                self.per_model.setdefault(model, {}).update(changes)

    def behaviour(self, model: str) -> Behaviour:
        with self.lock:
            return replace(self.default, **self.per_model.get(model, {}))

    def _failing(self, model: str, b: Behaviour) -> bool:
        with self.lock:
            number = next(self.counters.setdefault(model, itertools.count(1)))
            if b.error_every and number % b.error_every == 0:
                return True
            if number <= b.fail_first:
                return True
            if b.error_rate:
                rng = self.randoms.setdefault(model, random.Random(b.seed))
                return rng.random() < b.error_rate
        return False

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            try:
                await asyncio.wait_for(self.shutdown.wait(), seconds)
            except TimeoutError:
                pass

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                if message["type"] == "lifespan.startup":
                    self.loop, self.shutdown = asyncio.get_running_loop(), asyncio.Event()
                    await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        path, method = scope["path"], scope["method"]
        payload = json.loads(body) if body else {}
        with self.lock:
            self.requests.append(
                {"method": method, "path": path, "headers": headers, "json": payload, "client": tuple(scope["client"])}
            )
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self._route(method, path, headers, payload, receive, send)
        finally:
            with self.lock:
                self.in_flight -= 1

    async def _route(self, method, path, headers, payload, receive, send) -> None:
        if method == "GET" and path.rstrip("/") == "/v1/models":
            return await self._models(send, None, headers)
        if method == "GET" and path.startswith("/v1/models/"):
            return await self._models(send, path.removeprefix("/v1/models/"), headers)
        if method == "POST" and path == "/v1/chat/completions":
            return await self._chat(payload, headers, receive, send)
        if method == "POST" and path == "/v1/embeddings":
            return await self._embeddings(payload, headers, send)
        await _json(send, 404, {"error": {"message": f"no route {method} {path}", "type": "invalid_request_error"}})

    async def _error(self, send, b: Behaviour, status: int, headers: dict) -> None:
        extra = [(b"retry-after", str(b.retry_after).encode())] if status == 429 and b.retry_after else []
        kind = {401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(status, "server_error")
        if b.error_body is not None:
            await send({"type": "http.response.start", "status": status, "headers": _headers("text/plain", extra)})
            return await send({"type": "http.response.body", "body": b.error_body, "more_body": False})
        message = f"fake {status}" if b.error_message is None else b.error_message
        if b.echo_key_in_error:
            message += f": key provided: {headers.get('authorization', '').removeprefix('Bearer ')}"
        await _json(send, status, {"error": {"message": message, "type": kind, "code": kind}}, extra)

    async def _models(self, send, model: str | None, headers: dict) -> None:
        b = self.behaviour(model or "")
        await self._sleep(b.latency)
        status = b.error_status if self._failing(model or "", b) else b.status
        if status != 200:
            return await self._error(send, b, status, headers)
        if model is None:
            data = [{"id": m, "object": "model", "owned_by": "fake"} for m in b.models]
            return await _json(send, 200, {"object": "list", "data": data})
        if model not in b.models:
            return await _json(send, 404, {"error": {"message": f"model {model} not found", "code": "model_not_found"}})
        await _json(send, 200, {"id": model, "object": "model", "owned_by": "fake"})

    async def _chat(self, payload: dict, headers: dict, receive, send) -> None:
        model = payload.get("model", "")
        b = self.behaviour(model)
        await self._sleep(b.latency)
        status = b.error_status if self._failing(model, b) else b.status
        if status != 200:
            return await self._error(send, b, status, headers)
        if payload.get("tools") and payload.get("tool_choice") != "none":
            return await _tool_call(send, model, payload)
        tokens = 0 if b.empty else min(b.tokens, payload.get("max_tokens") or b.tokens)
        if not payload.get("stream"):
            await self._sleep(b.first_token_delay + b.inter_token_delay * max(tokens - 1, 0))
            if b.endless:
                await send({"type": "http.response.start", "status": 200, "headers": _headers("application/json")})
                start = b'{"id": "chatcmpl-endless", "choices": [{"message": {"content": "'
                return await self._endless(send, receive, start)
            return await _json(send, 200, _completion(model, tokens))
        await send({"type": "http.response.start", "status": 200, "headers": _headers("text/event-stream")})
        await self._sleep(b.first_token_delay)
        cid, created = f"chatcmpl-fake{int(time.time() * 1000)}", int(time.time())
        for index in range(tokens):
            if b.cut_after is not None and index >= b.cut_after:
                raise _CutStream
            if b.malformed and index == min(1, tokens - 1):
                await _event(send, b'{"id": "broken", "choices": [{"delta": {"content": "x"', b.line_ending)
                continue
            if index:
                await self._sleep(b.inter_token_delay)
            await _event(
                send, json.dumps(_chunk(cid, created, model, {"content": f"{index + 1} "})).encode(), b.line_ending
            )
            if b.hold_after_first and index == 0 and not await self._hold(receive):
                return  # the client went away while held
            if b.stall_after_first:
                await self._stall(receive)
                return
            if b.endless:
                return await self._endless(send, receive, b'data: {"choices": [{"delta": {"content": "')
        if b.cut_after is not None:
            raise _CutStream  # cut after the last token, before the final chunk and [DONE]
        final = _chunk(cid, created, model, {}, finish="stop")
        if b.include_usage and (payload.get("stream_options") or {}).get("include_usage"):
            await _event(send, json.dumps(final).encode(), b.line_ending)
            final = {**_chunk(cid, created, model, None), "usage": _usage(tokens)}
        await _event(send, json.dumps(final).encode(), b.line_ending)
        await _event(send, b"[DONE]", b.line_ending)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _embeddings(self, payload: dict, headers: dict, send) -> None:
        model = payload.get("model", "")
        b = self.behaviour(model)
        await self._sleep(b.latency)
        status = b.error_status if self._failing(model, b) else b.status
        if status != 200:
            return await self._error(send, b, status, headers)
        inputs = payload.get("input")
        inputs = [inputs] if isinstance(inputs, str) or (inputs and isinstance(inputs[0], int)) else inputs
        data = [
            {"object": "embedding", "index": i, "embedding": [round(len(item) / 10, 3), 0.25, 0.5]}
            for i, item in enumerate(inputs)
        ]
        tokens = sum(len(item) for item in inputs)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        await _json(send, 200, {"object": "list", "data": data, "model": model, "usage": usage})

    async def _endless(self, send, receive, start: bytes) -> None:
        """`start`, then 64 KB of text after another until the client goes away (or the server stops)."""
        disconnect = asyncio.ensure_future(receive())
        try:
            await send({"type": "http.response.body", "body": start, "more_body": True})
            block = b"x" * 65536
            while not self.shutdown.is_set() and not disconnect.done():
                await send({"type": "http.response.body", "body": block, "more_body": True})
                await asyncio.sleep(0)  # let the disconnect be seen
        finally:
            disconnect.cancel()

    async def _hold(self, receive) -> bool:
        """Wait (polling, a millisecond at a time) until the test thread calls `release()` or the server stops;
        False when the client disconnected meanwhile."""
        disconnect = asyncio.ensure_future(receive())
        try:
            while not self.released.is_set() and not self.shutdown.is_set():
                if disconnect.done():
                    return False
                await asyncio.sleep(0.001)
            return True
        finally:
            disconnect.cancel()

    async def _stall(self, receive) -> None:
        """Hold the connection open until the client gives up (or the server stops)."""
        disconnect = asyncio.ensure_future(receive())
        stop = asyncio.ensure_future(self.shutdown.wait())
        await asyncio.wait({disconnect, stop}, return_when=asyncio.FIRST_COMPLETED)
        for task in (disconnect, stop):
            task.cancel()


async def _tool_call(send, model: str, payload: dict) -> None:
    """A request offering tools is answered by a call of the first one, `{"city": "Paris"}` (OpenAI's shapes:
    `message.tool_calls`, or in a stream the call's name then its arguments in two pieces)."""
    name = payload["tools"][0].get("function", {}).get("name", "tool")
    call = {"id": "call_fake1", "type": "function", "function": {"name": name, "arguments": '{"city": "Paris"}'}}
    if not payload.get("stream"):
        answer = _completion(model, 0)
        answer["choices"][0].update(message={"role": "assistant", "content": None, "tool_calls": [call]})
        answer["choices"][0]["finish_reason"] = "tool_calls"
        return await _json(send, 200, answer)
    await send({"type": "http.response.start", "status": 200, "headers": _headers("text/event-stream")})
    cid, created = "chatcmpl-fake-tools", int(time.time())
    head = {**call, "index": 0, "function": {"name": name, "arguments": ""}}
    deltas = [
        {"role": "assistant", "content": None, "tool_calls": [head]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]},
    ]
    for delta in deltas:
        await _event(send, json.dumps(_chunk(cid, created, model, delta)).encode())
    await _event(send, json.dumps(_chunk(cid, created, model, {}, finish="tool_calls")).encode())
    await _event(send, b"[DONE]")
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def _headers(content_type: str, extra=()) -> list:
    return [(b"content-type", content_type.encode()), (b"cache-control", b"no-cache"), *extra]


async def _json(send, status: int, body: dict, extra=()) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _headers("application/json", extra)})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


async def _event(send, data: bytes, ending: bytes = b"\n") -> None:
    await send({"type": "http.response.body", "body": b"data: " + data + ending + ending, "more_body": True})


def _chunk(cid: str, created: int, model: str, delta: dict | None, finish: str | None = None) -> dict:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model, "choices": choices}


def _usage(tokens: int) -> dict:
    return {"prompt_tokens": 12, "completion_tokens": tokens, "total_tokens": 12 + tokens}


def _completion(model: str, tokens: int) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": " ".join(str(i + 1) for i in range(tokens))},
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(tokens),
    }


class FakeProviderServer(AsgiLoopbackServer):
    """FakeOpenAI on loopback (see `tests.replay.asgi.AsgiLoopbackServer`); `url` is the OpenAI-style base URL."""

    app: FakeOpenAI

    def __init__(self, host: str = "127.0.0.1"):
        super().__init__(FakeOpenAI(), host=host)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def stop(self) -> None:
        if self.app.loop is not None and self.app.shutdown is not None:
            self.app.loop.call_soon_threadsafe(self.app.shutdown.set)  # wakes stalled and held streams
        super().stop()

    # Test-facing conveniences.
    def configure(self, model: str | None = None, **changes) -> None:
        self.app.configure(model, **changes)

    def reset(self) -> None:
        self.app.reset()

    def release(self) -> None:
        """Let requests held by `hold_after_first` send the rest of their stream."""
        self.app.released.set()

    @property
    def requests(self) -> list[dict]:
        return list(self.app.requests)

    @property
    def max_in_flight(self) -> int:
        """The most requests the server was handling at once since the last reset."""
        return self.app.max_in_flight
