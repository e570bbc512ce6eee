"""Seeding of the dated price history (PriceRecord) from dated copies of open price sources: LiteLLM's price file
(one dated version per file), OpenRouter's daily /models series and genai-prices' dated price constraints.

Only offers named exactly are seeded (our provider + the offer's provider_model_id; for OpenRouter, the model id of
an `openrouter` offer): a price that cannot be tied to one offer without guessing is skipped. Each offer's history
comes from one source (the first of OpenRouter → genai-prices → LiteLLM that dates it), as contiguous periods: a
period per change, the last one left open. An offer that already has a different history (the live price pipeline
wrote it) is left alone, and a second run over the same files writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import yaml
from django.db import transaction

from catalog.models import Mapping, PriceRecord
from catalog.signals import catalogue_changed

DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
MILLION = Decimal(1_000_000)
PRICE_STEP = Decimal("0.000001")
BEYOND_ANY_PRICE = Decimal(10**9)  # a source's value this large is an error, not a price

# Their provider names that differ from our provider slugs (the rest are equal or not ours).
LITELLM_PROVIDERS = {
    "fireworks_ai": "fireworks-ai",
    "together_ai": "togetherai",
    "gemini": "google",
    "novita": "novita-ai",
    "moonshot": "moonshotai",
    "cloudflare": "cloudflare-workers-ai",
    "bedrock": "amazon-bedrock",
    "bedrock_converse": "amazon-bedrock",
    "vertex_ai-language-models": "google-vertex",
    "vertex_ai-anthropic_models": "google-vertex-anthropic",
}
GENAI_PROVIDERS = {
    "together": "togetherai",
    "x_ai": "xai",
    "fireworks": "fireworks-ai",
    "aws": "amazon-bedrock",
    "novita": "novita-ai",
}
# Their per-token fields → ours (per million tokens).
LITELLM_FIELDS = {
    "input_cost_per_token": "price_input",
    "output_cost_per_token": "price_output",
    "cache_read_input_token_cost": "price_cached_input",
    "cache_creation_input_token_cost": "price_cache_write",
    "cache_creation_input_token_cost_above_1hr": "price_cache_write_1h",
    "output_cost_per_reasoning_token": "price_reasoning",
    "input_cost_per_audio_token": "price_audio_input",
    "output_cost_per_audio_token": "price_audio_output",
    "input_cost_per_token_batches": "price_batch_input",
    "output_cost_per_token_batches": "price_batch_output",
}
OPENROUTER_FIELDS = {
    "prompt": "price_input",
    "completion": "price_output",
    "input_cache_read": "price_cached_input",
    "input_cache_write": "price_cache_write",
    "internal_reasoning": "price_reasoning",
}
OPENROUTER_UNIT_FIELDS = {"request": "price_per_request", "image": "price_per_image"}  # USD each, not per token
GENAI_FIELDS = {
    "input_mtok": "price_input",
    "output_mtok": "price_output",
    "cache_read_mtok": "price_cached_input",
    "cache_write_mtok": "price_cache_write",
    "cache_write_1h_mtok": "price_cache_write_1h",
    "input_audio_mtok": "price_audio_input",
    "output_audio_mtok": "price_audio_output",
    "web_searches_kcount": "price_web_search",
}
TIER_FIELDS = {"price_input": "input", "price_output": "output", "price_cached_input": "cached_input"}


@dataclass(frozen=True)
class DatedPrices:
    """What one source said an offer's prices were, from `day` on."""

    day: dt.date
    source: str
    prices: dict  # field → decimal string (price_tiers → list)


OfferKey = tuple[str, str]  # (our provider slug, provider_model_id)


