"""Curators' aliases: an alias added or edited in the admin or the curation API is pinned, so no registry load
changes or drops it until a curator releases it (`export_registry --pinned` writes it into the registry)."""

from __future__ import annotations

from django.db import transaction

from catalog.models import Alias
from ingestion.models import AliasPin


@transaction.atomic
def alias_pin(*, alias: Alias, reason: str, user=None) -> AliasPin:
    pin, _ = AliasPin.objects.update_or_create(
        alias=alias, defaults={"reason": (reason or "edited by a curator")[:300], "pinned_by": user}
    )
    return pin


@transaction.atomic
def alias_release(*, alias: Alias) -> bool:
    """The registry's word counts again for this alias from the next load on; True when it was pinned."""
    deleted, _ = AliasPin.objects.filter(alias=alias).delete()
    return bool(deleted)


def pinned_alias_names() -> set[str]:
    return set(AliasPin.objects.values_list("alias__alias", flat=True))
