"""Bearer keys (admin-API and gateway): issued once, only the hash kept; revoked, never deleted (audit trail)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from modelgraph.hashed_keys import HashedKey


@transaction.atomic
def hashed_key_issue(*, key: HashedKey, user=None) -> str:
    """Fill in and save a new key (its name set); returns the raw key, which is shown once and never stored."""
    raw = key.generate()
    key.prefix, key.key_hash, key.created_by = key.shown_prefix(raw), key.hash(raw), user
    key.save()
    return raw


def hashed_keys_revoke(*, keys: QuerySet) -> int:
    """Revoke the keys not revoked yet; returns how many."""
    return keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
