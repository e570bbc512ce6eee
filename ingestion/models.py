"""Ingestion runs, each source's latest observations, curators' pins and the admin API's keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from catalog.models import Alias, Mapping, Model


class Tier(models.IntegerChoices):
    PROVIDER_API = 1, "Provider listing API"
    DEPRECATIONS = 2, "deprecations.info"
    HUGGING_FACE = 3, "Hugging Face Hub"
    MANUAL = 4, "Manual curation"
    # Open price feeds (ingestion.prices.sources): they state offers' prices, never model facts, so no model field
    # ranks them (ingestion.resolution); offer prices resolve by their own order (ingestion.prices.resolution).
    PRICE_FEEDS = 5, "Price feeds"


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


class OfferObservation(models.Model):
    """The latest value one source states for one price field of one offer (one row per offer, source and field);
    `valid_from` is the source's own date for the value (a feed's price constraint, a dated file), when it has one."""

    mapping = models.ForeignKey(Mapping, on_delete=models.CASCADE, related_name="observations")
    source = models.CharField(max_length=50)
    field = models.CharField(max_length=50)
    value = models.JSONField(null=True)
    observed_at = models.DateTimeField()
    valid_from = models.DateTimeField(null=True, blank=True)
    run = models.ForeignKey(IngestionRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mapping", "source", "field"], name="offer_observation_unique"),
        ]
        indexes = [models.Index(fields=["source", "mapping"], name="offer_observation_source_idx")]

    def __str__(self) -> str:
        return f"{self.mapping_id}.{self.field} from {self.source}"


class OfferPin(models.Model):
    """A curator's override of one field of one offer; it wins over the registry and every automated source."""

    mapping = models.ForeignKey(Mapping, on_delete=models.CASCADE, related_name="pins")
    field = models.CharField(max_length=50)
    value = models.JSONField(null=True)
    reason = models.CharField(max_length=300)
    pinned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    pinned_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mapping", "field"], name="offer_pin_mapping_field_unique")]

    def __str__(self) -> str:
        return f"{self.mapping_id}.{self.field} pinned"


class AliasPin(models.Model):
    """A curator's alias (added or edited in the admin or the curation API): a registry load never changes or drops
    it until released; `export_registry --pinned` writes it into the registry."""

    alias = models.OneToOneField(Alias, on_delete=models.CASCADE, related_name="pin")
    reason = models.CharField(max_length=300)
    pinned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    pinned_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.alias_id} pinned"


class SourceRejection(models.Model):
    """A curator's word that one source is wrong for one field of one offer: its value is kept but never counted."""

    mapping = models.ForeignKey(Mapping, on_delete=models.CASCADE, related_name="source_rejections")
    source = models.CharField(max_length=50)
    field = models.CharField(max_length=50)
    reason = models.CharField(max_length=300)
    rejected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    rejected_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mapping", "source", "field"], name="source_rejection_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.source} wrong for {self.mapping_id}.{self.field}"


class UnmatchedPrice(models.Model):
    """A price feed row no offer of ours matched: listed for curators, never guessed."""

    source = models.CharField(max_length=50)
    provider_key = models.CharField(max_length=200)
    model_key = models.CharField(max_length=300)
    fields = models.JSONField(default=dict)
    reason = models.CharField(max_length=200, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)
    run = models.ForeignKey(IngestionRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "provider_key", "model_key"], name="unmatched_price_unique"),
        ]
        indexes = [models.Index(fields=["source", "last_seen"], name="unmatched_price_source_idx")]

    def __str__(self) -> str:
        return f"{self.source}: {self.provider_key}/{self.model_key}"
