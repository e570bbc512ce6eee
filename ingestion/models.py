"""Ingestion runs, each source's latest observations, curators' pins and the admin API's keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from catalog.models import Model


class Tier(models.IntegerChoices):
    PROVIDER_API = 1, "Provider listing API"
    DEPRECATIONS = 2, "deprecations.info"
    HUGGING_FACE = 3, "Hugging Face Hub"
    MANUAL = 4, "Manual curation"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCESS = "success", "Success"
    PARTIAL = "partial", "Partial"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class IngestionRun(models.Model):
    """One run of one source."""

    source = models.CharField(max_length=50)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    models_added = models.PositiveIntegerField(default=0)
    models_updated = models.PositiveIntegerField(default=0)
    aliases_added = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="ingestion_run_status_valid"),
            # The lock: at most one running run per source, enforced by the database.
            models.UniqueConstraint(
                fields=["source"], condition=Q(status="running"), name="one_running_run_per_source"
            ),
        ]
        indexes = [
            models.Index(fields=["source", "-started_at"], name="run_source_started_idx"),
            models.Index(fields=["status", "-started_at"], name="run_status_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration(self):
        return self.finished_at - self.started_at if self.finished_at else None


class Observation(models.Model):
    """The latest value one source states for one field of one model (one row per source, model and field)."""

    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="observations")
    source = models.CharField(max_length=50)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    field = models.CharField(max_length=50)
    value = models.JSONField(null=True)
    external_id = models.CharField(max_length=300, blank=True)
    observed_at = models.DateTimeField()
    run = models.ForeignKey(IngestionRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "source", "field"], name="observation_model_source_field_unique")
        ]
        indexes = [models.Index(fields=["source", "model"], name="observation_source_model_idx")]

    def __str__(self) -> str:
        return f"{self.model_id}.{self.field} from {self.source}"


class FieldPin(models.Model):
    """A curator's override of one field of one model; it wins over the registry and every automated source."""

    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="pins")
    field = models.CharField(max_length=50)
    value = models.JSONField(null=True)
    reason = models.CharField(max_length=300)
    pinned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    pinned_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "field"], name="pin_model_field_unique")]

    def __str__(self) -> str:
        return f"{self.model_id}.{self.field} pinned"
