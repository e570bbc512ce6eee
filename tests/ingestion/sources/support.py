"""Shared by the source-adapter tests: adapters with fast retries, a client, and fetch helpers."""

from __future__ import annotations

import pytest

from ingestion.resolution import RESOLVED_FIELDS
from ingestion.sources import (
    AnthropicAdapter,
    CohereAdapter,
    DeprecationsAdapter,
    GoogleAdapter,
    HuggingFaceAdapter,
    MistralAdapter,
    OpenAIAdapter,
    SourceError,
    XAIAdapter,
)

KEY = "sk-test-5f3c9a1e77d04b2b"
ADAPTERS = {
    "openai": OpenAIAdapter,
    "anthropic": AnthropicAdapter,
    "google": GoogleAdapter,
    "mistral": MistralAdapter,
    "cohere": CohereAdapter,
    "xai": XAIAdapter,
    "deprecations": DeprecationsAdapter,
    "huggingface": HuggingFaceAdapter,
}
KEYED = [name for name, cls in ADAPTERS.items() if cls.key_required]
FIRST_PATH = {
    "xai": "/v1/models",
    "google": "/v1beta/models",
    "deprecations": "/v1/deprecations.json",
    "huggingface": "/api/models",
}
FIELDS = frozenset(RESOLVED_FIELDS)  # what a source may state


def run(adapter, server, client, *, key: str | None = KEY, **kwargs):
    """Fetch from the source's recorded routes (mounted here unless the test mounted them to add faults)."""
    base_url = server.url if server.routes() else server.mount(adapter.name)
    found = adapter.fetch(client=client, base_url=base_url, api_key=key, **kwargs)
    return {(o.provider, o.external_id) if o.source == "deprecations" else o.external_id: o for o in found}


def failing(adapter, server, client, *, key: str | None = KEY) -> SourceError:
    with pytest.raises(SourceError) as caught:
        adapter.fetch(client=client, base_url=server.url, api_key=key)
    return caught.value
