"""Admin API keys: issued once (only the hash is kept), revoked without deleting the audit trail."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from modelgraph.models import ApiKey


@transaction.atomic
def api_key_issue(*, key: ApiKey, user=None) -> str:
    """Fill in and save a new key; returns the raw key, which is shown once and never stored."""
    raw = ApiKey.generate()
    key.prefix, key.key_hash, key.created_by = raw[:10], ApiKey.hash(raw), user
    key.save()
    return raw


def api_keys_revoke(*, keys) -> int:
    """Revoke the keys not revoked yet; returns how many."""
    return keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
