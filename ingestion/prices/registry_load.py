"""What a registry load writes for offers' prices: the shown values (a pin or a source's price where the registry
states none wins over the file), their provenance, and the dated price records of the offers it changed.

The loader writes these in its own set-based upsert; nothing here re-reads whole offers for the many that no
source speaks about, so a first load of every offer stays a few bulk statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.utils import timezone

from catalog import bulk
from catalog.models import Mapping, PriceRecord
from ingestion.models import OfferObservation, OfferPin
from ingestion.prices.apply import column_value, offers_evidence
from ingestion.prices.resolution import (
    OFFER_PINNABLE_FACTS,
    PRICE_RESOLVED_FIELDS,
    REGISTRY,
    FieldOutcome,
    offer_resolve_prices,
)
from ingestion.prices.verification import normal_value


def offers_shown_over_registry(
    *, registry_values: dict[int, dict], previous: dict[int, dict] | None = None, now: dt.datetime | None = None
) -> dict[int, dict]:
    """For a registry load: per existing offer (by id) that some source states prices for or a curator pinned, the
    fields whose shown value is not the registry row's, in column terms, and the offer's `provenance` as resolved.
    The loader writes these instead of the file's values, so a load neither undoes a pin nor fights the feeds over
    unstated fields; every other offer shows what the file states (`registry_price_provenance`)."""
    now = now or timezone.now()
    spoken = set(OfferObservation.objects.values_list("mapping_id", flat=True).distinct())
    spoken |= set(OfferPin.objects.values_list("mapping_id", flat=True))
    ids = spoken.intersection(registry_values)
    if not ids:
        return {}
    offers = list(Mapping.objects.filter(pk__in=ids).select_related("provider"))
    for offer in offers:
        offer.registry_values = registry_values[offer.pk]  # what this load states, not what the last one did
    evidence = offers_evidence(offers)
    shown = {}
    for offer in offers:
        outcomes = offer_resolve_prices(evidence[offer.pk], now=now)
        fields: dict[str, Any] = {
            name: column_value(name, outcome.value)
            for name, outcome in outcomes.items()
            if outcome.source != REGISTRY and outcome.value is not None
        }
        provenance = dict(offer.provenance or {})
        for name, outcome in outcomes.items():
            provenance[name] = outcome.provenance(provenance.get(name))
        fields["provenance"] = provenance
        shown[offer.pk] = fields
    return shown


def registry_price_provenance(stated: dict, previous: dict | None, now: dt.datetime) -> dict:
    """The provenance of an offer no source speaks about: every field the file states is the registry's, since it
    first stated that value (an entry the registry no longer states is dropped; other sources' entries stay)."""
    provenance = {
        name: entry
        for name, entry in (previous or {}).items()
        if name not in PRICE_RESOLVED_FIELDS or (isinstance(entry, dict) and entry.get("source") != REGISTRY)
    }
    for name in PRICE_RESOLVED_FIELDS:
        value = stated.get(name)
        if value is None:  # unstated (most fields of most offers): nothing to normalise
            continue
        value = normal_value(name, value)
        if value in (None, []):
            continue
        outcome = FieldOutcome(value, REGISTRY, now, [], False, {REGISTRY: value})
        provenance[name] = outcome.provenance((previous or {}).get(name))
    return provenance


RECORD_COLUMNS = ("billing", "provenance", "prices_checked", *Mapping.PRICE_FIELDS)


def offers_open_price_records(
    *, mapping_ids: set[int], now: dt.datetime | None = None, written: dict[int, dict] | None = None
) -> int:
    """After a load wrote these offers: close each one's current price record and open the next where the shown
    prices or billing moved (or the offer has none yet), from now, by the source its provenance names. Returns the
    records opened.

    `written` maps offer ids to the column values the caller has just written for them (at least RECORD_COLUMNS);
    those offers are not read back (on a first load of 10,000 offers the read-back cost more than the rest)."""
    if not mapping_ids:
        return 0
    now = now or timezone.now()
    current = {
        r.mapping_id: r
        for r in PriceRecord.objects.filter(bulk.ids_in(mapping_ids, "mapping_id"), valid_to__isnull=True)
    }
    closing, opening = [], []
    for row in _offer_rows(mapping_ids, written or {}):
        prices = {name: normal_value(name, row[name]) for name in Mapping.PRICE_FIELDS if row[name] is not None}
        prices = {name: value for name, value in prices.items() if value is not None}
        record = current.get(row["pk"])
        if record is not None and record.prices == prices and record.billing == row["billing"]:
            continue
        if record is None and not prices:
            continue
        moved = [name for name in prices if record is None or record.prices.get(name) != prices[name]]
        entry = (row["provenance"] or {}).get(moved[0] if moved else "billing") or {}
        if record is not None:
            if record.valid_from >= now:
                continue  # opened in this same instant: nothing to date apart
            record.valid_to = now
            closing.append(record)
        # An offer's first period starts on the day the registry says its prices were checked, when it says one.
        first_day = row["prices_checked"] if record is None and entry.get("source") == REGISTRY else None
        opening.append((row["pk"], min(first_day or now, now), entry.get("source") or REGISTRY, row["billing"], prices))
    PriceRecord.objects.bulk_update(closing, ["valid_to"], batch_size=500)
    bulk.insert(PriceRecord, ("mapping_id", "valid_from", "source", "billing", "prices"), opening)
    return len(opening)


def _offer_rows(mapping_ids: set[int], written: dict[int, dict]) -> Iterator[dict]:
    """Each offer's RECORD_COLUMNS and pk: as just written where the caller has them, else as the database holds."""
    for pk in mapping_ids:
        values = written.get(pk)
        if values is not None:
            yield {"pk": pk, **{name: values[name] for name in RECORD_COLUMNS}}
    unknown = [pk for pk in mapping_ids if pk not in written]
    if unknown:
        yield from Mapping.objects.filter(bulk.ids_in(unknown)).values("pk", *RECORD_COLUMNS).iterator(chunk_size=2000)


def offer_pinned_facts(*, mapping_ids: set[int]) -> dict[int, dict[str, Any]]:
    """Per offer, its pinned non-price facts in column terms (a day as a date, an uplift as a Decimal)."""
    facts: dict[int, dict[str, Any]] = {}
    pins = OfferPin.objects.filter(field__in=OFFER_PINNABLE_FACTS).values_list("mapping_id", "field", "value")
    for mapping_id, name, value in pins:
        if mapping_id in mapping_ids:
            facts.setdefault(mapping_id, {})[name] = offer_fact_value(name, value)
    return facts


def offer_fact_value(name: str, value: Any) -> Any:
    """A pinned fact (as JSON keeps it) in column terms."""
    if value is None:
        return "" if name in ("quantization", "served_by", "variant") else None
    if name == "retirement_date":
        return dt.date.fromisoformat(str(value))
    if name == "regional_uplift":
        return Decimal(str(value))
    return value
