"""Writing shown values: recompute a model's fields from pins, the registry and observations; pin and release."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from catalog import bulk
from catalog.lifecycle import successor_links, successor_refusal
from catalog.models import Model
from catalog.signals import catalogue_changed
from ingestion.models import FieldPin
from ingestion.resolution import DATE_FIELDS, RESOLVED_FIELDS, resolve_fields
from ingestion.selectors import model_observation_candidates, model_pins

log = logging.getLogger(__name__)


def _row_value(field: str, value, slug_to_pk: dict):
    if value is None:
        return None
    if field in DATE_FIELDS:
        return dt.date.fromisoformat(value)
    if field == "successor":
        return slug_to_pk.get(value)
    return value


def _comparable(model: Model, field: str):
    return model.successor_id if field == "successor" else getattr(model, field)


@transaction.atomic
def model_refresh_shown_values(*, model_ids, reason: str, user=None) -> set[int]:
    """Recompute the shown fields of these models by priority; write only those that changed; return their ids."""
    model_ids = list(model_ids)
    if not model_ids:
        return set()
    models = list(Model.objects.filter(pk__in=model_ids).select_related("creator"))
    pins, observations = model_pins(model_ids), model_observation_candidates(model_ids)
    wanted_successors = set()
    resolved = {}
    for model in models:
        values, provenance = resolve_fields(
            pins=pins.get(model.pk, {}),
            registry_values=model.registry_values,
            observations=observations.get(model.pk, {}),
            creator=model.creator.slug if model.creator else None,
        )
        resolved[model.pk] = (values, provenance)
        if values.get("successor"):
            wanted_successors.add(values["successor"])
    slug_to_pk = dict(Model.objects.filter(slug__in=wanted_successors).values_list("slug", "pk"))
    links = successor_links() if slug_to_pk else {}
    changed = []
    for model in models:
        values, provenance = resolved[model.pk]
        dirty = model.provenance != provenance
        for field in RESOLVED_FIELDS:
            if field not in provenance:
                continue  # no source states it: keep what the row holds (set in the admin's add form, say)
            new = _row_value(field, values[field], slug_to_pk)
            if field == "successor" and (refusal := successor_refusal(model.pk, new, links)):
                # Whatever source states it, a self or looping successor is never written; the row keeps its link.
                log.warning("successor %r of %s not written: %s", values[field], model.slug, refusal)
                continue
            if field == "successor":
                links[model.pk] = new
            if _comparable(model, field) != new:
                setattr(model, "successor_id" if field == "successor" else field, new)
                dirty = True
        if dirty:
            model.provenance = provenance
            changed.append(model)
    if changed:
        fields = [f for f in RESOLVED_FIELDS if f != "successor"] + ["successor", "provenance", "updated_at"]
        now = timezone.now()
        for model in changed:
            model.updated_at = now
        Model.objects.bulk_update(changed, fields, batch_size=bulk.BATCH_SIZE)
        bulk.copy_to_history(Model, [m.pk for m in changed], "~", reason, user_id=getattr(user, "pk", None))
        ids = {m.pk for m in changed}
        transaction.on_commit(lambda: catalogue_changed.send(sender=Model, model_ids=ids, provider_ids=set()))
    return {m.pk for m in changed}


@transaction.atomic
def field_pin(*, model: Model, field: str, value, reason: str, user=None) -> FieldPin:
    """Override one field of a model with a reason; it wins over the registry and every automated source."""
    if field not in RESOLVED_FIELDS:
        raise ValueError(f"field {field!r} cannot be pinned (pinnable: {', '.join(RESOLVED_FIELDS)})")
    if not reason.strip():
        raise ValueError("a pin needs a reason")
    pin, _ = FieldPin.objects.update_or_create(
        model=model, field=field, defaults={"value": value, "reason": reason, "pinned_by": user}
    )
    model_refresh_shown_values(model_ids=[model.pk], reason=f"pinned {field}: {reason}", user=user)
    return pin


@transaction.atomic
def field_release(*, model: Model, field: str, reason: str, user=None) -> bool:
    """Remove a pin: the field goes back to the registry or the automated sources."""
    pin = FieldPin.objects.filter(model=model, field=field).first()
    if pin is None:
        return False
    pin._change_reason = reason
    pin._history_user = user
    pin.delete()
    model_refresh_shown_values(model_ids=[model.pk], reason=f"released {field}: {reason}", user=user)
    return True


def _registry_terms(model: Model, field: str):
    value = getattr(model, field)
    if field == "successor":
        return value.slug if value else None
    return value.isoformat() if hasattr(value, "isoformat") else value


@transaction.atomic
def model_pin_admin_edits(*, model: Model, fields, reason: str, user=None) -> list[str]:
    """A curator's edit of a sourced field in the admin becomes a pin, so no registry load or ingestion undoes it."""
    pinned = [f for f in fields if f in RESOLVED_FIELDS]
    for field in pinned:
        FieldPin.objects.update_or_create(
            model=model,
            field=field,
            defaults={"value": _registry_terms(model, field), "reason": reason or "edited in admin", "pinned_by": user},
        )
    if pinned:
        model_refresh_shown_values(model_ids=[model.pk], reason=reason or "edited in admin", user=user)
    return pinned
