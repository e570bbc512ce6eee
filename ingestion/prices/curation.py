"""Curators settling disputed offer prices: accept one source's value as a pin, or rule a source out for an offer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from catalog.models import Mapping
from ingestion.models import OfferObservation, OfferPin, SourceRejection
from ingestion.prices.apply import offers_refresh_prices
from ingestion.prices.resolution import OFFER_PINNABLE_FACTS, PRICE_RESOLVED_FIELDS, REGISTRY
from ingestion.prices.verification import normal_value


class CurationRefused(ValueError):
    pass


def offers_disputed() -> QuerySet[Mapping]:
    """Offers where some source disagrees with a shown price (Mapping.provenance[field].disputed)."""
    disputed = Q()
    for name in PRICE_RESOLVED_FIELDS:
        disputed |= Q(**{f"provenance__{name}__disputed": True})
    return Mapping.objects.filter(disputed).select_related("provider", "model").order_by("provider__slug", "pk")


@dataclass(frozen=True)
class SourceValue:
    source: str
    value: object
    since: dt.datetime | None
    shown: bool


def offers_dispute_rows(offers: list[Mapping]) -> dict[int, dict[str, list[SourceValue]]]:
    """Per offer and disputed field, each source's value with the date it was stated (one query for the page)."""
    dates = {
        (o.mapping_id, o.source, o.field): o.valid_from or o.observed_at
        for o in OfferObservation.objects.filter(mapping__in=offers).only(
            "mapping_id", "source", "field", "valid_from", "observed_at"
        )
    }
    rows: dict[int, dict[str, list[SourceValue]]] = {}
    for offer in offers:
        for name, entry in (offer.provenance or {}).items():
            if not entry.get("disputed"):
                continue
            agreeing = set(entry.get("verified_by") or ())
            rows.setdefault(offer.pk, {})[name] = [
                SourceValue(
                    source,
                    value,
                    dates.get((offer.pk, source, name)),
                    source == entry.get("source") or source in agreeing,
                )
                for source, value in sorted((entry.get("values") or {}).items())
            ]
    return rows


def _stated(mapping: Mapping, field: str, source: str) -> object:
    entry = (mapping.provenance or {}).get(field) or {}
    values = entry.get("values") or {}
    if field not in PRICE_RESOLVED_FIELDS or source not in values:
        raise CurationRefused(f"{source} states no {field} for this offer")
    return values[source]


@transaction.atomic
def offer_pin_source_value(*, mapping: Mapping, field: str, source: str, reason: str, user=None) -> OfferPin:
    """Pin the value one source states for one field of the offer (it then wins over every source), and re-resolve."""
    if not reason.strip():
        raise CurationRefused("a reason is required")
    value = _stated(mapping, field, source)
    pin, _ = OfferPin.objects.update_or_create(
        mapping=mapping,
        field=field,
        defaults={"value": value, "reason": f"{reason.strip()} (value from {source})"[:300], "pinned_by": user},
    )
    offers_refresh_prices(mapping_ids=[mapping.pk], reason=f"pinned {field} from {source}: {reason}")
    return pin


@transaction.atomic
def offer_reject_source(*, mapping: Mapping, field: str, source: str, reason: str, user=None) -> SourceRejection:
    """Record that a source is wrong for one field of the offer: its value is kept, never counted again."""
    if not reason.strip():
        raise CurationRefused("a reason is required")
    if source == REGISTRY:
        raise CurationRefused("the registry is corrected in its files or by a pin, not rejected")
    _stated(mapping, field, source)
    rejection, _ = SourceRejection.objects.update_or_create(
        mapping=mapping, source=source, field=field, defaults={"reason": reason.strip()[:300], "rejected_by": user}
    )
    offers_refresh_prices(mapping_ids=[mapping.pk], reason=f"{source} rejected for {field}: {reason}")
    return rejection


@transaction.atomic
def offer_pin_admin_edits(*, mapping: Mapping, fields, reason: str, user=None) -> list[str]:
    """A curator's edit of a price or a fact (limits, lifecycle, quantization …) on the offer's admin page becomes a
    pin, so no load or feed run undoes it."""
    pinned = [name for name in fields if name in PRICE_RESOLVED_FIELDS or name in OFFER_PINNABLE_FACTS]
    for name in pinned:
        OfferPin.objects.update_or_create(
            mapping=mapping,
            field=name,
            defaults={
                "value": _pin_value(name, getattr(mapping, name)),
                "reason": (reason or "edited in admin")[:300],
                "pinned_by": user,
            },
        )
    if pinned:
        offers_refresh_prices(mapping_ids=[mapping.pk], reason=reason or "edited in admin")
    return pinned


def offer_pins_refresh(*, mapping: Mapping) -> None:
    """After pins were edited in the admin: resolve the offer again so a new pin shows and a removed one lets go."""
    offers_refresh_prices(mapping_ids=[mapping.pk], now=timezone.now(), reason="offer pins edited")


def _pin_value(name: str, value):
    """The value a pin keeps, as JSON: prices as decimal strings, days as ISO strings."""
    if name in PRICE_RESOLVED_FIELDS:
        return normal_value(name, value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value
