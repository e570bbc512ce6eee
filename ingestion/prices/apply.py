"""Applying a price feed's statements: keep each source's latest word, re-resolve the offers, date every change."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from catalog import bulk
from catalog.models import Mapping, PriceRecord
from catalog.signals import catalogue_changed
from ingestion.models import IngestionRun, OfferObservation, OfferPin, SourceRejection
from ingestion.prices.resolution import (
    PRICE_RESOLVED_FIELDS,
    FieldOutcome,
    OfferEvidence,
    Stated,
    offer_evidence_registry,
    offer_resolve_prices,
)
from ingestion.prices.statements import PriceStatement
from ingestion.prices.verification import normal_value

# `prices_checked` moves forward at most this often: a confirmation an hour ago is as good as one now, and an
# unchanged second run then writes no rows at all.
CHECKED_RESOLUTION = dt.timedelta(hours=1)


def own_price_sources(provider_slug: str) -> frozenset[str]:
    """The sources that are the provider speaking for itself: its listing adapter (named for it or declaring it)."""
    from ingestion.prices.sources import PRICE_SOURCES
    from ingestion.sources import SOURCES

    adapters = {**SOURCES, **PRICE_SOURCES}
    own = {name for name, adapter in adapters.items() if getattr(adapter, "provider", None) == provider_slug}
    return frozenset(own | {provider_slug})


@transaction.atomic
def ingestion_apply_prices(*, run: IngestionRun | None, statements: list[tuple[Mapping, PriceStatement]]) -> Counter:
    """Store each source's latest price statement per offer and field, then re-resolve every offer it touched.

    The shown value of each field follows the priority curator pin → registry → the provider's own statement →
    price feeds by agreement (ingestion.prices.resolution); a feed never overrides the registry, its disagreement is
    recorded in `Mapping.provenance` (`disputed`) for the curators' queue. A change of the resolved prices closes the
    offer's current PriceRecord and opens the next, dated by the winning statement. Writes only what changed: a
    second unchanged run writes no rows. Returns counts (observations created/updated, offers updated, records).
    """
    counts: Counter = Counter()
    if not statements:
        return counts
    now = timezone.now()
    latest: dict[tuple[int, str, str], tuple[object, PriceStatement]] = {}
    mappings: dict[int, Mapping] = {}
    # A feed may state dated periods of one offer (genai-prices' constraints): the latest period begun by now counts.
    for mapping, statement in sorted(statements, key=lambda pair: _period_start(pair[1])):
        if statement.valid_from is not None and statement.valid_from > now:
            continue
        mappings[mapping.pk] = mapping
        for name, value in statement.fields.items():
            if name in PRICE_RESOLVED_FIELDS:
                latest[(mapping.pk, statement.source, name)] = (normal_value(name, value), statement)
    counts.update(_store_observations(run, latest, now))
    changed = offers_refresh_prices(mapping_ids=set(mappings), now=now, counts=counts)
    if changed:
        transaction.on_commit(
            lambda: catalogue_changed.send(sender=IngestionRun, model_ids=set(changed.values()), provider_ids=set())
        )
    return counts


def _period_start(statement: PriceStatement) -> dt.datetime:
    return statement.valid_from or dt.datetime.min.replace(tzinfo=dt.UTC)


def _store_observations(run, latest: dict, now: dt.datetime) -> Counter:
    """Upsert OfferObservation rows, writing only those whose value or date changed."""
    existing = {
        (o.mapping_id, o.source, o.field): o
        for o in OfferObservation.objects.filter(
            mapping_id__in={key[0] for key in latest}, source__in={key[1] for key in latest}
        )
    }
    to_create, to_update = [], []
    for (mapping_id, source, name), (value, statement) in latest.items():
        row = existing.get((mapping_id, source, name))
        if row is None:
            to_create.append(
                OfferObservation(
                    mapping_id=mapping_id,
                    source=source,
                    field=name,
                    value=value,
                    observed_at=statement.observed_at or now,
                    valid_from=statement.valid_from,
                    run=run,
                )
            )
        elif row.value != value or row.valid_from != statement.valid_from:
            row.value, row.valid_from, row.observed_at, row.run = (
                value,
                statement.valid_from,
                statement.observed_at,
                run,
            )
            to_update.append(row)
    OfferObservation.objects.bulk_create(to_create, batch_size=1000)
    OfferObservation.objects.bulk_update(to_update, ["value", "valid_from", "observed_at", "run"], batch_size=1000)
    return Counter(observations_created=len(to_create), observations_updated=len(to_update))


def offers_refresh_prices(
    *, mapping_ids: Iterable[int], now: dt.datetime | None = None, counts: Counter | None = None, reason: str = ""
) -> dict[int, int]:
    """Re-resolve the prices of these offers from pins, the registry and every source's latest observation; write
    the fields, provenance and `prices_checked` that changed and date the change in PriceRecord. Returns the changed
    offers (mapping id → model id). Called after a feed run and after a curator pins or rejects a source."""
    now = now or timezone.now()
    counts = counts if counts is not None else Counter()
    offers = list(Mapping.objects.filter(pk__in=set(mapping_ids)).select_related("provider"))
    evidence = offers_evidence(offers)
    current_records = {r.mapping_id: r for r in PriceRecord.objects.filter(mapping__in=offers, valid_to__isnull=True)}
    to_update: list[Mapping] = []
    written: set[str] = set()
    closing: list[PriceRecord] = []
    opening: list[PriceRecord] = []
    changed: dict[int, int] = {}
    for offer in offers:
        outcomes = offer_resolve_prices(evidence[offer.pk], now=now)
        fields = _write_outcomes(offer, outcomes, now)
        if fields:
            to_update.append(offer)
            written |= fields
        if fields - {"provenance", "prices_checked"}:
            changed[offer.pk] = offer.model_id
        record = _next_record(offer, outcomes, current_records.get(offer.pk), now)
        if record is not None:
            previous = current_records.get(offer.pk)
            if previous is not None:
                previous.valid_to = record.valid_from
                closing.append(previous)
            opening.append(record)
    if to_update:
        # An upsert on the primary key of rows read whole: one INSERT … ON CONFLICT per batch, where bulk_update
        # builds a CASE per column and row (seconds for a first registry load of every offer).
        Mapping.objects.bulk_create(
            to_update, update_conflicts=True, unique_fields=["id"], update_fields=sorted(written), batch_size=500
        )
    if changed:
        bulk.copy_to_history(Mapping, list(changed), "~", reason or "prices resolved from price sources")
    PriceRecord.objects.bulk_update(closing, ["valid_to"], batch_size=500)
    PriceRecord.objects.bulk_create(opening, batch_size=500)
    counts.update(offers_updated=len(to_update), prices_changed=len(changed), records_opened=len(opening))
    counts["records_closed"] += len(closing)
    return changed


def offers_evidence(offers: list[Mapping]) -> dict[int, OfferEvidence]:
    """One query each for pins, rejections and observations of all the offers."""
    ids = [offer.pk for offer in offers]
    pins: dict[int, dict] = {}
    for pin in OfferPin.objects.filter(mapping_id__in=ids):
        pins.setdefault(pin.mapping_id, {})[pin.field] = pin.value
    rejected: dict[int, set] = {}
    for mapping_id, source, name in SourceRejection.objects.filter(mapping_id__in=ids).values_list(
        "mapping_id", "source", "field"
    ):
        rejected.setdefault(mapping_id, set()).add((source, name))
    stated: dict[int, dict[str, dict[str, Stated]]] = {}
    for obs in OfferObservation.objects.filter(mapping_id__in=ids, field__in=PRICE_RESOLVED_FIELDS):
        stated.setdefault(obs.mapping_id, {}).setdefault(obs.source, {})[obs.field] = Stated(
            obs.value, obs.observed_at, obs.valid_from
        )
    own_by_provider: dict[str, frozenset[str]] = {}
    evidence = {}
    for offer in offers:
        slug = offer.provider.slug
        if slug not in own_by_provider:
            own_by_provider[slug] = own_price_sources(slug)
        evidence[offer.pk] = OfferEvidence(
            current={name: normal_value(name, getattr(offer, name)) for name in PRICE_RESOLVED_FIELDS},
            pins=pins.get(offer.pk, {}),
            registry=offer_evidence_registry(offer),
            own_sources=own_by_provider[slug],
            stated=stated.get(offer.pk, {}),
            rejected=frozenset(rejected.get(offer.pk, ())),
            provenance=offer.provenance or {},
        )
    return evidence


def _write_outcomes(offer: Mapping, outcomes: dict[str, FieldOutcome], now: dt.datetime) -> set[str]:
    """Set the offer's changed fields in memory; returns their names."""
    changed = set()
    for name, outcome in outcomes.items():
        if normal_value(name, getattr(offer, name)) != outcome.value and outcome.value is not None:
            setattr(offer, name, column_value(name, outcome.value))
            changed.add(name)
    provenance = dict(offer.provenance or {})
    for name, outcome in outcomes.items():
        provenance[name] = outcome.provenance(provenance.get(name))
    if provenance != (offer.provenance or {}):
        offer.provenance = provenance
        changed.add("provenance")
    confirmed = any(outcome.verified_by for outcome in outcomes.values())
    if confirmed and (offer.prices_checked is None or now - offer.prices_checked >= CHECKED_RESOLUTION):
        offer.prices_checked = now
        changed.add("prices_checked")
    return changed


