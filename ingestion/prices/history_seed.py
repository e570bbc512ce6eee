"""Seeding of the dated price history (PriceRecord) from dated copies of open price sources: LiteLLM's price file
(one dated version per file), OpenRouter's daily /models series and genai-prices' dated price constraints.

The files are read by the price feeds' own parsing (`ingestion.prices.feeds`: LiteLLM's rows, genai-prices'
constraints) and OpenRouter's pricing by the snapshot projection's field map (`snapshots.projection`), then matched
to offers by the catalogue's price matching (`ingestion.prices.matching`). Only offers named exactly are seeded: the
row's own id (LiteLLM's key, with or without its provider prefix; genai-prices' model id; for OpenRouter, the model
id of an `openrouter` offer) is the offer's provider_model_id. A price tied to an offer only by a resolved model name
or a match pattern would be a guess: skipped. Each offer's history comes from one source (the first of OpenRouter →
genai-prices → LiteLLM that dates it), as contiguous periods: a period per change, the last one left open. An offer
that already has a different history (the live price pipeline wrote it) is left alone, and a second run over the
same files writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from catalog.models import PRICE_COLUMNS, Mapping, PriceRecord
from catalog.signals import catalogue_changed
from ingestion.prices.feeds import genai_prices as genai_feed
from ingestion.prices.feeds import litellm as litellm_feed
from ingestion.prices.feeds.base import money
from ingestion.prices.matching import OfferIndex, price_statements_match, row_key
from ingestion.prices.resolution import REGISTRY
from ingestion.prices.statements import PriceStatement
from ingestion.prices.verification import normal_value
from ingestion.sources.base import SchemaMismatch
from snapshots.projection import TOKEN_PRICES, UNIT_PRICES, per_million

DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
BEYOND_ANY_PRICE = Decimal(10**9)  # a source's value this large is an error, not a price
OPENROUTER = "openrouter"
# The projection's per-unit price names → the offer columns (USD per request, per image).
OPENROUTER_UNIT_COLUMNS = {"price_request": "price_per_request", "price_image": "price_per_image"}
ALWAYS_STATED = ("price_input", "price_output")  # OpenRouter lists 0 for the other dimensions a model lacks
RECORDED_FIELDS = (*PRICE_COLUMNS, "price_tiers")


@dataclass(frozen=True)
class DatedPrices:
    """What one source said an offer's prices were, from `day` on."""

    day: dt.date
    source: str
    prices: dict  # field → decimal string (price_tiers → list)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _day_of(path: Path) -> dt.date:
    found = DATE_IN_NAME.search(path.name)
    if found is None:
        raise ValueError(f"{path.name}: no YYYY-MM-DD date in the file name.")
    return dt.date.fromisoformat(found.group(1))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name}: not JSON ({exc}).") from None


def litellm_statements(path: Path) -> list[PriceStatement]:
    """One dated LiteLLM file (dated by its name, not its `last_updated`), parsed as the LiteLLM feed parses it."""
    day = _midnight(_day_of(path))
    try:
        return litellm_feed.statements_from_document(_read_json(path), day, valid_from=day)
    except SchemaMismatch as exc:
        raise ValueError(f"{path.name}: {exc}") from None


def openrouter_fields(pricing: dict) -> dict[str, Decimal]:
    """OpenRouter's `pricing` (USD per token, per request, per image) in offer columns, as the projection reads it;
    a 0 for any dimension but prompt and completion means the model lacks it."""
    fields = {name: per_million(pricing.get(key)) for name, key in TOKEN_PRICES.items()}
    fields |= {column: money(pricing.get(UNIT_PRICES[name])) for name, column in OPENROUTER_UNIT_COLUMNS.items()}
    return {
        name: value for name, value in fields.items() if value is not None and (value != 0 or name in ALWAYS_STATED)
    }


def openrouter_statements(path: Path) -> list[PriceStatement]:
    """One day of OpenRouter's /models series (a bare array of models), each model an `openrouter` offer's row."""
    day = _midnight(_day_of(path))
    body = _read_json(path)
    if not isinstance(body, list):
        raise ValueError(f"{path.name}: expected an array of models.")
    statements = []
    for entry in body:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        if fields := openrouter_fields(entry.get("pricing") or {}):
            statements.append(PriceStatement(OPENROUTER, OPENROUTER, entry["id"], fields, day, OPENROUTER, day))
    return statements


