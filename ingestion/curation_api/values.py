"""Checking a curator's value for one model or offer field, and putting it in the terms a pin keeps (JSON)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models

from catalog.lifecycle import successor_links, successor_refusal
from catalog.models import DeliveryMode, Lifecycle, Mapping, Modality, Model, ModelCapability
from ingestion.curation_api.common import CurationError
from ingestion.prices.resolution import PRICE_RESOLVED_FIELDS
from ingestion.prices.verification import normal_value
from ingestion.resolution import DATE_FIELDS

LIST_CHOICES = {
    "input_modalities": Modality.values,
    "output_modalities": Modality.values,
    "capabilities": ModelCapability.values,
}
TEXT_FIELDS = frozenset({"quantization", "served_by", "variant", "description", "license", "knowledge_cutoff"})


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    for kind, name in ((dict, "an object"), (list, "a list"), (str, "a string")):
        if isinstance(value, kind):
            return name
    return "a number"


def _iso_day(value, field: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise CurationError(field, f"{value!r} is not a day (YYYY-MM-DD)") from None


def _listed(value, field: str, allowed) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CurationError(field, "a list of strings is expected")
    wrong = [item for item in value if allowed is not None and item not in allowed]
    if wrong:
        raise CurationError(field, f"{', '.join(wrong)} not one of: {', '.join(allowed)}")
    return value


def _cleaned(model_class, name: str, value, field: str):
    db_field = model_class._meta.get_field(name)
    if value is None:
        if not db_field.null and name not in TEXT_FIELDS:
            raise CurationError(field, f"{name} cannot be empty")
        return None if db_field.null else ""  # a text column that holds no null: empty
    # The JSON type must be the column's: a list or an object was kept as its Python spelling, true as 1.
    if isinstance(db_field, models.CharField | models.TextField):
        if not isinstance(value, str):
            raise CurationError(field, f"a string is expected, not {_json_type(value)}")
    elif isinstance(value, dict | list) or (isinstance(value, bool) and not isinstance(db_field, models.BooleanField)):
        raise CurationError(
            field,
            f"{'true or false' if isinstance(db_field, models.BooleanField) else 'a number'} "
            f"is expected, not {_json_type(value)}",
        )
    if isinstance(value, float):
        value = repr(value)  # a JSON number as written (0.8), not its binary expansion
    try:
        return db_field.clean(value, None)
    except ValidationError as exc:
        raise CurationError(field, " ".join(exc.messages)) from None


def model_pin_value(model: Model, name: str, value, *, field: str = "value"):
    """The pin's value for a model field, in registry terms (days as ISO strings, the successor as a slug)."""
    if name in DATE_FIELDS:
        return _iso_day(value, field)
    if name == "successor":
        if value in (None, ""):
            return None
        target = Model.objects.filter(slug=str(value)).first()
        if target is None:
            raise CurationError(field, f"no model has the slug {value!r}")
        if refusal := successor_refusal(model.pk, target.pk, successor_links()):
            raise CurationError(field, refusal)
        return target.slug
    if name in LIST_CHOICES:
        return _listed(value, field, LIST_CHOICES[name])
    if name == "status" and value not in Lifecycle.values:
        raise CurationError(field, f"{value!r} is not one of: {', '.join(Lifecycle.values)}")
    return _cleaned(Model, name, value, field)


def offer_pin_value(name: str, value, *, field: str = "value"):
    """The pin's value for an offer field: prices as decimal strings (as the price resolution keeps them), days as
    ISO strings, other facts as the column holds them."""
    if name in PRICE_RESOLVED_FIELDS:
        return _price_value(name, value, field)
    if name == "retirement_date":
        return _iso_day(value, field)
    if name == "delivery_modes":
        return _listed(value, field, DeliveryMode.values)
    if name == "status" and value not in Lifecycle.values:
        raise CurationError(field, f"{value!r} is not one of: {', '.join(Lifecycle.values)}")
    cleaned = _cleaned(Mapping, name, value, field)
    return format(cleaned.normalize(), "f") if isinstance(cleaned, Decimal) else cleaned


def _price_value(name: str, value, field: str):
    if name == "billing":
        return _cleaned(Mapping, name, value, field)
    if name == "price_tiers":
        if not isinstance(value, list) or not all(isinstance(t, dict) and "above" in t for t in value):
            raise CurationError(field, 'a list of tiers like {"above": 200000, "input": "6"} is expected')
        return normal_value(name, value)
    cleaned = _cleaned(Mapping, name, value, field)
    if cleaned is not None and cleaned < 0:
        raise CurationError(field, "a price cannot be negative")
    return normal_value(name, cleaned)


def offer_column_value(name: str, pinned):
    """A pin's value (JSON) in the offer column's terms."""
    if pinned is None:
        return "" if name in TEXT_FIELDS else ([] if name in ("price_tiers", "delivery_modes") else None)
    if name == "retirement_date":
        return dt.date.fromisoformat(pinned)
    if name in PRICE_RESOLVED_FIELDS and name not in ("price_tiers", "billing"):
        return Decimal(pinned)
    return pinned
