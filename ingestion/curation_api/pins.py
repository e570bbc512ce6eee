"""Pins through the API: set or release a curator's value for one field of a model (FieldPin) or an offer
(OfferPin: prices, billing and tiers resolved with the price sources; limits, lifecycle and other facts simply win
and are written by every registry load). Each write is recorded with the reason and the key's owner."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from catalog.models import Mapping, Model
from ingestion.curation_api.common import (
    CurationError,
    announce,
    clean_reason,
    stamp_bulk_history_actor,
    stamp_history,
)
from ingestion.curation_api.values import model_pin_value, offer_column_value, offer_pin_value
from ingestion.models import FieldPin, OfferPin
from ingestion.prices.apply import offers_refresh_prices
from ingestion.prices.resolution import OFFER_PINNABLE_FACTS, PRICE_RESOLVED_FIELDS
from ingestion.provenance import field_release, model_refresh_shown_values
from ingestion.resolution import RESOLVED_FIELDS

OFFER_PIN_FIELDS: tuple[str, ...] = (*PRICE_RESOLVED_FIELDS, *OFFER_PINNABLE_FACTS)


def _model_field(name: str) -> str:
    if name not in RESOLVED_FIELDS:
        raise CurationError("field", f"{name!r} cannot be pinned on a model (pinnable: {', '.join(RESOLVED_FIELDS)})")
    return name


def _offer_field(name: str) -> str:
    if name not in OFFER_PIN_FIELDS:
        raise CurationError("field", f"{name!r} cannot be pinned on an offer (pinnable: {', '.join(OFFER_PIN_FIELDS)})")
    return name


def model_pins_write(*, model: Model, values: dict, reason: str, user=None) -> list[FieldPin]:
    """Pin several fields of one model at once (values already checked), then show them; one refresh."""
    pins = []
    for name, value in values.items():
        pin = FieldPin.objects.filter(model=model, field=name).first() or FieldPin(model=model, field=name)
        pin.value, pin.reason, pin.pinned_by = value, reason[:300], user
        stamp_history(pin, reason=reason, user=user)
        pin.save()
        pins.append(pin)
    model_refresh_shown_values(model_ids=[model.pk], reason=f"pinned {', '.join(values)}: {reason}", user=user)
    announce(model_ids={model.pk})
    return pins


@transaction.atomic
def curation_model_pin(*, model: Model, field: str, value, reason: str, user=None) -> FieldPin:
    reason = clean_reason(reason)
    name = _model_field(field)
    pinned = model_pin_value(model, name, value)
    return model_pins_write(model=model, values={name: pinned}, reason=reason, user=user)[0]


@transaction.atomic
def curation_model_release(*, model: Model, field: str, reason: str, user=None) -> None:
    """The field goes back to the registry or the automated sources."""
    reason = clean_reason(reason)
    name = _model_field(field)
    if not field_release(model=model, field=name, reason=reason, user=user):
        raise CurationError("field", f"{name} of {model.slug} is not pinned")
    announce(model_ids={model.pk})


def offer_pins_write(*, offer: Mapping, values: dict, reason: str, user=None) -> list[OfferPin]:
    """Pin several fields of one offer (values already checked): the pins, the columns with one history record by
    the actor, then the price resolution (provenance, the dated price record)."""
    started = timezone.now()
    pins = []
    for name, value in values.items():
        pin = OfferPin.objects.filter(mapping=offer, field=name).first() or OfferPin(mapping=offer, field=name)
        pin.value, pin.reason, pin.pinned_by = value, reason[:300], user
        stamp_history(pin, reason=reason, user=user)
        pin.save()
        pins.append(pin)
        setattr(offer, name, offer_column_value(name, value))
    stamp_history(offer, reason=f"pinned {', '.join(values)}: {reason}", user=user)
    offer.save()
    if any(name in PRICE_RESOLVED_FIELDS for name in values):
        offers_refresh_prices(mapping_ids=[offer.pk], reason=f"pinned {', '.join(values)}: {reason}")
        stamp_bulk_history_actor(Mapping, [offer.pk], since=started, user=user)
    announce(model_ids={offer.model_id}, provider_ids={offer.provider_id})
    return pins


@transaction.atomic
def curation_offer_pin(*, offer: Mapping, field: str, value, reason: str, user=None) -> OfferPin:
    reason = clean_reason(reason)
    name = _offer_field(field)
    return offer_pins_write(offer=offer, values={name: offer_pin_value(name, value)}, reason=reason, user=user)[0]


@transaction.atomic
def curation_offer_release(*, offer: Mapping, field: str, reason: str, user=None) -> None:
    """A price field goes back to the registry or the price sources at once; another fact keeps its value until the
    next registry load or source run states it."""
    reason = clean_reason(reason)
    name = _offer_field(field)
    pin = OfferPin.objects.filter(mapping=offer, field=name).first()
    if pin is None:
        raise CurationError("field", f"{name} of this offer is not pinned")
    started = timezone.now()
    stamp_history(pin, reason=reason, user=user)
    pin.delete()
    if name in PRICE_RESOLVED_FIELDS:
        offers_refresh_prices(mapping_ids=[offer.pk], reason=f"released {name}: {reason}")
        stamp_bulk_history_actor(Mapping, [offer.pk], since=started, user=user)
    announce(model_ids={offer.model_id}, provider_ids={offer.provider_id})
