"""Google's Gemini API (`models/{id}:generateContent`, `:streamGenerateContent?alt=sse`, `:batchEmbedContents`),
to and from OpenAI's shapes.

Requests: `contents[{role: user|model, parts}]`, system messages as `systemInstruction`, sampling in
`generationConfig`, tools as `functionDeclarations`, tool results as `functionResponse` parts; the key goes in
`x-goog-api-key`. Answers: text parts join into `content`, `functionCall` parts become `tool_calls`, `finishReason`
maps to `finish_reason`, `usageMetadata` to `usage`. A stream is a sequence of `data:` GenerateContentResponse
objects with no terminator: it is complete once a candidate has a `finishReason` and the body ends.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

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

FILTERED = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"})
FINISH_REASONS = {"STOP": "stop", "MAX_TOKENS": "length", **dict.fromkeys(FILTERED, "content_filter")}
GENERATION = {
    "temperature": "temperature",
    "top_p": "topP",
    "n": "candidateCount",
    "seed": "seed",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
}
TOOL_MODES = {"auto": "AUTO", "required": "ANY", "none": "NONE"}


def model_path(candidate: RouteCandidate) -> str:
    return "models/" + quote(candidate.provider_model_id.removeprefix("models/"), safe="-._~")


def _parts(content: object) -> list[dict]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts: list[dict] = []
    for part in content if isinstance(content, list) else ():
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            parts.append({"text": part.get("text", "")})
        elif part.get("type") == "image_url" and isinstance((part.get("image_url") or {}).get("url"), str):
            url = part["image_url"]["url"]
            inline = data_url(url)
            if inline is not None:
                parts.append({"inlineData": {"mimeType": inline[0], "data": inline[1]}})
            else:
                parts.append({"fileData": {"fileUri": url}})
    return parts


def _function_response(message: dict, names: dict[str, str]) -> dict:
    text = text_of(message.get("content"))
    value = arguments_value(text) if text.lstrip().startswith("{") else {}
    call_id = message.get("tool_call_id") or ""
    name = names.get(call_id) or message.get("name") or call_id
    return {"functionResponse": {"name": name, "response": value or {"content": text}}}


def _contents(messages: list[dict]) -> tuple[list[dict], list[str]]:
    contents: list[dict] = []
    system: list[str] = []
    names: dict[str, str] = {}  # tool call id → function name (a functionResponse names its function)
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system.append(text_of(message.get("content")))
            continue
        if role in ("tool", "function"):
            turn, parts = "user", [_function_response(message, names)]
        elif role == "assistant":
            turn, parts = "model", _parts(message.get("content"))
            for call in message.get("tool_calls") or ():
                function = call.get("function") if isinstance(call, dict) else None
                if not isinstance(function, dict):
                    continue
                names[call.get("id") or ""] = function.get("name", "")
                parts.append(
                    {
                        "functionCall": {
                            "name": function.get("name", ""),
                            "args": arguments_value(function.get("arguments")),
                        }
                    }
                )
        else:
            turn, parts = "user", _parts(message.get("content"))
        if contents and contents[-1]["role"] == turn:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": turn, "parts": parts})
    return contents, system


def _tools(payload: dict) -> dict:
    declarations = []
    for tool in payload.get("tools") or ():
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict):
            continue
        declaration = {"name": function.get("name", "")}
        if function.get("description"):
            declaration["description"] = function["description"]
        if function.get("parameters"):
            declaration["parameters"] = function["parameters"]
        declarations.append(declaration)
    if not declarations:
        return {}
    shaped: dict = {"tools": [{"functionDeclarations": declarations}]}
    choice = payload.get("tool_choice")
    if isinstance(choice, str) and choice in TOOL_MODES:
        shaped["toolConfig"] = {"functionCallingConfig": {"mode": TOOL_MODES[choice]}}
    elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        name = choice["function"].get("name", "")
        shaped["toolConfig"] = {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}
    return shaped


def _generation_config(payload: dict) -> dict:
    config = {theirs: payload[ours] for ours, theirs in GENERATION.items() if payload.get(ours) is not None}
    if (limit := max_tokens_of(payload)) is not None:
        config["maxOutputTokens"] = limit
    if stops := stop_list(payload.get("stop")):
        config["stopSequences"] = stops
    response_format = payload.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") in ("json_object", "json_schema"):
        config["responseMimeType"] = "application/json"
    return config


def _usage(metadata: object) -> dict | None:
    if not isinstance(metadata, dict):
        return None
    completion_tokens = (metadata.get("candidatesTokenCount") or 0) + (metadata.get("thoughtsTokenCount") or 0)
    return openai_usage(metadata.get("promptTokenCount"), completion_tokens)


def _call(part: dict) -> dict:
    call = part["functionCall"]
    call_id = call.get("id") or f"call_{uuid.uuid4().hex[:24]}"
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": call.get("name", ""), "arguments": arguments_json(call.get("args"))},
    }


def _split(candidate: dict) -> tuple[str, str, list[dict]]:
    """(text, thoughts, tool calls) of one candidate's parts."""
    text, thoughts, calls = "", "", []
    for part in (candidate.get("content") or {}).get("parts") or ():
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("functionCall"), dict):
            calls.append(_call(part))
        elif isinstance(part.get("text"), str):
            if part.get("thought"):
                thoughts += part["text"]
            else:
                text += part["text"]
    return text, thoughts, calls


