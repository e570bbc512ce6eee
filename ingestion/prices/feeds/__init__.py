"""The price feeds, by name (each a `PriceFeed`): LiteLLM, genai-prices, models.dev, and OpenRouter from the archive."""

from __future__ import annotations

from ingestion.prices.feeds.genai_prices import GenAIPricesFeed
from ingestion.prices.feeds.litellm import LiteLLMFeed
from ingestion.prices.feeds.modelsdev import ModelsDevFeed
from ingestion.prices.feeds.openrouter_snapshot import OpenRouterSnapshotFeed
from ingestion.prices.statements import PriceFeed

# The feeds published as one document over HTTP; OpenRouter's are read from the snapshot archive instead.
DOCUMENT_FEEDS: dict[str, type[PriceFeed]] = {feed.name: feed for feed in (LiteLLMFeed, GenAIPricesFeed, ModelsDevFeed)}
FEEDS: dict[str, type[PriceFeed]] = {**DOCUMENT_FEEDS, OpenRouterSnapshotFeed.name: OpenRouterSnapshotFeed}

__all__ = ["DOCUMENT_FEEDS", "FEEDS", "GenAIPricesFeed", "LiteLLMFeed", "ModelsDevFeed", "OpenRouterSnapshotFeed"]
