"""Merging two models that are one: the source's aliases and offers move to the target, models naming the source
as successor name the target, the source's slug becomes the target's alias (pinned), and the source is deleted —
all in one transaction, each row's history recording the reason and the actor.

The registry files still describe the source model until `export_registry --pinned` (or a hand edit) removes it:
until then a registry load re-creates it (its slug stays the target's alias only if the file no longer lists it)."""

from __future__ import annotations

from django.db import transaction

from catalog.models import Alias, Model
from ingestion.alias_pins import alias_pin
from ingestion.curation_api.common import CurationError, announce, clean_reason, stamp_history


@transaction.atomic
def curation_models_merge(*, source: Model, target: Model, reason: str, user=None) -> dict:
    """Returns counts: aliases and offers moved, successor links redirected."""
    reason = clean_reason(reason)
    if source.pk == target.pk:
        raise CurationError("target", "a model cannot be merged into itself")
    source = Model.objects.select_for_update().get(pk=source.pk)
    why = f"merged {source.slug} into {target.slug}: {reason}"
    provider_ids: set[int] = set()
    moved = {"aliases": 0, "offers": 0, "successor_links": 0}
    for alias in source.aliases.all():
        alias.model = target
        stamp_history(alias, reason=why, user=user)
        alias.save()
        if alias.provider_id is not None:
            provider_ids.add(alias.provider_id)
        moved["aliases"] += 1
    for offer in source.mappings.all():
        offer.model = target
        stamp_history(offer, reason=why, user=user)
        offer.save()
        provider_ids.add(offer.provider_id)
        moved["offers"] += 1
    predecessors = Model.objects.filter(successor=source).exclude(pk=target.pk)
    for model in predecessors:
        model.successor = target
        stamp_history(model, reason=why, user=user)
        model.save()
        moved["successor_links"] += 1
    moved["memberships"] = _move_memberships(source, target)
    if target.successor_id == source.pk:  # the target succeeded the source: no longer a link between two models
        target.successor = None
        stamp_history(target, reason=why, user=user)
        target.save()
    old_slug, old_pk = source.slug, source.pk
    stamp_history(source, reason=why, user=user)
    source.delete()
    alias = Alias(alias=old_slug, model=target, registry_file="")
    stamp_history(alias, reason=why, user=user)
    alias.save()
    alias_pin(alias=alias, reason=why, user=user)
    announce(model_ids={old_pk, target.pk}, provider_ids=provider_ids)
    return moved


def _move_memberships(source: Model, target: Model) -> int:
    """Many-to-many links other apps keep to models (routing pools' members, say): each one naming the source names
    the target instead (found through the relations, so the catalogue's layers stay as they are)."""
    count = 0
    for relation in Model._meta.related_objects:
        if not relation.many_to_many:
            continue
        accessor = relation.get_accessor_name()
        if accessor is None:
            continue
        holders = list(getattr(source, accessor).all())
        for holder in holders:
            getattr(holder, relation.field.name).add(target)
        count += len(holders)
    return count