def _finish(reason: object, called: bool) -> str:
    if called and reason in ("STOP", None):
        return "tool_calls"  # Gemini says STOP after a function call
    return FINISH_REASONS.get(reason if isinstance(reason, str) else "", "stop")


class GeminiConnector(Connector):
    api = "gemini"
    embeds = True

    def headers(self, candidate: RouteCandidate, stream: bool) -> list[tuple[bytes, bytes]]:
        headers = common_headers(stream)
        key = api_key(candidate)
        if key:
            headers.append((b"x-goog-api-key", key))
        return headers

    def chat_url(self, candidate: RouteCandidate, stream: bool) -> str:
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"{candidate.base_url}/{model_path(candidate)}:{method}"

    def chat_body(self, request: ChatRequest, candidate: RouteCandidate) -> dict:
        contents, system = _contents(request.payload["messages"])
        body: dict = {"contents": contents, **_tools(request.payload)}
        if system:
            body["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
        if config := _generation_config(request.payload):
            body["generationConfig"] = config
        return body

    def chat_answer(self, body: dict, candidate: RouteCandidate) -> dict | None:
        candidates = body.get("candidates")
        if not isinstance(candidates, list):
            blocked = (body.get("promptFeedback") or {}).get("blockReason")
            if not blocked:
                return None
            candidates = [{"finishReason": "SAFETY"}]
        choices = []
        for position, native in enumerate(c for c in candidates if isinstance(c, dict)):
            text, thoughts, calls = _split(native)
            message: dict = {"role": "assistant", "content": text or (None if calls else "")}
            if calls:
                message["tool_calls"] = calls
            if thoughts:
                message["reasoning_content"] = thoughts
            index = native.get("index", position)
            choices.append(
                {"index": index, "message": message, "finish_reason": _finish(native.get("finishReason"), bool(calls))}
            )
        usage = _usage(body.get("usageMetadata")) or openai_usage(0, 0)
        model = body.get("modelVersion") or candidate.provider_model_id
        return completion(completion_id(body.get("responseId")), model, choices, usage)

    def translator(self, request: ChatRequest, candidate: RouteCandidate) -> Translator:
        return GeminiStream(candidate.provider_model_id)

    # Embeddings.
    def embeddings_url(self, candidate: RouteCandidate) -> str:
        return f"{candidate.base_url}/{model_path(candidate)}:batchEmbedContents"

    def embeddings_body(self, inputs: list[str], payload: dict, candidate: RouteCandidate) -> dict:
        model = model_path(candidate)
        requests = []
        for text in inputs:
            entry: dict = {"model": model, "content": {"parts": [{"text": text}]}}
            if isinstance(payload.get("dimensions"), int):
                entry["outputDimensionality"] = payload["dimensions"]
            requests.append(entry)
        return {"requests": requests}

    def embeddings_answer(self, body: dict) -> list[list[float]] | None:
        embeddings = body.get("embeddings")
        if not isinstance(embeddings, list) or not all(isinstance(e, dict) for e in embeddings):
            return None
        vectors = [e.get("values") for e in embeddings]
        return vectors if all(isinstance(v, list) for v in vectors) else None  # type: ignore[return-value]


class GeminiStream(Translator):
    def __init__(self, model: str):
        self.chunks = Chunks(model)
        self.started = self.finished = False
        self.calls = 0
        self.usage: dict | None = None

    def feed(self, value: dict) -> list[bytes]:
        if isinstance(value.get("error"), dict):
            error = value["error"]
            return [error_event(str(error.get("message") or "upstream error"), code=error.get("status"))]
        events = []
        if not self.started:
            self.started = True
            if isinstance(value.get("responseId"), str):
                self.chunks.id = completion_id(value["responseId"])
            events.append(self.chunks.delta({"role": "assistant", "content": ""}))
        self.usage = _usage(value.get("usageMetadata")) or self.usage
        candidates = value.get("candidates")
        if not isinstance(candidates, list):
            if (value.get("promptFeedback") or {}).get("blockReason"):
                self.finished = True
                events.append(self.chunks.delta({}, "content_filter"))
            return events
        for position, native in enumerate(c for c in candidates if isinstance(c, dict)):
            index = native.get("index", position)
            text, thoughts, calls = _split(native)
            delta: dict = {}
            if text:
                delta["content"] = text
            if thoughts:
                delta["reasoning_content"] = thoughts
            if calls:
                delta["tool_calls"] = [{"index": self.calls + i, **call} for i, call in enumerate(calls)]
                self.calls += len(calls)
            if delta:
                events.append(self.chunks.delta(delta, index=index))
            if native.get("finishReason"):
                self.finished = True
                events.append(self.chunks.delta({}, _finish(native["finishReason"], self.calls > 0), index=index))
        return events

    def end(self) -> list[bytes]:
        if not self.finished:
            return []  # cut before any candidate finished: the gateway ends the stream with an error event
        return [self.chunks.usage(self.usage or openai_usage(0, 0)), DONE_EVENT]
