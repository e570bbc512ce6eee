"""Core models every app may use: the admin-API bearer keys and the django-q2 worker heartbeat."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from modelgraph.hashed_keys import HashedKey


class ApiScope(models.TextChoices):
    """What an admin-API key may do; each endpoint names the scope it needs (403 without it)."""

    INGESTION_READ = "ingestion:read", "Read ingestion runs"
    INGESTION_RUN = "ingestion:run", "Queue ingestion runs"
    CURATION_WRITE = "curation:write", "Curate the catalogue (aliases, pins, lifecycle, merges)"
    REVIEW_READ = "review:read", "Read the curators' work queue"
    GATEWAY_KEYS = "gateway:keys", "Issue, change and revoke gateway keys (their scopes, limits and usage)"
    METRICS_READ = "metrics:read", "Read the Prometheus metrics (/metrics)"


def default_api_scopes() -> list[str]:
    """A key made without naming scopes (every key issued before scopes existed): the ingestion endpoints only."""
    return [ApiScope.INGESTION_READ.value, ApiScope.INGESTION_RUN.value]


class ApiKey(HashedKey):
    """A bearer key for the admin API; only its SHA-256 is stored, the key is shown once on creation."""

    prefix = models.CharField(max_length=12, db_index=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # The ApiScope values this key holds; its owner (`created_by`) is the actor its writes are recorded under.
    scopes = models.JSONField(default=default_api_scopes, blank=True)

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or ())

    class Meta(HashedKey.Meta):
        verbose_name = "API key"
        db_table = "ingestion_apikey"  # created by ingestion's first migration; moved here without a copy


class WorkerHeartbeat(models.Model):
    """One row per django-q2 cluster, stamped every minute by a scheduled task that a worker runs (see
    modelgraph/heartbeat.py): the database is the one place the web process can see that the worker is alive."""

    cluster = models.CharField(max_length=100, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.cluster} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
