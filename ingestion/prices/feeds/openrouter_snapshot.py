"""OpenRouter's own prices, from the snapshot archive's newest complete hour (no fetch: the hourly sync already
stored `/api/v1/models` and every endpoint).

Each listed model is a statement for the `openrouter` offer under the model id (`openai/gpt-4o`, the registry's
spelling); each endpoint one for the offer under its endpoint id (`openai/gpt-4o@openai`, ingestion's spelling).
Token prices are USD per token there (× 10⁶ here); `request` is per request and `web_search` per search (× 1,000:
ours is per 1,000 searches). OpenRouter's `image` price is left out: it does not say whether it is per input image
or per generated one. The statements are the provider's own word: they outrank the other feeds, never the registry.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from ingestion.prices.statements import PriceStatement
from ingestion.sources.http import SourceHttp
from snapshots.models import Batch, EntityKind, EntityVersion
from snapshots.projection import TOKEN_PRICES, per_million

PROVIDER = "openrouter"
PER_THOUSAND = Decimal(1000)


def _money(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (ArithmeticError, ValueError):
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def openrouter_fields(pricing: dict[str, Any]) -> dict[str, Decimal]:
    """OpenRouter's `pricing` object in catalogue terms; a price it does not state (or states as -1) is left out."""
    fields = {name: per_million(pricing.get(key)) for name, key in TOKEN_PRICES.items()}
    request, search = _money(pricing.get("request")), _money(pricing.get("web_search"))
    fields["price_per_request"] = request
    fields["price_web_search"] = None if search is None else (search * PER_THOUSAND).quantize(Decimal("0.000001"))
    return {name: value for name, value in fields.items() if value is not None and value >= 0}


class OpenRouterSnapshotFeed:
    name: ClassVar[str] = "openrouter-snapshot"
    provider: ClassVar[str] = PROVIDER
    default_base_url: ClassVar[str] = "snapshots:"  # read from the archive, not fetched

    def fetch_prices(self, http: SourceHttp | None = None, *, batch: Batch | None = None) -> list[PriceStatement]:
        """One statement per listed model and per endpoint of the newest complete hour ([] before the first)."""
        batch = batch or Batch.objects.newest_complete()
        if batch is None:
            return []
        versions = (
            EntityVersion.objects.alive_at(batch)
            .filter(entity__kind__in=(EntityKind.MODEL, EntityKind.ENDPOINT))
            .select_related("entity")
            .order_by("entity__key")
        )
        return [
            statement
            for version in versions.iterator(chunk_size=2000)
            if (statement := self._statement(version, batch.hour)) is not None
        ]

    def _statement(self, version: EntityVersion, hour: datetime) -> PriceStatement | None:
        pricing = (version.fields or {}).get("pricing")
        if not isinstance(pricing, dict) or not (fields := openrouter_fields(pricing)):
            return None
        return PriceStatement(self.name, PROVIDER, version.entity.key, fields, hour, PROVIDER)
