"""Anthropic's Messages API (`POST {base}/messages`), to and from OpenAI's chat completions.

Requests: system and developer messages become `system`; `max_tokens` is required there (defaulted); tools become
`tools[{name, description, input_schema}]`, tool results `tool_result` blocks in a user turn; `stop` becomes
`stop_sequences`. Answers: text blocks join into `content`, `tool_use` blocks become `tool_calls`, `stop_reason`
maps to `finish_reason`. Streams: message_start / content_block_start / content_block_delta (text_delta,
input_json_delta) / message_delta / message_stop / ping / error events become `chat.completion.chunk`s.
"""

from __future__ import annotations

from routing.candidates import RouteCandidate
from routing.chat_request import ChatRequest
from routing.connectors.base import (
    DONE_EVENT,
    Chunks,
    Connector,
    Translator,
    api_key,
    arguments_json,
    arguments_value,
    common_headers,
    completion,
    completion_id,
    data_url,
    error_event,
    max_tokens_of,
    openai_usage,
    stop_list,
    text_of,
)

VERSION = b"2023-06-01"
# Anthropic requires max_tokens; OpenAI clients usually leave it out.
DEFAULT_MAX_TOKENS = 4096
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
SAMPLING = {"temperature": "temperature", "top_p": "top_p", "top_k": "top_k"}


def _image(url: str) -> dict:
    inline = data_url(url)
    if inline is not None:
        return {"type": "image", "source": {"type": "base64", "media_type": inline[0], "data": inline[1]}}
    return {"type": "image", "source": {"type": "url", "url": url}}


def _blocks(content: object) -> list[dict]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks = []
    for part in content if isinstance(content, list) else ():
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            blocks.append({"type": "text", "text": part.get("text", "")})
        elif part.get("type") == "image_url":
            image = part.get("image_url") or {}
            if isinstance(image.get("url"), str):
                blocks.append(_image(image["url"]))
    return blocks


def _message(message: dict) -> tuple[str, list[dict]]:
    role = message.get("role")
    if role in ("tool", "function"):
        result = {"type": "tool_result", "tool_use_id": message.get("tool_call_id") or message.get("name") or ""}
        result["content"] = text_of(message.get("content"))
        return "user", [result]
    if role == "assistant":
        blocks = _blocks(message.get("content"))
        for call in message.get("tool_calls") or ():
            if not isinstance(call, dict):
                continue
            function = call.get("function")
            function = function if isinstance(function, dict) else {}
            blocks.append(
                {
                    "type": "tool_use",
                    "id": call.get("id") or "",
                    "name": function.get("name") or "",
                    "input": arguments_value(function.get("arguments")),
                }
            )
        return "assistant", blocks
    return "user", _blocks(message.get("content"))


def _tool_choice(choice: object) -> dict | None:
    if choice == "auto":
        return {"type": "auto"}
    if choice == "required":
        return {"type": "any"}
    if choice == "none":
        return {"type": "none"}
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return {"type": "tool", "name": choice["function"].get("name", "")}
    return None


def _tools(tools: object) -> list[dict]:
    shaped = []
    for tool in tools if isinstance(tools, list) else ():
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict):
            continue
        entry = {"name": function.get("name", ""), "input_schema": function.get("parameters") or {"type": "object"}}
        if function.get("description"):
            entry["description"] = function["description"]
        shaped.append(entry)
    return shaped


