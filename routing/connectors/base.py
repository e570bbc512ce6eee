"""What every native connector shares: the OpenAI chunks it writes, the translated event stream it hands the gateway,
and the reshaping of a native error body into OpenAI's.

A native connector turns an OpenAI chat request into its API's request and the answer back into OpenAI's shape. A
stream is translated event by event: `NativeStream` has the interface of `upstream.EventStream`, so the gateway's
first-chunk and relay logic (retry before the first chunk, one error event after it) runs unchanged on its output.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import deque

from modelgraph.secrets import key_resolve, redact
from routing import upstream
from routing.candidates import RouteCandidate
from routing.chat_request import ChatRequest

DONE_EVENT = b"data: [DONE]\n\n"


def sse(value: dict) -> bytes:
    return b"data: " + json.dumps(value, separators=(",", ":")).encode() + b"\n\n"


def error_event(message: str, *, code: str | None, type: str = "upstream_error") -> bytes:
    return sse({"error": {"message": redact(message)[:500], "type": type, "param": None, "code": code}})


def openai_usage(prompt: int | None, completion: int | None) -> dict:
    prompt, completion = int(prompt or 0), int(completion or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion_id(native: object = None) -> str:
    return f"chatcmpl-{native}" if isinstance(native, str) and native else f"chatcmpl-{uuid.uuid4().hex[:24]}"


def completion(answer_id: str, model: str, choices: list[dict], usage: dict) -> dict:
    """A `chat.completion` object."""
    return {
        "id": answer_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": usage,
    }


def arguments_json(value: object) -> str:
    """A tool call's arguments as OpenAI carries them: a JSON string."""
    return json.dumps(value if value is not None else {}, separators=(",", ":"))


def arguments_value(text: object) -> dict:
    """The object an OpenAI tool call's `arguments` string holds (native APIs take an object); {} when not one."""
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text) if isinstance(text, str) and text.strip() else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {"value": value}


def text_of(content: object) -> str:
    """The text of an OpenAI message content (a string, or the text parts of a list)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def data_url(url: str) -> tuple[str, str] | None:
    """(media type, base64 data) of a `data:<type>;base64,<data>` URL, else None."""
    if not url.startswith("data:") or ";base64," not in url:
        return None
    head, _, data = url.partition(";base64,")
    return head.removeprefix("data:") or "application/octet-stream", data


def max_tokens_of(payload: dict) -> int | None:
    value = payload.get("max_completion_tokens", payload.get("max_tokens"))
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def stop_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


class Chunks:
    """Writes the `chat.completion.chunk` events of one translated stream."""

    def __init__(self, model: str):
        self.id = completion_id()
        self.created = int(time.time())
        self.model = model

    def _base(self, choices: list) -> dict:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }

    def delta(self, delta: dict, finish: str | None = None, index: int = 0) -> bytes:
        return sse(self._base([{"index": index, "delta": delta, "finish_reason": finish}]))

    def usage(self, usage: dict) -> bytes:
        """The usage-only chunk `stream_options.include_usage` asks for (the gateway drops it otherwise)."""
        return sse({**self._base([]), "usage": usage})


class Translator:
    """Turns a native stream's data objects into OpenAI SSE events."""

    def feed(self, value: dict) -> list[bytes]:
        raise NotImplementedError

    def end(self) -> list[bytes]:
        """When the upstream closed the stream: the closing events, or [] when it ended before it was complete."""
        return []


class NativeStream:
    """A native SSE stream read as OpenAI events (same interface as `upstream.EventStream`)."""

    def __init__(self, events: upstream.EventStream, translator: Translator):
        self.events = events
        self.translator = translator
        self._out: deque[bytes] = deque()
        self._ended = False

    async def next(self) -> bytes | None:
        while not self._out:
            if self._ended:
                return None
            event = await self.events.next()
            if event is None:
                self._ended = True
                self._out.extend(self.translator.end())
                continue
            data = upstream.data_of(event)
            if data is None or data == upstream.DONE:
                continue
            value = upstream.chunk_json(data)
            if value is None:
                self._out.append(b"data: " + data + b"\n\n")  # malformed: the gateway sees it as such
                continue
            self._out.extend(self.translator.feed(value))
        return self._out.popleft()

    async def finish(self, timeout: float = 1.0) -> None:
        await self.events.finish(timeout)

    async def aclose(self) -> None:
        await self.events.aclose()


def openai_error_body(body: bytes) -> bytes:
    """A native error body (`{"error": {"type"|"status", "message"}}`) in OpenAI's shape; other bodies unchanged."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return body
    if not isinstance(error, dict):
        return body
    code = error.get("type") or error.get("status") or error.get("code")
    shaped = {
        "error": {
            "message": str(error.get("message") or code or "upstream error"),
            "type": "invalid_request_error",
            "param": None,
            "code": str(code) if code is not None else None,
        }
    }
    return json.dumps(shaped).encode()


class Connector:
    """One upstream API family: the URLs, headers and translations of a chat request (and embeddings)."""

    api = ""
    embeds = False  # whether it serves /v1/embeddings

    def headers(self, candidate: RouteCandidate, stream: bool) -> list[tuple[bytes, bytes]]:
        raise NotImplementedError

    def chat_url(self, candidate: RouteCandidate, stream: bool) -> str:
        raise NotImplementedError

    def models_url(self, candidate: RouteCandidate) -> str:
        return f"{candidate.base_url}/models"

    def chat_body(self, request: ChatRequest, candidate: RouteCandidate) -> dict:
        raise NotImplementedError

    def chat_answer(self, body: dict, candidate: RouteCandidate) -> dict | None:
        """The OpenAI `chat.completion` for a native answer, None when the answer is not one."""
        raise NotImplementedError

    def translator(self, request: ChatRequest, candidate: RouteCandidate) -> Translator:
        raise NotImplementedError

    # Embeddings (when `embeds`).
    def embeddings_url(self, candidate: RouteCandidate) -> str:
        raise NotImplementedError

    def embeddings_body(self, inputs: list[str], payload: dict, candidate: RouteCandidate) -> dict:
        raise NotImplementedError

    def embeddings_answer(self, body: dict) -> list[list[float]] | None:
        raise NotImplementedError


def api_key(candidate: RouteCandidate) -> bytes | None:
    """The provider's key (resolved from its reference at each request, like the OpenAI path), or None."""
    key = key_resolve(candidate.key_ref) if candidate.key_ref else None
    return key.encode() if key else None


def common_headers(stream: bool) -> list[tuple[bytes, bytes]]:
    return [
        (b"Content-Type", b"application/json"),
        (b"Accept", b"text/event-stream" if stream else b"application/json"),
        (b"Accept-Encoding", b"identity"),
        (b"User-Agent", upstream.USER_AGENT),
    ]
