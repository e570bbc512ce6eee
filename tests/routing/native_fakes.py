"""Anthropic's Messages API and Google's Gemini API on loopback, speaking their documented shapes, with faults to
order — the gateway's connectors talk HTTP to them unchanged.

    anthropic = FakeAnthropicServer(key="sk-ant-test").start()   # POST /v1/messages (JSON, or SSE events)
    gemini = FakeGeminiServer(key="g-test").start()              # POST /v1beta/models/{id}:generateContent,
                                                                 # :streamGenerateContent?alt=sse, :batchEmbedContents
    server.configure(status=529)                 # every request answers that native error
    server.configure(fail_first=1, error_status=529)
    server.configure(stop="max_tokens")          # the native stop reason (Anthropic) / finishReason (Gemini)
    server.configure(cut_after=2)                # a stream drops the connection after 2 text deltas
    server.configure(end_after=2)                # Gemini: the body ends after 2 chunks without a finishReason
    server.configure(error_after=1)              # Anthropic: an `error` event (overloaded) after 1 text delta

A request with `tools` is answered with a call of the first tool (arguments {"city": "Paris"}).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, replace

from tests.replay.asgi import AsgiLoopbackServer

WORDS = ["Hello", " from", " native"]
PROMPT_TOKENS = 21


@dataclass
class Behaviour:
    status: int = 200
    error_status: int = 500
    fail_first: int = 0
    retry_after: int | None = None
    stop: str | None = None  # the native stop reason to report (default: the natural one)
    cut_after: int | None = None
    end_after: int | None = None  # Gemini: the body ends cleanly after N chunks, none of them finished
    error_after: int | None = None


class _CutStream(Exception):
    """Raised inside the app to drop the connection mid-body."""


class _Fake:
    """The ASGI app's shared part: request recording, configuration, reading the body, JSON answers."""

    def __init__(self, key: str):
        self.key = key
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.behaviour = Behaviour()
            self.requests: list[dict] = []
            self.count = 0

    def configure(self, **changes) -> None:
        with self.lock:
            self.behaviour = replace(self.behaviour, **changes)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                if message["type"] == "lifespan.startup":
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
        payload = json.loads(body) if body else {}
        query = scope.get("query_string", b"").decode()
        with self.lock:
            self.requests.append({"path": scope["path"], "query": query, "headers": headers, "json": payload})
            self.count += 1
            number, b = self.count, self.behaviour
        status = b.error_status if number <= b.fail_first else b.status
        await self.route(scope["method"], scope["path"], query, headers, payload, status, b, send)

    async def route(self, method, path, query, headers, payload, status, b, send) -> None:
        raise NotImplementedError


async def _json(send, status: int, body: dict, extra=()) -> None:
    headers = [(b"content-type", b"application/json"), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


async def _start_sse(send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})


async def _raw(send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})


# Anthropic.
ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class FakeAnthropic(_Fake):
    async def route(self, method, path, query, headers, payload, status, b, send) -> None:
        if method == "GET" and path == "/v1/models":
            return await _json(send, 200, {"data": [{"type": "model", "id": "claude-fake"}], "has_more": False})
        if method != "POST" or path != "/v1/messages":
            return await self.error(send, 404, f"no route {method} {path}")
        if headers.get("x-api-key") != self.key or "anthropic-version" not in headers:
            return await self.error(send, 401, "invalid x-api-key")
        if not isinstance(payload.get("max_tokens"), int):
            return await self.error(send, 400, "max_tokens: Field required")
        if any(m.get("role") not in ("user", "assistant") for m in payload.get("messages", [])):
            return await self.error(send, 400, "messages: roles must be user or assistant")
        if status != 200:
            extra = [(b"retry-after", str(b.retry_after).encode())] if b.retry_after else []
            return await self.error(send, status, "Overloaded" if status == 529 else f"fake {status}", extra)
        tool = (payload.get("tools") or [None])[0]
        stop = b.stop or ("tool_use" if tool else "end_turn")
        if not payload.get("stream"):
            content = [{"type": "text", "text": "".join(WORDS)}]
            if tool:
                content.append(
                    {"type": "tool_use", "id": "toolu_01Fake", "name": tool["name"], "input": {"city": "Paris"}}
                )
            message = self.message(payload, content, stop, len(WORDS))
            return await _json(send, 200, message)
        await self.stream(send, payload, tool, stop, b)

    def message(self, payload: dict, content: list, stop: str | None, output: int) -> dict:
        return {
            "id": "msg_01Fake",
            "type": "message",
            "role": "assistant",
            "model": payload["model"],
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": PROMPT_TOKENS, "output_tokens": output},
        }

    async def error(self, send, status: int, message: str, extra=()) -> None:
        error = {"type": "error", "error": {"type": ANTHROPIC_ERRORS.get(status, "api_error"), "message": message}}
        await _json(send, status, error, extra)

    async def stream(self, send, payload: dict, tool: dict | None, stop: str, b: Behaviour) -> None:
        async def event(name: str, data: dict) -> None:
            await _raw(send, f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

        await _start_sse(send)
        await event("message_start", {"type": "message_start", "message": self.message(payload, [], None, 1)})
        await event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        )
        await event("ping", {"type": "ping"})
        for index, word in enumerate(WORDS):
            if b.cut_after is not None and index >= b.cut_after:
                raise _CutStream
            if b.error_after is not None and index >= b.error_after:
                error = {"type": "overloaded_error", "message": "Overloaded"}
                await event("error", {"type": "error", "error": error})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word}}
            await event("content_block_delta", delta)
        await event("content_block_stop", {"type": "content_block_stop", "index": 0})
        if tool:
            block = {"type": "tool_use", "id": "toolu_01Fake", "name": tool["name"], "input": {}}
            await event("content_block_start", {"type": "content_block_start", "index": 1, "content_block": block})
            for part in ('{"city":', ' "Paris"}'):
                delta = {"type": "input_json_delta", "partial_json": part}
                await event("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": delta})
            await event("content_block_stop", {"type": "content_block_stop", "index": 1})
        usage = {"output_tokens": len(WORDS)}
        await event(
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": usage},
        )
        await event("message_stop", {"type": "message_stop"})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


