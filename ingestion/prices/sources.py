"""Price feeds as ingestion sources: one adapter per feed of `ingestion.prices.feeds.FEEDS`, run by the services."""

from __future__ import annotations

from typing import ClassVar

import httpx

from ingestion.models import Tier
from ingestion.prices.feeds import FEEDS
from ingestion.prices.statements import PriceFeed, PriceStatement
from ingestion.sources.http import SourceHttp
from modelgraph.outbound import RetryPolicy


class PriceFeedSource:
    """A price feed in the shape `ingestion.services` runs: a name, a tier, no key, and `fetch_prices`."""

    feed: ClassVar[type[PriceFeed]]
    name: ClassVar[str]
    default_base_url: ClassVar[str]
    tier: ClassVar[int] = Tier.PRICE_FEEDS  # their runs are logged as price feed runs (the /status page says so)
    provider: ClassVar[str | None] = None
    key_env: ClassVar[str | None] = None

    def __init__(self, *, retry: RetryPolicy | None = None, timeout: float = 30.0) -> None:
        self.retry = retry
        self.timeout = timeout

    def fetch_prices(self, *, client: httpx.Client, base_url: str | None = None) -> list[PriceStatement]:
        http = SourceHttp(
            client,
            source=self.name,
            base_url=base_url or self.default_base_url,
            retry=self.retry,
            timeout=self.timeout,
        )
        return self.feed().fetch_prices(http)


def price_feed_sources() -> dict[str, PriceFeedSource]:
    """One source adapter per feed of `ingestion.prices.feeds.FEEDS`, by the feed's name."""
    sources = {}
    for name, feed in FEEDS.items():
        adapter = type(
            f"{feed.__name__}Source",
            (PriceFeedSource,),
            {
                "feed": feed,
                "name": name,
                "default_base_url": feed.default_base_url,
                "provider": getattr(feed, "provider", None),  # a provider's own prices outrank the other feeds
            },
        )
        sources[name] = adapter()
    return sources


# Price feeds run like any source (`manage.py ingest litellm`, one locked and logged run each) on their own daily
# schedule; kept out of ingestion.sources.SOURCES so a model-facts cycle never fetches them.
PRICE_SOURCES: dict[str, PriceFeedSource] = price_feed_sources()
