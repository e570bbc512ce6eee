"""/v1/embeddings: the request as the gateway accepts it (OpenAI's shape; anything else a 400 naming the field), and
one attempt at an upstream — passed through to an OpenAI-compatible one, translated for Gemini's
`batchEmbedContents`. routing.gateway plans, retries, rotates and logs it like a completion."""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass

from modelgraph.json_depth import nesting_exceeds
from routing import errors, retry, upstream
from routing.candidates import OPENAI_API, RouteCandidate
from routing.chat_request import ChatRequest, has_control_characters
from routing.conf import setting
from routing.connectors import CONNECTORS, malformed, reshaped
from routing.connectors.openai_compat import embeddings_answer, embeddings_payload, embeddings_url

MAX_INPUTS = 2048  # OpenAI's limit of inputs per request
ENCODINGS = ("float", "base64")


@dataclass
class EmbeddingsRequest(ChatRequest):
    texts: list[str] | None = None  # None when the input is token arrays (only OpenAI-compatible upstreams take them)


def _invalid(message: str, param: str | None, code: str = "invalid_value") -> errors.GatewayError:
    return errors.GatewayError(400, message, param=param, code=code)


def _load(raw: bytes) -> object:
    limit = setting("ROUTING_MAX_JSON_DEPTH")
    if nesting_exceeds(raw, limit):
        raise _invalid(f"The body nests arrays or objects more than {limit} deep.", None, "invalid_json")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _invalid(f"The body is not valid JSON: {exc}.", None, "invalid_json") from None


def _is_tokens(value: object) -> bool:
    return (
        isinstance(value, list) and bool(value) and all(isinstance(t, int) and not isinstance(t, bool) for t in value)
    )


def _texts(value: object) -> list[str] | None:
    """The input's strings (None for token arrays); a 400 naming `input` for anything else."""
    if isinstance(value, str):
        if not value:
            raise _invalid("`input` must not be empty.", "input")
        return [value]
    if not isinstance(value, list) or not value:
        raise _invalid(
            "`input` is required: a string, a list of strings, or token arrays.", "input", "missing_required_parameter"
        )
    if len(value) > MAX_INPUTS:
        raise _invalid(f"`input` holds more than {MAX_INPUTS} items.", "input")
    if _is_tokens(value) or all(_is_tokens(item) for item in value):
        return None
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item:
            raise _invalid(
                f"`input[{index}]` must be a non-empty string (or every item a token array).",
                f"input[{index}]",
                "invalid_type",
            )
    return list(value)


def embeddings_request_parse(raw: bytes) -> EmbeddingsRequest:
    """Validate an OpenAI embeddings request enough to route it safely; the upstream validates the rest."""
    payload = _load(raw)
    if not isinstance(payload, dict):
        raise _invalid("The body must be a JSON object.", None, "invalid_json")
    model = payload.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _invalid("`model` is required: a capability or a model.", "model", "missing_required_parameter")
    if has_control_characters(model):
        raise _invalid("`model` must not contain control characters.", "model")
    texts = _texts(payload.get("input"))
    encoding = payload.get("encoding_format", "float")
    if encoding not in ENCODINGS:
        raise _invalid("`encoding_format` must be float or base64.", "encoding_format")
    dimensions = payload.get("dimensions")
    if dimensions is not None and (not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1):
        raise _invalid("`dimensions` must be a positive integer.", "dimensions", "invalid_type")
    if "user" in payload and not isinstance(payload["user"], str):
        raise _invalid("`user` must be a string.", "user", "invalid_type")
    return EmbeddingsRequest(model=model.strip(), payload=payload, texts=texts)


def serves(candidate: RouteCandidate) -> bool:
    """Whether the offer's API has embeddings (Anthropic's has none)."""
    return candidate.api == OPENAI_API or CONNECTORS[candidate.api].embeds


def _encoded(vector: list[float], encoding: str) -> list[float] | str:
    if encoding != "base64":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


async def send(request: ChatRequest, candidate: RouteCandidate, remaining: float) -> tuple[bytes, str, dict]:
    """One attempt: (OpenAI JSON, content type, the same as a dict), or AttemptFailed."""
    assert isinstance(request, EmbeddingsRequest)
    timeout = min(setting("ROUTING_REQUEST_TIMEOUT"), remaining)
    if candidate.api == OPENAI_API:
        response = await upstream.send_chat(
            candidate, embeddings_payload(request.payload, candidate), timeout, url=embeddings_url(candidate)
        )
        body = upstream.chunk_json(response.content)
        if body is None or not embeddings_answer(body):
            raise malformed(response.content)
        return response.content, upstream.header(response, "content-type", "application/json"), body
    return await _send_native(request, candidate, timeout)


async def _send_native(
    request: EmbeddingsRequest, candidate: RouteCandidate, timeout: float
) -> tuple[bytes, str, dict]:
    connector = CONNECTORS[candidate.api]
    if request.texts is None:
        message = f"{candidate.provider_slug} embeds text only: `input` must be strings, not token arrays."
        error = errors.error_payload(message, type=errors.INVALID_REQUEST, code="invalid_value", param="input")
        raise upstream.AttemptFailed(retry.Failure(retry.CLIENT, message, status=400, body=json.dumps(error).encode()))
    body_out = connector.embeddings_body(request.texts, request.payload, candidate)
    try:
        response = await upstream.send_chat(
            candidate,
            json.dumps(body_out, separators=(",", ":")).encode(),
            timeout,
            url=connector.embeddings_url(candidate),
            headers=connector.headers(candidate, False),
        )
    except upstream.AttemptFailed as exc:
        raise reshaped(exc) from None
    body = upstream.chunk_json(response.content)
    vectors = connector.embeddings_answer(body) if body is not None else None
    if vectors is None or len(vectors) != len(request.texts):
        raise malformed(response.content)
    encoding = request.payload.get("encoding_format", "float")
    answer = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": index, "embedding": _encoded(vector, encoding)}
            for index, vector in enumerate(vectors)
        ],
        "model": candidate.provider_model_id,
        "usage": {"prompt_tokens": 0, "total_tokens": 0},  # Gemini's batchEmbedContents states no token count
    }
    return json.dumps(answer, separators=(",", ":")).encode(), "application/json", answer
