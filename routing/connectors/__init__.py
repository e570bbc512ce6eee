"""The connector registry: one connector per upstream API family, chosen by the provider's record.

A provider speaks OpenAI's API (the default: passed through untranslated by routing.gateway), Anthropic's Messages
API or Google's Gemini API. Its `ProviderConnector` row says which; without one, a provider whose API base URL is
Anthropic's or Google's own host speaks that API (`api_family`). Native requests and answers are translated here,
so the gateway's retries, rotation, streaming guarantees and request log apply to every family alike.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from modelgraph.secrets import redact
from routing import retry, upstream
from routing.candidates import OPENAI_API, RouteCandidate
from routing.chat_request import ChatRequest
from routing.conf import setting
from routing.connectors.anthropic import AnthropicConnector
from routing.connectors.base import Connector, NativeStream, openai_error_body
from routing.connectors.gemini import GeminiConnector

ANTHROPIC, GEMINI = "anthropic", "gemini"
CONNECTORS: dict[str, Connector] = {ANTHROPIC: AnthropicConnector(), GEMINI: GeminiConnector()}
API_FAMILIES = (OPENAI_API, *CONNECTORS)
# The public hosts of the native APIs: a provider based there speaks that API without a ProviderConnector row.
NATIVE_HOSTS = {"api.anthropic.com": ANTHROPIC, "generativelanguage.googleapis.com": GEMINI}
PUBLIC_BASE_URLS = {
    ANTHROPIC: "https://api.anthropic.com/v1",
    GEMINI: "https://generativelanguage.googleapis.com/v1beta",
}

__all__ = ["API_FAMILIES", "CONNECTORS", "api_family", "base_url_of", "open_stream", "probe", "send_chat"]


def api_family(*, stated: str | None, base_url: str, openai_compatible: bool) -> str | None:
    """The API a provider speaks: its connector row's, else its host's, else OpenAI's if it says it is compatible;
    None when the gateway cannot speak to it."""
    if stated in API_FAMILIES:
        return stated
    host = (urlsplit(base_url).hostname or "").lower() if base_url else ""
    if host in NATIVE_HOSTS:
        return NATIVE_HOSTS[host]
    return OPENAI_API if openai_compatible else None


def base_url_of(api: str, *, stated: str = "", provider: str = "") -> str:
    """Where requests go: the connector row's URL, else the provider's, else the native API's public one."""
    return (stated or provider or PUBLIC_BASE_URLS.get(api, "")).rstrip("/")


def connector_for(candidate: RouteCandidate) -> Connector:
    return CONNECTORS[candidate.api]


def reshaped(exc: upstream.AttemptFailed) -> upstream.AttemptFailed:
    """A native error answer with its body in OpenAI's shape (a client error is relayed to the caller as it is)."""
    failure = exc.failure
    if failure.body:
        failure.body = openai_error_body(failure.body)
    return exc


def malformed(content: bytes) -> upstream.AttemptFailed:
    detail = redact(content[:120].decode("utf-8", "replace"))
    return upstream.AttemptFailed(retry.Failure(retry.SERVER, f"malformed answer: {detail!r}", status=200))


async def send_chat(candidate: RouteCandidate, request: ChatRequest, timeout: float) -> tuple[bytes, str, dict]:
    """A non-streaming completion from a native API: (OpenAI JSON, its content type, the same as a dict)."""
    connector = connector_for(candidate)
    payload = json.dumps(connector.chat_body(request, candidate), separators=(",", ":")).encode()
    try:
        response = await upstream.send_chat(
            candidate,
            payload,
            timeout,
            url=connector.chat_url(candidate, False),
            headers=connector.headers(candidate, False),
        )
    except upstream.AttemptFailed as exc:
        raise reshaped(exc) from None
    body = upstream.chunk_json(response.content)
    answer = connector.chat_answer(body, candidate) if body is not None else None
    if answer is None:
        raise malformed(response.content)
    return json.dumps(answer, separators=(",", ":")).encode(), "application/json", answer


async def open_stream(candidate: RouteCandidate, request: ChatRequest, timeout: float):
    """A streaming completion from a native API, read as OpenAI chunks (see `upstream.open_stream`)."""
    connector = connector_for(candidate)
    translator = connector.translator(request, candidate)
    payload = json.dumps(connector.chat_body(request, candidate), separators=(",", ":")).encode()
    try:
        return await upstream.open_stream(
            candidate,
            payload,
            timeout,
            url=connector.chat_url(candidate, True),
            headers=connector.headers(candidate, True),
            wrap=lambda events: NativeStream(events, translator),
        )
    except upstream.AttemptFailed as exc:
        raise reshaped(exc) from None


async def probe(candidate: RouteCandidate, *, provider_wide: bool) -> tuple[bool, str]:
    """Is it serving again? A provider: its model listing. An offer: a one-token completion. In its own API."""
    if candidate.api == OPENAI_API:
        return await upstream.probe(candidate, provider_wide=provider_wide)
    connector = connector_for(candidate)
    timeout = setting("ROUTING_PROBE_TIMEOUT")
    try:
        if provider_wide:
            url, headers = connector.models_url(candidate), connector.headers(candidate, False)
            await upstream.send_chat(candidate, b"", timeout, url=url, headers=headers, method="GET")
        else:
            ping = ChatRequest(
                candidate.provider_model_id, {"messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}
            )
            await send_chat(candidate, ping, timeout)
    except upstream.AttemptFailed as exc:
        return False, exc.failure.describe()
    return True, ""
