"""Core models every app may use: the admin-API bearer keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from modelgraph.hashed_keys import HashedKey


class ApiKey(HashedKey):
    """A bearer key for the admin API; only its SHA-256 is stored, the key is shown once on creation."""

    prefix = models.CharField(max_length=12, db_index=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(HashedKey.Meta):
        verbose_name = "API key"
        db_table = "ingestion_apikey"  # created by ingestion's first migration; moved here without a copy
