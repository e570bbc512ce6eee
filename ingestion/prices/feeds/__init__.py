"""The open price feeds, by name: LiteLLM, genai-prices and models.dev (each a `PriceFeed`)."""

from __future__ import annotations

from ingestion.prices.feeds.genai_prices import GenAIPricesFeed
from ingestion.prices.feeds.litellm import LiteLLMFeed
from ingestion.prices.feeds.modelsdev import ModelsDevFeed
from ingestion.prices.statements import PriceFeed

FEEDS: dict[str, type[PriceFeed]] = {feed.name: feed for feed in (LiteLLMFeed, GenAIPricesFeed, ModelsDevFeed)}

__all__ = ["FEEDS", "GenAIPricesFeed", "LiteLLMFeed", "ModelsDevFeed"]