def _decimal_text(value: Decimal) -> str:
    """At the offer columns' precision (6 decimals), without trailing zeros: `0.20000000000000002` → `0.2`."""
    text = format(value.quantize(PRICE_STEP, rounding=ROUND_HALF_UP).normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _number(raw) -> Decimal | None:
    try:
        number = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and 0 <= number < BEYOND_ANY_PRICE else None


def _day_of(path: Path) -> dt.date:
    found = DATE_IN_NAME.search(path.name)
    if found is None:
        raise ValueError(f"{path.name}: no YYYY-MM-DD date in the file name.")
    return dt.date.fromisoformat(found.group(1))


def litellm_prices(path: Path) -> dict[OfferKey, DatedPrices]:
    """One dated LiteLLM file: `<provider>/<id>` keys and bare ids (preferred) of known providers."""
    day, entries = _day_of(path), json.loads(path.read_text())
    found: dict[OfferKey, DatedPrices] = {}
    for key, entry in entries.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("litellm_provider"), str):
            continue
        theirs = entry["litellm_provider"]
        model_id = key.removeprefix(f"{theirs}/")
        prices = {}
        for field, ours in LITELLM_FIELDS.items():
            number = _number(entry.get(field)) if field in entry else None
            if number is not None:
                prices[ours] = _decimal_text(number * MILLION)
        offer = (LITELLM_PROVIDERS.get(theirs) or str(theirs), model_id)
        if prices and (offer not in found or model_id == key):  # the bare id wins over `<provider>/<id>`
            found[offer] = DatedPrices(day, "litellm", prices)
    return found


def openrouter_prices(path: Path) -> dict[OfferKey, DatedPrices]:
    """One day of OpenRouter's /models series (a bare array of models), as `openrouter` offers."""
    day, found = _day_of(path), {}
    for entry in json.loads(path.read_text()):
        pricing = entry.get("pricing") or {}
        prices = {}
        for field, ours in (*OPENROUTER_FIELDS.items(), *OPENROUTER_UNIT_FIELDS.items()):
            number = _number(pricing.get(field)) if field in pricing else None
            if number is None or (number == 0 and field not in ("prompt", "completion")):
                continue  # OpenRouter lists 0 for the dimensions a model does not have
            prices[ours] = _decimal_text(number * (MILLION if field in OPENROUTER_FIELDS else 1))
        if prices and isinstance(entry.get("id"), str):
            found[("openrouter", entry["id"])] = DatedPrices(day, "openrouter", prices)
    return found


def _genai_price_set(raw: dict) -> dict:
    prices: dict = {}
    tiers: dict[int, dict] = defaultdict(dict)
    for field, ours in GENAI_FIELDS.items():
        value = raw.get(field)
        if isinstance(value, dict):  # {base, tiers: [{start, price}]}
            for tier in value.get("tiers") or []:
                number = _number(tier.get("price"))
                if ours in TIER_FIELDS and number is not None and isinstance(tier.get("start"), int):
                    tiers[tier["start"]][TIER_FIELDS[ours]] = _decimal_text(number)
            value = value.get("base")
        number = _number(value) if value is not None else None
        if number is not None:
            prices[ours] = _decimal_text(number)
    if tiers:
        prices["price_tiers"] = [{"above": start, **tiers[start]} for start in sorted(tiers)]
    return prices