def column_value(name: str, value):
    return value if name in ("price_tiers", "billing") else Decimal(value)


def offer_resolved_prices(offer: Mapping) -> dict[str, str]:
    """The offer's shown prices as PriceRecord keeps them: field → decimal string, only the set ones."""
    prices = {name: normal_value(name, getattr(offer, name)) for name in Mapping.PRICE_FIELDS}
    return {name: value for name, value in prices.items() if value is not None}


def _next_record(
    offer: Mapping, outcomes: dict[str, FieldOutcome], current: PriceRecord | None, now: dt.datetime
) -> PriceRecord | None:
    """The record to open when the offer's resolved prices differ from its current record (or it has none)."""
    prices = offer_resolved_prices(offer)
    if current is not None and current.prices == prices and current.billing == offer.billing:
        return None
    if current is None and not prices:
        return None
    moved = [
        outcome
        for name, outcome in outcomes.items()
        if name in prices and (current is None or current.prices.get(name) != prices[name])
    ]
    winners = moved or list(outcomes.values())
    valid_from = max((outcome.since for outcome in winners), default=now)
    source = max(winners, key=lambda outcome: outcome.since).source if winners else None
    if current is not None and valid_from <= current.valid_from:
        valid_from = now  # a statement dated before the current period cannot rewrite it: the change dates from now
    return PriceRecord(
        mapping=offer, valid_from=valid_from, source=source or offer.source, billing=offer.billing, prices=prices
    )
