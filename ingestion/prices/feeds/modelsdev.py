"""models.dev's published catalogue `api.json`: `{provider: {id, models: {id: {cost: {...}}}}}`, USD per million.

Every `cost.*` the catalogue states becomes a field: input, output, cache_read/cache_write, reasoning, input_audio/
output_audio, request (per request), `tiers` (`[{tier: {size}, input, output, cache_read}]`, above `size` prompt
tokens) and the older `context_over_200k` block (a tier above 200,000). models.dev ids are our provider slugs (our
registry was built from it), so the provider key is used as stated. It carries no price dates: valid_from is None.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ingestion.prices.feeds.base import DocumentFeed, money, tier_rows
from ingestion.prices.statements import PriceStatement
from ingestion.sources.base import SchemaMismatch

COST_FIELDS = {
    "input": "price_input",
    "output": "price_output",
    "cache_read": "price_cached_input",
    "cache_write": "price_cache_write",
    "reasoning": "price_reasoning",
    "input_audio": "price_audio_input",
    "output_audio": "price_audio_output",
    "request": "price_per_request",
}
TIER_KEYS = {"input": "input", "output": "output", "cache_read": "cached_input"}


def tier_prices(block: dict[str, Any]) -> dict[str, Decimal]:
    return {name: price for key, name in TIER_KEYS.items() if (price := money(block.get(key))) is not None}


def modelsdev_fields(cost: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        name: price for key, name in COST_FIELDS.items() if (price := money(cost.get(key))) is not None
    }
    tiers: dict[int, dict[str, Decimal]] = {}
    for tier in cost.get("tiers") or []:
        size = (tier.get("tier") or {}).get("size") if isinstance(tier, dict) else None
        if isinstance(size, int) and (prices := tier_prices(tier)):
            tiers[size] = prices
    if isinstance(over := cost.get("context_over_200k"), dict) and (prices := tier_prices(over)):
        tiers.setdefault(200_000, prices)
    if rows := tier_rows(tiers):
        fields["price_tiers"] = rows
    return fields


class ModelsDevFeed(DocumentFeed):
    name = "models.dev"
    default_base_url = "https://models.dev"
    path = "/api.json"

    def parse(self, body: Any, observed_at: datetime) -> list[PriceStatement]:
        if not isinstance(body, dict) or not all(isinstance(p, dict) and "models" in p for p in body.values()):
            raise SchemaMismatch("expected an object of providers, each with models")
        statements = []
        for provider_key, entry in body.items():
            for model_id, model in (entry.get("models") or {}).items():
                cost = model.get("cost") if isinstance(model, dict) else None
                if isinstance(cost, dict) and (fields := modelsdev_fields(cost)):
                    statements.append(
                        PriceStatement(self.name, provider_key, str(model_id), fields, observed_at, provider_key)
                    )
        return statements