def genai_prices(directory: Path) -> dict[OfferKey, list[DatedPrices]]:
    """genai-prices models with dated constraints (`start_date`): the undated prices from the model's
    `prices_checked` day (when that is earlier), then each dated set from its start. The model's own `id` names
    the offer (its match patterns would be guesses); time-of-day discounts are not a list price: skipped."""
    found: dict[OfferKey, list[DatedPrices]] = {}
    for path in sorted(directory.glob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        their_id = str(document.get("id") or path.stem)
        provider = GENAI_PROVIDERS.get(their_id) or their_id
        for model in document.get("models") or []:
            sets = model.get("prices")
            if not isinstance(sets, list) or not any("start_date" in (s.get("constraint") or {}) for s in sets):
                continue
            starts = [(s.get("constraint") or {}).get("start_date") for s in sets]
            first = min((d for d in starts if isinstance(d, dt.date)), default=None)
            checked = model.get("prices_checked")
            undated_from = checked if isinstance(checked, dt.date) and first is not None and checked < first else None
            dated = []
            for price_set, start in zip(sets, starts, strict=True):
                if set(price_set.get("constraint") or {}) - {"start_date"}:
                    continue  # a time-of-day or other conditional price
                day = start if start is not None else undated_from
                prices = _genai_price_set(price_set.get("prices") or {})
                if isinstance(day, dt.date) and prices:
                    dated.append(DatedPrices(day, "genai-prices", prices))
            if dated:
                found[(provider, str(model.get("id")))] = dated
    return found


def periods_from(points: Iterable[DatedPrices]) -> list[DatedPrices]:
    """Dated statements → the starts of price periods: a statement equal to the one before extends its period."""
    starts: list[DatedPrices] = []
    for point in sorted(points, key=lambda p: p.day):
        if not starts or point.prices != starts[-1].prices:
            starts.append(point)
    return starts


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _records(mapping: Mapping, starts: list[DatedPrices]) -> list[PriceRecord]:
    ends = [_midnight(start.day) for start in starts[1:]] + [None]
    return [
        PriceRecord(
            mapping=mapping,
            valid_from=_midnight(start.day),
            valid_to=end,
            source=start.source,
            billing=mapping.billing,
            prices=start.prices,
        )
        for start, end in zip(starts, ends, strict=True)
    ]


def _shape(record: PriceRecord) -> tuple:
    return (record.valid_from, record.valid_to, record.source, record.prices)


@transaction.atomic
def price_history_seed(
    *, litellm: Iterable[Path] = (), openrouter_series: Path | None = None, genai_prices_dir: Path | None = None
) -> Counter:
    """Seed PriceRecords from the dated files given; returns counts (offers seeded, records written, offers
    already seeded, offers with another history, source prices matching no offer)."""
    by_offer: dict[OfferKey, list[DatedPrices]] = defaultdict(list)
    sources: list[dict[OfferKey, list[DatedPrices]]] = []
    if openrouter_series is not None:
        series: dict[OfferKey, list[DatedPrices]] = defaultdict(list)
        for path in sorted(openrouter_series.glob("*.json")):
            for key, point in openrouter_prices(path).items():
                series[key].append(point)
        sources.append(series)
    if genai_prices_dir is not None:
        sources.append(genai_prices(genai_prices_dir))
    dated_litellm: dict[OfferKey, list[DatedPrices]] = defaultdict(list)
    for path in litellm:
        for key, point in litellm_prices(path).items():
            dated_litellm[key].append(point)
    sources.append(dated_litellm)

    counts: Counter = Counter()
    for source in sources:
        for key, points in source.items():
            by_offer.setdefault(key, points)
    offers = Mapping.objects.filter(provider__slug__in={p for p, _ in by_offer}).select_related("provider")
    columns = ("provider__slug", "provider_model_id", "billing", "model")
    matched = {(m.provider.slug, m.provider_model_id): m for m in offers.only(*columns)}
    existing: dict[int, list[tuple]] = defaultdict(list)
    for record in PriceRecord.objects.filter(mapping__in=matched.values()).order_by("valid_from"):
        existing[record.mapping_id].append(_shape(record))
    to_write: list[PriceRecord] = []
    changed_models: set[int] = set()
    changed_providers: set[int] = set()
    for key, points in by_offer.items():
        mapping = matched.get(key)
        if mapping is None:
            counts["unmatched"] += 1
            continue
        records = _records(mapping, periods_from(points))
        if existing.get(mapping.pk):
            counts["already seeded" if existing[mapping.pk] == [_shape(r) for r in records] else "other history"] += 1
            continue
        to_write += records
        changed_models.add(mapping.model_id)
        changed_providers.add(mapping.provider_id)
        counts["offers seeded"] += 1
    PriceRecord.objects.bulk_create(to_write, batch_size=1000)
    counts["records written"] = len(to_write)
    if to_write:
        transaction.on_commit(
            lambda: catalogue_changed.send(sender=PriceRecord, model_ids=changed_models, provider_ids=changed_providers)
        )
    return counts
