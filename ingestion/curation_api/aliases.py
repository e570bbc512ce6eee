"""Curators' aliases through the API: add one (pinned, so a registry load keeps it) or remove one."""

from __future__ import annotations

from django.db import transaction

from catalog.models import Alias, Model, Provider
from ingestion.alias_pins import alias_pin
from ingestion.curation_api.common import CurationError, announce, clean_reason, stamp_history

ALIAS_MAX_LENGTH = Alias._meta.get_field("alias").max_length


def model_by_slug(slug: str, *, field: str = "model") -> Model:
    model = Model.objects.filter(slug=slug).first() if slug else None
    if model is None:
        raise CurationError(field, f"no model has the slug {slug!r}")
    return model


def provider_by_slug(slug: str, *, field: str = "provider") -> Provider:
    provider = Provider.objects.filter(slug=slug).first()
    if provider is None:
        raise CurationError(field, f"no provider has the slug {slug!r}")
    return provider


@transaction.atomic
def curation_alias_add(*, alias: str, model: str, provider: str | None, reason: str, user=None) -> Alias:
    """A new name for `model` (optionally scoped to one provider), recorded with the reason and the actor, and
    pinned so the next registry load neither drops nor marks it. An alias another model holds, or a model's slug,
    is refused (400 naming `alias`)."""
    reason = clean_reason(reason)
    name = (alias or "").strip()
    if not name:
        raise CurationError("alias", "an alias is required")
    if ALIAS_MAX_LENGTH is not None and len(name) > ALIAS_MAX_LENGTH:
        raise CurationError("alias", f"at most {ALIAS_MAX_LENGTH} characters")
    target = model_by_slug(model)
    scope = provider_by_slug(provider) if provider else None
    if Model.objects.filter(slug=name).exclude(pk=target.pk).exists():
        raise CurationError("alias", f"{name!r} is a model's slug; merge the models instead")
    if name == target.slug:
        raise CurationError("alias", f"{name!r} is already the model's slug")
    existing = Alias.objects.select_for_update().filter(alias=name).first()
    if existing is not None and existing.model_id != target.pk:
        raise CurationError("alias", f"{name!r} already names the model {existing.model.slug!r}; remove it first")
    row = existing or Alias(alias=name, model=target, registry_file="")
    row.provider = scope
    stamp_history(row, reason=reason, user=user)
    row.save()
    alias_pin(alias=row, reason=reason, user=user)
    announce(model_ids={target.pk}, provider_ids={getattr(scope, "pk", None)})
    return row


@transaction.atomic
def curation_alias_remove(*, alias: str, reason: str, user=None) -> Alias:
    """Delete an alias (its pin goes with it), recorded with the reason and the actor. An alias the registry files
    still list comes back at the next load: remove it from the registry too (`export_registry --pinned`)."""
    reason = clean_reason(reason)
    row = Alias.objects.select_for_update().filter(alias=alias).first()
    if row is None:
        raise CurationError("alias", f"no alias {alias!r}")
    model_id, provider_id = row.model_id, row.provider_id
    stamp_history(row, reason=reason, user=user)
    row.delete()
    announce(model_ids={model_id}, provider_ids={provider_id})
    return row