def genai_statements(directory: Path) -> list[PriceStatement]:
    """genai-prices provider YAMLs, parsed as the genai-prices feed parses its data.json. Only models with dated
    constraints (`start_date`) date anything: their undated prices count from the model's `prices_checked` day when
    that is earlier than the first dated set, else not at all."""
    documents = []
    for path in sorted(directory.glob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        if isinstance(document, dict):
            documents.append(
                {**document, "id": document.get("id") or path.stem, "models": document.get("models") or []}
            )
    try:
        statements = genai_feed.statements_from_document(documents, timezone.now())
    except SchemaMismatch as exc:
        raise ValueError(f"{directory}: {exc}") from None
    checked = {
        (str(document["id"]), str(model.get("id"))): model.get("prices_checked")
        for document in documents
        for model in document["models"]
        if isinstance(model, dict)
    }
    first: dict[tuple, dt.datetime] = {}
    for statement in statements:
        if statement.valid_from is not None:
            key = row_key(statement)
            first[key] = min(first.get(key, statement.valid_from), statement.valid_from)
    dated = []
    for statement in statements:
        key = row_key(statement)
        if key not in first:
            continue
        valid_from = statement.valid_from
        if valid_from is None:
            day = checked.get(key[1:])
            valid_from = _midnight(day) if isinstance(day, dt.date) else None
            if valid_from is None or valid_from >= first[key]:
                continue
        dated.append(replace(statement, valid_from=valid_from))
    return dated


def recorded_prices(fields: dict) -> dict:
    """A statement's fields as PriceRecord keeps them (decimal strings); billing is the offer's, not a price."""
    prices = {}
    for name in RECORDED_FIELDS:
        value = normal_value(name, fields[name]) if name in fields else None
        if value is None or value == []:
            continue
        if name != "price_tiers" and Decimal(value) >= BEYOND_ANY_PRICE:
            continue
        prices[name] = value
    return prices


def named_ids(statement: PriceStatement) -> set[str]:
    """The offer ids a row names exactly: its own key, and LiteLLM's key without the provider prefix."""
    ids = {statement.model_key}
    if statement.source == litellm_feed.SOURCE:
        ids.add(litellm_feed.litellm_offer_id(statement))
    return ids


def exactly_named(statements: list[PriceStatement], index: OfferIndex) -> tuple[dict[int, list], set]:
    """(offer pk → [its Mapping, the dated statements that name it exactly], rows that named no offer). Matched one
    date at a time, as the live feed matches one copy: a row that names an offer better on one day (a bare id) does
    not take the days it was absent from another (a prefixed id)."""
    found: dict[int, list] = {}
    by_date: dict[dt.datetime | None, list[PriceStatement]] = defaultdict(list)
    for statement in statements:
        by_date[statement.valid_from].append(statement)
    for dated in by_date.values():
        for match in price_statements_match(dated, index=index).matched:
            if match.mapping.provider_model_id in named_ids(match.statement):
                found.setdefault(match.mapping.pk, [match.mapping, []])[1].append(match.statement)
    named = {row_key(s) for _, offer_statements in found.values() for s in offer_statements}
    return found, {row_key(s) for s in statements} - named


def periods_from(points: Iterable[DatedPrices]) -> list[DatedPrices]:
    """Dated statements → the starts of price periods: a statement equal to the one before extends its period."""
    starts: list[DatedPrices] = []
    for point in sorted(points, key=lambda p: p.day):
        if not starts or point.prices != starts[-1].prices:
            starts.append(point)
    return starts


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


def _before_registry(records: list[PriceRecord], existing: list[PriceRecord]) -> list[PriceRecord]:
    """The seeded periods that end where the registry's own history begins (a registry load opens an offer's first
    period on the day the registry checked its prices): the history dates what came before, never overlaps what the
    offer shows."""
    starts = [record.valid_from for record in existing if record.source == REGISTRY]
    if not starts:
        return records
    kept = [record for record in records if record.valid_from < starts[0]]
    if kept and (kept[-1].valid_to is None or kept[-1].valid_to > starts[0]):
        kept[-1].valid_to = starts[0]
    return kept


def _shape(record: PriceRecord) -> tuple:
    return (record.valid_from, record.valid_to, record.source, record.prices)


def _dated(statements: list[PriceStatement]) -> list[DatedPrices]:
    points = []
    for statement in statements:
        if statement.valid_from is not None and (prices := recorded_prices(statement.fields)):
            points.append(DatedPrices(statement.valid_from.date(), statement.source, prices))
    return points


@transaction.atomic
def price_history_seed(
    *, litellm: Iterable[Path] = (), openrouter_series: Path | None = None, genai_prices_dir: Path | None = None
) -> Counter:
    """Seed PriceRecords from the dated files given; returns counts (offers seeded, records written, offers
    already seeded, offers with another history, source rows naming no offer exactly)."""
    sources: list[list[PriceStatement]] = []  # in order of trust: the first source that dates an offer wins
    if openrouter_series is not None:
        sources.append([s for path in sorted(openrouter_series.glob("*.json")) for s in openrouter_statements(path)])
    if genai_prices_dir is not None:
        sources.append(genai_statements(genai_prices_dir))
    sources.append([s for path in litellm for s in litellm_statements(path)])

    counts: Counter = Counter()
    index = OfferIndex.build()
    by_offer: dict[int, tuple[Mapping, list[DatedPrices]]] = {}
    for statements in sources:
        found, unnamed = exactly_named(statements, index) if statements else ({}, set())
        counts["unmatched"] += len(unnamed)
        for pk, (mapping, offer_statements) in found.items():
            if pk not in by_offer and (points := _dated(offer_statements)):
                by_offer[pk] = (mapping, points)
    existing: dict[int, list[PriceRecord]] = defaultdict(list)
    for record in PriceRecord.objects.filter(mapping__in=list(by_offer)).order_by("valid_from"):
        existing[record.mapping_id].append(record)
    to_write: list[PriceRecord] = []
    changed_models: set[int] = set()
    changed_providers: set[int] = set()
    for pk, (mapping, points) in by_offer.items():
        records = _before_registry(_records(mapping, periods_from(points)), existing.get(pk, []))
        registry_only = [_shape(r) for r in existing.get(pk, []) if r.source == REGISTRY]
        shapes = [_shape(r) for r in existing.get(pk, [])]
        if shapes and shapes != registry_only:
            counts["already seeded" if shapes == [_shape(r) for r in records] + registry_only else "other history"] += 1
            continue
        if not records:
            counts["nothing before the registry's prices"] += 1
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