class AnthropicConnector(Connector):
    api = "anthropic"

    def headers(self, candidate: RouteCandidate, stream: bool) -> list[tuple[bytes, bytes]]:
        headers = [*common_headers(stream), (b"anthropic-version", VERSION)]
        key = api_key(candidate)
        if key:
            headers.append((b"x-api-key", key))
        return headers

    def chat_url(self, candidate: RouteCandidate, stream: bool) -> str:
        return f"{candidate.base_url}/messages"

    def chat_body(self, request: ChatRequest, candidate: RouteCandidate) -> dict:
        payload = request.payload
        system: list[str] = []
        messages: list[dict] = []
        for message in payload["messages"]:
            if message.get("role") in ("system", "developer"):
                system.append(text_of(message.get("content")))
                continue
            role, blocks = _message(message)
            if messages and messages[-1]["role"] == role:
                messages[-1]["content"].extend(blocks)  # the API wants turns to alternate
            else:
                messages.append({"role": role, "content": blocks})
        body: dict = {
            "model": candidate.provider_model_id,
            "messages": messages,
            "max_tokens": max_tokens_of(payload) or DEFAULT_MAX_TOKENS,
        }
        if system:
            body["system"] = "\n\n".join(system)
        for ours, theirs in SAMPLING.items():
            if ours in payload and payload[ours] is not None:
                body[theirs] = payload[ours]
        if stops := stop_list(payload.get("stop")):
            body["stop_sequences"] = stops
        if tools := _tools(payload.get("tools")):
            body["tools"] = tools
            if (choice := _tool_choice(payload.get("tool_choice"))) is not None:
                body["tool_choice"] = choice
        if isinstance(payload.get("user"), str):
            body["metadata"] = {"user_id": payload["user"]}
        if request.stream:
            body["stream"] = True
        return body

    def chat_answer(self, body: dict, candidate: RouteCandidate) -> dict | None:
        content = body.get("content")
        if body.get("type") != "message" or not isinstance(content, list):
            return None
        text, calls = "", []
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                text += block.get("text", "")
            elif block.get("type") == "tool_use":
                call = {"name": block.get("name", ""), "arguments": arguments_json(block.get("input"))}
                calls.append({"id": block.get("id", ""), "type": "function", "function": call})
        message: dict = {"role": "assistant", "content": text or (None if calls else "")}
        if calls:
            message["tool_calls"] = calls
        finish = FINISH_REASONS.get(body.get("stop_reason") or "", "stop")
        usage = body.get("usage") or {}
        choice = {"index": 0, "message": message, "finish_reason": finish}
        model = body.get("model") or candidate.provider_model_id
        return completion(completion_id(body.get("id")), model, [choice], _usage(usage, usage.get("output_tokens")))

    def translator(self, request: ChatRequest, candidate: RouteCandidate) -> Translator:
        return AnthropicStream(candidate.provider_model_id)


def _prompt_tokens(usage: dict) -> int:
    """Input tokens, cached ones included (Anthropic counts cache reads and writes apart)."""
    names = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    return sum(usage.get(name) or 0 for name in names if isinstance(usage.get(name), int))


def _usage(usage: dict, output: object) -> dict:
    return openai_usage(_prompt_tokens(usage), output if isinstance(output, int) else 0)


class AnthropicStream(Translator):
    def __init__(self, model: str):
        self.chunks = Chunks(model)
        self.tool_index: dict[object, int] = {}  # content block index → OpenAI tool call index
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def feed(self, value: dict) -> list[bytes]:
        kind = value.get("type")
        if kind == "message_start":
            message = value.get("message") or {}
            if isinstance(message.get("id"), str):
                self.chunks.id = completion_id(message["id"])
            self.chunks.model = message.get("model") or self.chunks.model
            usage = message.get("usage") or {}
            self.prompt_tokens = _prompt_tokens(usage)
            self.completion_tokens = usage.get("output_tokens") or 0
            return [self.chunks.delta({"role": "assistant", "content": ""})]
        if kind == "content_block_start":
            return self._block_start(value.get("index"), value.get("content_block") or {})
        if kind == "content_block_delta":
            return self._block_delta(value.get("index"), value.get("delta") or {})
        if kind == "message_delta":
            usage = value.get("usage") or {}
            self.completion_tokens = usage.get("output_tokens") or self.completion_tokens
            # Some Anthropic-compatible servers state the input only here.
            self.prompt_tokens = _prompt_tokens(usage) or self.prompt_tokens
            finish = FINISH_REASONS.get((value.get("delta") or {}).get("stop_reason") or "", "stop")
            return [
                self.chunks.delta({}, finish),
                self.chunks.usage(openai_usage(self.prompt_tokens, self.completion_tokens)),
            ]
        if kind == "message_stop":
            return [DONE_EVENT]
        if kind == "error":
            error = value.get("error") or {}
            return [error_event(str(error.get("message") or "upstream error"), code=error.get("type"))]
        return []  # ping, content_block_stop, and any event type added later

    def _block_start(self, index: object, block: dict) -> list[bytes]:
        if block.get("type") == "tool_use":
            call_index = self.tool_index[index] = len(self.tool_index)
            call = {
                "index": call_index,
                "id": block.get("id", ""),
                "type": "function",
                "function": {"name": block.get("name", ""), "arguments": ""},
            }
            return [self.chunks.delta({"tool_calls": [call]})]
        if block.get("type") == "text" and block.get("text"):
            return [self.chunks.delta({"content": block["text"]})]
        return []

    def _block_delta(self, index: object, delta: dict) -> list[bytes]:
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            return [self.chunks.delta({"content": delta["text"]})]
        if kind == "input_json_delta" and index in self.tool_index and delta.get("partial_json"):
            call = {"index": self.tool_index[index], "function": {"arguments": delta["partial_json"]}}
            return [self.chunks.delta({"tool_calls": [call]})]
        if kind == "thinking_delta" and delta.get("thinking"):
            return [self.chunks.delta({"reasoning_content": delta["thinking"]})]
        return []
