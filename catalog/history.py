"""Reads of the dated price history (PriceRecord): a model's offers as of a date, one offer's periods, and the
price changes across the catalogue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from catalog.models import Mapping, PriceRecord
from catalog.selectors import model_providers


def day_end(day: dt.date) -> dt.datetime:
    """The first moment after `day` (UTC): "as of 2026-05-01" includes every change dated that day."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def _valid_at(moment: dt.datetime) -> Q:
    return Q(valid_from__lt=moment) & (Q(valid_to__isnull=True) | Q(valid_to__gte=moment))


def model_offers_as_of(model_pk: int, day: dt.date) -> QuerySet[Mapping]:
    """The model's offers that had a recorded price period covering the end of `day`, each with that period as
    `record_as_of` (a one-item list). Offers with no record then are left out: the catalogue did not know them."""
    moment = day_end(day)
    records = PriceRecord.objects.filter(_valid_at(moment))
    return (
        model_providers(model_pk)
        .filter(Exists(records.filter(mapping=OuterRef("pk"))))
        .prefetch_related(Prefetch("price_history", queryset=records, to_attr="record_as_of"))
    )


def offer_get(provider_slug: str, provider_model_id: str) -> Mapping | None:
    return (
        Mapping.objects.select_related("provider", "model")
        .filter(provider__slug=provider_slug, provider_model_id=provider_model_id)
        .first()
    )


def offer_price_history(mapping: Mapping) -> QuerySet[PriceRecord]:
    """An offer's price periods, oldest first."""
    return PriceRecord.objects.filter(mapping=mapping).order_by("valid_from")


def price_changes() -> QuerySet[PriceRecord]:
    """Every price period that followed an earlier one (a change), newest first, with the earlier period's prices
    and billing as `previous_prices` / `previous_billing` and the offer, its provider and model joined."""
    previous = PriceRecord.objects.filter(mapping=OuterRef("mapping"), valid_from__lt=OuterRef("valid_from")).order_by(
        "-valid_from"
    )
    return (
        PriceRecord.objects.annotate(
            previous_prices=Subquery(previous.values("prices")[:1]),
            previous_billing=Subquery(previous.values("billing")[:1]),
        )
        .filter(previous_billing__isnull=False)
        .select_related("mapping__provider", "mapping__model")
        .only(
            *("valid_from", "valid_to", "source", "billing", "prices", "mapping__provider_model_id"),
            *("mapping__provider__slug", "mapping__provider__name", "mapping__model__slug", "mapping__model__name"),
        )
        .order_by("-valid_from", "mapping_id")
    )


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str | None
    new: str | None


def record_changes(record: PriceRecord) -> list[FieldChange]:
    """What a period changed against the one before it (`price_changes` annotates that one): prices, then billing."""
    old, new = record.previous_prices or {}, record.prices or {}  # type: ignore[attr-defined]
    changes = [
        FieldChange(field, old.get(field), new.get(field))
        for field in Mapping.PRICE_FIELDS
        if old.get(field) != new.get(field)
    ]
    changes += [
        FieldChange(field, old.get(field), new.get(field))
        for field in sorted((old.keys() | new.keys()) - set(Mapping.PRICE_FIELDS))
        if old.get(field) != new.get(field)
    ]
    if record.previous_billing != record.billing:  # type: ignore[attr-defined]
        changes.append(FieldChange("billing", record.previous_billing, record.billing))  # type: ignore[attr-defined]
    return changes


def model_price_periods(model_pk: int) -> list[PriceRecord]:
    """Every price period of the model's offers (with offer and provider), by offer then date: one query."""
    return list(
        PriceRecord.objects.filter(mapping__model_id=model_pk)
        .select_related("mapping__provider")
        # One only(): a second call replaces the first, and every record then loads its prices and source one by one.
        .only(
            *("valid_from", "valid_to", "source", "billing", "prices", "mapping__provider_model_id"),
            *(f"mapping__provider__{c}" for c in ("slug", "name")),
        )
        .order_by("mapping__provider__slug", "mapping__provider_model_id", "valid_from")
    )
