"""Outside sources of model facts, one adapter each, by name: tier 1 provider listings, tier 2 deprecations.info,
tier 3 the Hugging Face Hub. Each adapter reads over HTTP and returns observations; it writes nothing. The open
price feeds (LiteLLM, genai-prices, models.dev) state offer prices: ingestion.prices.sources.PRICE_SOURCES."""

from __future__ import annotations

from ingestion.sources.anthropic import AnthropicAdapter
from ingestion.sources.base import SourceAdapter, SourceError, SourceErrorKind, SourceRecord
from ingestion.sources.cohere import CohereAdapter
from ingestion.sources.deprecations import DeprecationsAdapter
from ingestion.sources.google import GoogleAdapter
from ingestion.sources.http import make_client
from ingestion.sources.huggingface import HuggingFaceAdapter
from ingestion.sources.mistral import MistralAdapter
from ingestion.sources.openai import OpenAIAdapter
from ingestion.sources.openrouter import OpenRouterSnapshotAdapter
from ingestion.sources.xai import XAIAdapter

SOURCES: dict[str, SourceAdapter] = {
    adapter.name: adapter
    for adapter in (
        OpenAIAdapter(),
        AnthropicAdapter(),
        GoogleAdapter(),
        MistralAdapter(),
        CohereAdapter(),
        XAIAdapter(),
        DeprecationsAdapter(),
        HuggingFaceAdapter(),
        OpenRouterSnapshotAdapter(),
    )
}

__all__ = [
    "SOURCES",
    "AnthropicAdapter",
    "CohereAdapter",
    "DeprecationsAdapter",
    "GoogleAdapter",
    "HuggingFaceAdapter",
    "MistralAdapter",
    "SourceRecord",
    "OpenAIAdapter",
    "SourceAdapter",
    "SourceError",
    "SourceErrorKind",
    "XAIAdapter",
    "make_client",
]

# Sources read over HTTP (the replay server serves these in tests); the others read our own database.
HTTP_SOURCES: tuple[str, ...] = tuple(name for name, adapter in SOURCES.items() if not hasattr(adapter, "fetch_offers"))
