"""Keeping cached API answers true: every catalogue write bumps the cache versions of exactly what it changed."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save

from catalog import cache_tags
from catalog.list_rows import model_list_rows_refresh
from catalog.models import Alias, Family, Mapping, Model, Provider
from catalog.signals import catalogue_changed
from modelgraph.api import cache as api_cache


def catalogue_invalidate(
    *, model_ids: Iterable[int] = (), provider_ids: Iterable[int] = (), family_ids: Iterable[int] = ()
) -> None:
    """Bump the versions of these models, providers and families, and of every list (which may show any of them).

    Answers about other objects keep their cache entries: a model's answers are keyed by the versions of the model,
    its creator, family, successor and offering providers, so they change exactly when one of those does.
    """
    model_ids, provider_ids, family_ids = set(model_ids), set(provider_ids), set(family_ids)
    # The stored list rows first: a reader that sees the new versions must find the rows they stand for.
    model_list_rows_refresh(model_ids=model_ids, provider_ids=provider_ids, family_ids=family_ids)
    tags = {cache_tags.CATALOGUE}
    tags.update(cache_tags.model(pk) for pk in model_ids if pk)
    tags.update(cache_tags.provider(pk) for pk in provider_ids if pk)
    tags.update(cache_tags.family(pk) for pk in family_ids if pk)
    api_cache.bump(tags)


def _on_catalogue_changed(sender, model_ids=(), provider_ids=(), family_ids=(), **kwargs) -> None:
    catalogue_invalidate(model_ids=model_ids, provider_ids=provider_ids, family_ids=family_ids)


def _ids(instance) -> dict[str, set[int]]:
    """What one saved or deleted row changes the answers of."""
    if isinstance(instance, Provider):
        return {"provider_ids": {instance.pk}}
    if isinstance(instance, Family):
        return {"family_ids": {instance.pk}}
    if isinstance(instance, Model):
        return {"model_ids": {instance.pk}}
    if isinstance(instance, Alias):
        return {"model_ids": {instance.model_id}, "provider_ids": {instance.provider_id} - {None}}
    return {"model_ids": {instance.model_id}, "provider_ids": {instance.provider_id}}


def _merge(*parts: dict[str, set[int]]) -> dict[str, set[int]]:
    merged: dict[str, set[int]] = {}
    for part in parts:
        for name, ids in part.items():
            merged.setdefault(name, set()).update(ids)
    return merged


def _remember_previous(sender, instance, raw=False, **kwargs) -> None:
    # An alias or offer moved to another model changes the answers of the model it left too.
    if raw or instance.pk is None or not isinstance(instance, Alias | Mapping):
        return
    previous = sender.objects.filter(pk=instance.pk).first()
    instance._previous_ids = _ids(previous) if previous is not None else {}


class _PendingInvalidation:
    """The ids every row saved in one transaction changed, bumped once when it commits."""

    def __init__(self) -> None:
        self.ids: dict[str, set[int]] = {}
        self.done = False

    def add(self, ids: dict[str, set[int]]) -> None:
        self.ids = _merge(self.ids, ids)

    def __call__(self) -> None:
        self.done = True
        catalogue_invalidate(**self.ids)


def _pending_for(connection) -> _PendingInvalidation:
    """This transaction's pending invalidation, registered with on_commit once. A rollback discards Django's
    callback with it, so a pending object no longer in the connection's on-commit list starts afresh."""
    pending = getattr(connection, "_catalogue_pending", None)
    if pending is None or pending.done or not any(entry[1] is pending for entry in connection.run_on_commit):
        pending = connection._catalogue_pending = _PendingInvalidation()
        transaction.on_commit(pending, using=connection.alias, robust=True)
    return pending


def _on_row_changed(sender, instance, raw=False, using=None, **kwargs) -> None:
    if raw:
        return
    ids = _merge(_ids(instance), getattr(instance, "_previous_ids", {}))
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        catalogue_invalidate(**ids)
        return
    # After commit, once per transaction: bumping earlier would let a concurrent read cache the old rows under
    # the new version, and bumping per row would make a bulk write pay one cache round trip a row.
    _pending_for(connection).add(ids)


def connect() -> None:
    catalogue_changed.connect(_on_catalogue_changed, dispatch_uid="catalog.invalidation.catalogue_changed")
    for model_class in (Provider, Family, Model, Alias, Mapping):
        uid = f"catalog.invalidation.{model_class.__name__}"
        pre_save.connect(_remember_previous, sender=model_class, dispatch_uid=f"{uid}.pre_save")
        post_save.connect(_on_row_changed, sender=model_class, dispatch_uid=f"{uid}.post_save")
        post_delete.connect(_on_row_changed, sender=model_class, dispatch_uid=f"{uid}.post_delete")
