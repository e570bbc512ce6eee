"""Deprecating or retiring through the API: a model's status, dates and successor, or an offer's status and
retirement day, each written as pins (so no load or source run undoes them) in one transaction."""

from __future__ import annotations

from django.db import transaction

from catalog.models import Lifecycle, Mapping, Model
from ingestion.curation_api.common import CurationError, clean_reason
from ingestion.curation_api.pins import model_pins_write, offer_pins_write
from ingestion.curation_api.values import model_pin_value, offer_pin_value

MODEL_LIFECYCLE_FIELDS = ("status", "deprecation_date", "sunset_date", "successor")


@transaction.atomic
def curation_model_lifecycle(*, model: Model, changes: dict, reason: str, user=None) -> Model:
    """`changes`: status (required) and any of deprecation_date, sunset_date, successor (slug; null clears)."""
    reason = clean_reason(reason)
    if changes.get("status") not in Lifecycle.values:
        raise CurationError("status", f"one of: {', '.join(Lifecycle.values)}")
    values = {
        name: model_pin_value(model, name, changes[name], field=name)
        for name in MODEL_LIFECYCLE_FIELDS
        if name in changes
    }
    deprecation = values.get("deprecation_date", _iso(model.deprecation_date))
    sunset = values.get("sunset_date", _iso(model.sunset_date))
    if deprecation and sunset and sunset < deprecation:
        raise CurationError("sunset_date", f"{sunset} is before the deprecation date {deprecation}")
    model_pins_write(model=model, values=values, reason=reason, user=user)
    return Model.objects.get(pk=model.pk)


@transaction.atomic
def curation_offer_lifecycle(*, offer: Mapping, changes: dict, reason: str, user=None) -> Mapping:
    """`changes`: status (required) and optionally retirement_date (null clears)."""
    reason = clean_reason(reason)
    if changes.get("status") not in Lifecycle.values:
        raise CurationError("status", f"one of: {', '.join(Lifecycle.values)}")
    values = {
        name: offer_pin_value(name, changes[name], field=name)
        for name in ("status", "retirement_date")
        if name in changes
    }
    offer_pins_write(offer=offer, values=values, reason=reason, user=user)
    return Mapping.objects.get(pk=offer.pk)


def _iso(day) -> str | None:
    return day.isoformat() if day else None
