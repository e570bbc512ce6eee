"""pydantic/genai-prices: per-provider price lists with match rules, tiers and dated price changes.

The feed reads the published `prices/data.json` (every `providers/*.yml` in one JSON list, same shape), so a run is
one request. A model's `prices` is flat (one statement, no date), or a list of `{constraint, prices}`: each
`constraint.start_date` opens a dated period (one statement each, valid_from = that date). A time-of-day constraint
covering most of the day is the standard price (DeepSeek lists its off-peak discount unconstrained and the standard
price for 00:30-16:30 UTC), so it replaces the unconstrained one; a shorter window (a discount) is skipped.
`{base, tiers: [{start, price}]}` values give the base price and `price_tiers` rows above `start` prompt tokens.
The `match` rule's `equals` and `starts_with` strings are carried as `match:` notes: the ids the row names, which
matching may try exactly (contains/regex rules are never used).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ingestion.prices.feeds.base import THOUSAND, DocumentFeed, money, tier_rows, when
from ingestion.prices.statements import PriceStatement
from ingestion.sources.base import SchemaMismatch

SOURCE = "genai-prices"
# genai-prices provider id → our provider slug; ids not named here (avian, doubleword, modal, voyageai, the
# huggingface_<router> ids) state prices with provider=None and are listed as unmatched.
PROVIDERS: dict[str, str] = {
    "anthropic": "anthropic",
    "aws": "amazon-bedrock",
    "azure": "azure",
    "cerebras": "cerebras",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "fireworks": "fireworks-ai",
    "google": "google",
    "groq": "groq",
    "minimax": "minimax",
    "mistral": "mistral",
    "moonshotai": "moonshotai",
    "novita": "novita-ai",
    "openai": "openai",
    "openrouter": "openrouter",
    "ovhcloud": "ovhcloud",
    "perplexity": "perplexity",
    "together": "togetherai",
    "x-ai": "xai",
    "zai": "zai",
    "zhipuai": "zhipuai",
}
PER_MTOK = {
    "input_mtok": "price_input",
    "output_mtok": "price_output",
    "cache_read_mtok": "price_cached_input",
    "cache_write_mtok": "price_cache_write",
    "cache_write_1h_mtok": "price_cache_write_1h",
    "output_reasoning_mtok": "price_reasoning",
    "input_audio_mtok": "price_audio_input",
    "output_audio_mtok": "price_audio_output",
    "input_image_mtok": "price_image_input",
    "output_image_mtok": "price_image_output",
    "web_searches_kcount": "price_web_search",  # already USD per 1,000 searches
}
TIER_KEYS = {"input_mtok": "input", "output_mtok": "output", "cache_read_mtok": "cached_input"}


def genai_fields(prices: dict[str, Any]) -> dict[str, Any]:
    """One `ModelPrice` in catalogue terms."""
    fields: dict[str, Any] = {}
    tiers: dict[int, dict[str, Decimal]] = {}
    for key, value in prices.items():
        name = PER_MTOK.get(key)
        if isinstance(value, dict):  # TieredPrices
            base = money(value.get("base"))
            for tier in value.get("tiers") or []:
                start, price = tier.get("start"), money(tier.get("price"))
                if key in TIER_KEYS and isinstance(start, int) and price is not None:
                    tiers.setdefault(start, {})[TIER_KEYS[key]] = price
            value = base
        if name and (price := money(value)) is not None:
            fields[name] = price
    if (per_request := money(prices.get("requests_kcount"), scale=1 / THOUSAND)) is not None:
        fields["price_per_request"] = per_request
    if rows := tier_rows(tiers):
        fields["price_tiers"] = rows
    return fields


def match_notes(match: Any) -> tuple[str, ...]:
    """The ids a match rule names: `equals` and `starts_with` strings, through `or` (never `and`, contains, regex)."""
    if not isinstance(match, dict):
        return ()
    notes: list[str] = []
    for kind in ("equals", "starts_with"):
        if isinstance(match.get(kind), str):
            notes.append(f"match:{kind}:{match[kind]}")
    for clause in match.get("or") or []:
        notes.extend(match_notes(clause))
    return tuple(dict.fromkeys(notes))


def _minutes(clock: Any) -> int | None:
    """'16:30:00Z' → minutes after midnight."""
    try:
        hours, minutes = str(clock).split(":")[:2]
        return int(hours) * 60 + int(minutes)
    except ValueError:
        return None


def _most_of_the_day(constraint: dict) -> bool:
    start, end = _minutes(constraint.get("start_time")), _minutes(constraint.get("end_time"))
    return start is not None and end is not None and (end - start) % (24 * 60) > 12 * 60


def price_periods(prices: Any) -> list[tuple[dict, datetime | None]]:
    """(ModelPrice, start date or None) for each period (see the module docstring for time-of-day prices)."""
    if isinstance(prices, dict):
        return [(prices, None)]
    periods: dict[datetime | None, dict] = {}
    for conditional in prices if isinstance(prices, list) else []:
        constraint = conditional.get("constraint") or {}
        if not isinstance(conditional.get("prices"), dict):
            continue
        if "start_time" in constraint:
            if _most_of_the_day(constraint):
                periods[None] = conditional["prices"]
            continue
        periods[when(constraint.get("start_date"))] = conditional["prices"]
    return [(period_prices, start) for start, period_prices in periods.items()]


def statements_from_document(body: Any, observed_at: datetime) -> list[PriceStatement]:
    """Providers (`data.json`'s list, or the `providers/*.yml` documents) as statements, a dated constraint's period
    with its `valid_from` (the feed's parse; the price-history seeding reads the provider YAMLs)."""
    if not isinstance(body, list) or not all(isinstance(p, dict) and "models" in p for p in body):
        raise SchemaMismatch("expected a list of providers, each with models")
    statements = []
    for entry in body:
        provider_key = str(entry.get("id") or "")
        for model in entry["models"]:
            if not isinstance(model, dict) or not model.get("id"):
                continue
            notes = match_notes(model.get("match"))
            for prices, valid_from in price_periods(model.get("prices")):
                if fields := genai_fields(prices):
                    statements.append(
                        PriceStatement(
                            SOURCE,
                            provider_key,
                            str(model["id"]),
                            fields,
                            observed_at,
                            PROVIDERS.get(provider_key),
                            valid_from,
                            notes,
                        )
                    )
    return statements


class GenAIPricesFeed(DocumentFeed):
    name = SOURCE
    default_base_url = "https://raw.githubusercontent.com/pydantic/genai-prices/main"
    path = "/prices/data.json"

    def parse(self, body: Any, observed_at: datetime) -> list[PriceStatement]:
        return statements_from_document(body, observed_at)