# Gemini.
GEMINI_STATUSES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class FakeGemini(_Fake):
    async def route(self, method, path, query, headers, payload, status, b, send) -> None:
        if method == "GET" and path == "/v1beta/models":
            return await _json(send, 200, {"models": [{"name": "models/gemini-fake"}]})
        model, _, action = path.removeprefix("/v1beta/models/").partition(":")
        if method != "POST" or not path.startswith("/v1beta/models/") or not action:
            return await self.error(send, 404, f"no route {method} {path}")
        if headers.get("x-goog-api-key") != self.key:
            return await self.error(send, 403, "API key not valid.")
        if status != 200:
            return await self.error(send, status, "The model is overloaded." if status == 503 else f"fake {status}")
        if action == "batchEmbedContents":
            return await self.embed(send, model, payload)
        contents = payload.get("contents")
        if not isinstance(contents, list) or any(c.get("role") not in ("user", "model") for c in contents):
            return await self.error(send, 400, "contents: role must be user or model")
        declarations = [d for t in payload.get("tools", []) for d in t.get("functionDeclarations", [])]
        tool = declarations[0] if declarations else None
        if action == "generateContent":
            parts = [{"text": "".join(WORDS)}]
            if tool:
                parts.append({"functionCall": {"name": tool["name"], "args": {"city": "Paris"}}})
            return await _json(send, 200, self.response(model, parts, b.stop or "STOP", len(WORDS)))
        if action == "streamGenerateContent" and query == "alt=sse":
            return await self.stream(send, model, tool, b)
        await self.error(send, 404, f"unknown method {action}")

    def response(self, model: str, parts: list, finish: str | None, output: int | None) -> dict:
        candidate: dict = {"content": {"parts": parts, "role": "model"}, "index": 0}
        value: dict = {"candidates": [candidate], "modelVersion": model, "responseId": "resp-fake"}
        if finish:
            candidate["finishReason"] = finish
        if output is not None:
            value["usageMetadata"] = {
                "promptTokenCount": PROMPT_TOKENS,
                "candidatesTokenCount": output,
                "totalTokenCount": PROMPT_TOKENS + output,
            }
        return value

    async def error(self, send, status: int, message: str) -> None:
        await _json(
            send,
            status,
            {"error": {"code": status, "message": message, "status": GEMINI_STATUSES.get(status, "UNKNOWN")}},
        )

    async def stream(self, send, model: str, tool: dict | None, b: Behaviour) -> None:
        await _start_sse(send)
        for index, word in enumerate(WORDS):
            if b.cut_after is not None and index >= b.cut_after:
                raise _CutStream
            if b.end_after is not None and index >= b.end_after:
                break
            last = index == len(WORDS) - 1
            parts = [{"text": word}]
            if last and tool:
                parts.append({"functionCall": {"name": tool["name"], "args": {"city": "Paris"}}})
            finish = (b.stop or "STOP") if last else None
            value = self.response(model, parts, finish, len(WORDS) if last else None)
            await _raw(send, b"data: " + json.dumps(value).encode() + b"\r\n\r\n")  # Google ends lines with CRLF
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def embed(self, send, model: str, payload: dict) -> None:
        requests = payload.get("requests")
        if not isinstance(requests, list) or any(r.get("model") != f"models/{model}" for r in requests):
            return await self.error(send, 400, "requests[].model must name the model of the URL")
        embeddings = []
        for request in requests:
            text = "".join(p.get("text", "") for p in request["content"]["parts"])
            size = request.get("outputDimensionality") or 3
            embeddings.append({"values": [round(len(text) / 10, 3)] + [0.5] * (size - 1)})
        await _json(send, 200, {"embeddings": embeddings})


class _Server(AsgiLoopbackServer):
    app: _Fake

    def configure(self, **changes) -> None:
        self.app.configure(**changes)

    def reset(self) -> None:
        self.app.reset()

    @property
    def requests(self) -> list[dict]:
        with self.app.lock:
            return list(self.app.requests)


class FakeAnthropicServer(_Server):
    def __init__(self, key: str, host: str = "127.0.0.1"):
        super().__init__(FakeAnthropic(key), host=host)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"


class FakeGeminiServer(_Server):
    def __init__(self, key: str, host: str = "127.0.0.1"):
        super().__init__(FakeGemini(key), host=host)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1beta"
