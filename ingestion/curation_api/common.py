"""What every curation write shares: refusals that name their field, the actor, and telling the caches at once."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from catalog.signals import catalogue_changed

# simple-history's `history_change_reason` holds 100 characters; pins keep 300.
HISTORY_REASON_LENGTH = 100


class CurationError(ValueError):
    """Bad input for a curation write: `field` names the request field at fault (a 400 names it)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def clean_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise CurationError("reason", "a reason is required: it is kept in the history with the change")
    return text


def history_reason(text: str) -> str:
    return text[:HISTORY_REASON_LENGTH]


def stamp_history(instance, *, reason: str, user) -> None:
    """Make the next save or delete of `instance` record this reason and actor (simple-history)."""
    instance._change_reason = history_reason(reason)
    instance._history_user = user


def stamp_bulk_history_actor(model_class, pks, *, since: dt.datetime, user) -> None:
    """History rows written in bulk (catalog.bulk.copy_to_history) by a service that takes no user: name the actor."""
    if user is not None and pks:
        model_class.history.filter(id__in=list(pks), history_date__gte=since, history_user__isnull=True).update(
            history_user=user
        )


def announce(*, model_ids=(), provider_ids=()) -> None:
    """The public API's cached answers about these models and providers go stale when this transaction commits."""
    model_ids, provider_ids = set(model_ids) - {None}, set(provider_ids) - {None}
    transaction.on_commit(
        lambda: catalogue_changed.send(sender=CurationError, model_ids=model_ids, provider_ids=provider_ids)
    )
