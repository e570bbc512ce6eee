"""OpenAI-compatible upstreams: the request is passed through with the provider's model id, the answer relayed as it
came (routing.gateway and routing.upstream carry it: no translation, no extra work on this path)."""

from __future__ import annotations

import json

from routing.candidates import RouteCandidate
from routing.chat_request import ChatRequest
from routing.conf import setting


def chat_payload(request: ChatRequest, candidate: RouteCandidate) -> bytes:
    """The request as the upstream gets it: the offer's model id, and usage asked for on streams."""
    body = {**request.payload, "model": candidate.provider_model_id}
    if request.stream and setting("ROUTING_STREAM_USAGE"):
        body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
    return json.dumps(body, separators=(",", ":")).encode()


def embeddings_url(candidate: RouteCandidate) -> str:
    return f"{candidate.base_url}/embeddings"


def embeddings_payload(payload: dict, candidate: RouteCandidate) -> bytes:
    return json.dumps({**payload, "model": candidate.provider_model_id}, separators=(",", ":")).encode()


def embeddings_answer(body: object) -> bool:
    """Whether an upstream answer is an embeddings list."""
    return isinstance(body, dict) and isinstance(body.get("data"), list) and not body.get("error")
