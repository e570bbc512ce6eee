"""Telemetry rows: raw health checks and latency samples (30 days), and the hourly roll-ups every read uses."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from catalog.models import Mapping, Provider
from telemetry.classification import ErrorClass, Outcome


def _outcome_check(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name=f"{name}_outcome_valid")


class HealthCheck(models.Model):
    """One health probe: of a provider's API (mapping empty) or of one mapping where a cheap check exists."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="health_checks")
    mapping = models.ForeignKey(Mapping, null=True, blank=True, on_delete=models.CASCADE, related_name="health_checks")
    checked_at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.FloatField(null=True, blank=True)
    error_class = models.CharField(max_length=20, choices=ErrorClass.choices, blank=True)
    error_message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-checked_at"]
        constraints = [_outcome_check("health_check")]
        indexes = [
            models.Index(fields=["provider", "checked_at"], name="health_provider_checked_idx"),
            models.Index(fields=["mapping", "checked_at"], name="health_mapping_checked_idx"),
            models.Index(fields=["checked_at"], name="health_checked_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id}/{self.mapping_id or '-'} {self.checked_at:%Y-%m-%d %H:%M} {self.outcome}"


class LatencySample(models.Model):
    """One latency probe of a mapping: a small streaming chat completion, timed to first token and to the end."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="latency_samples")
    mapping = models.ForeignKey(Mapping, on_delete=models.CASCADE, related_name="latency_samples")
    checked_at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    ttft_ms = models.FloatField(null=True, blank=True)
    total_ms = models.FloatField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    tokens_from_usage = models.BooleanField(default=False)
    tokens_per_second = models.FloatField(null=True, blank=True)
    error_class = models.CharField(max_length=20, choices=ErrorClass.choices, blank=True)
    error_message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-checked_at"]
        constraints = [_outcome_check("latency_sample")]
        indexes = [
            models.Index(fields=["mapping", "checked_at"], name="latency_mapping_checked_idx"),
            models.Index(fields=["provider", "checked_at"], name="latency_provider_checked_idx"),
            models.Index(fields=["checked_at"], name="latency_checked_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.mapping_id} {self.checked_at:%Y-%m-%d %H:%M} {self.outcome}"


class OutcomeCounts(models.Model):
    successes = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    excluded = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class HourlyHealth(OutcomeCounts):
    """Health checks of one hour, per provider (mapping empty) and per mapping."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="hourly_health")
    mapping = models.ForeignKey(Mapping, null=True, blank=True, on_delete=models.CASCADE, related_name="hourly_health")
    hour = models.DateTimeField()
    response_ms_sum = models.FloatField(default=0)
    response_ms_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["hour"]
        constraints = [
            models.UniqueConstraint(fields=["mapping", "hour"], name="hourly_health_mapping_hour_unique"),
            models.UniqueConstraint(
                fields=["provider", "hour"],
                condition=Q(mapping__isnull=True),
                name="hourly_health_provider_hour_unique",
            ),
        ]
        indexes = [models.Index(fields=["provider", "hour"], name="hourly_health_provider_idx")]

    def __str__(self) -> str:
        return f"{self.provider_id}/{self.mapping_id or '-'} {self.hour:%Y-%m-%d %H:00}"


class LatencyRollup(OutcomeCounts):
    """Latency samples of one mapping over a period: counts, sums and log-spaced histograms (telemetry.percentiles)."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    mapping = models.ForeignKey(Mapping, on_delete=models.CASCADE, related_name="+")
    ttft_count = models.PositiveIntegerField(default=0)
    ttft_ms_sum = models.FloatField(default=0)
    total_count = models.PositiveIntegerField(default=0)
    total_ms_sum = models.FloatField(default=0)
    output_tokens_sum = models.PositiveBigIntegerField(default=0)
    tps_count = models.PositiveIntegerField(default=0)
    tps_sum = models.FloatField(default=0)
    ttft_histogram = models.JSONField(default=dict)
    total_histogram = models.JSONField(default=dict)

    class Meta:
        abstract = True


class HourlyLatency(LatencyRollup):
    hour = models.DateTimeField()

    class Meta:
        ordering = ["hour"]
        constraints = [models.UniqueConstraint(fields=["mapping", "hour"], name="hourly_latency_mapping_hour_unique")]
        indexes = [models.Index(fields=["provider", "hour"], name="hourly_latency_provider_idx")]

    def __str__(self) -> str:
        return f"{self.mapping_id} {self.hour:%Y-%m-%d %H:00}"


class DailyLatency(LatencyRollup):
    """The hourly latency roll-ups of one UTC day merged: long windows read 24x fewer rows in their middle."""

    day = models.DateTimeField(help_text="Midnight UTC starting the day.")

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["mapping", "day"], name="daily_latency_mapping_day_unique")]
        indexes = [models.Index(fields=["provider", "day"], name="daily_latency_provider_idx")]

    def __str__(self) -> str:
        return f"{self.mapping_id} {self.day:%Y-%m-%d}"


class OfferSummary(OutcomeCounts):
    """The ranking window's figures of one offer (or, mapping empty, of a provider's API), kept current as probes
    land and as the window moves (`telemetry.offer_summaries`): ranking and compare read one row per offer."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    mapping = models.OneToOneField(Mapping, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    window_start = models.DateTimeField(help_text="The first hour of the window these figures cover.")
    latency_samples = models.PositiveIntegerField(default=0, help_text="Latency probes timed.")
    median_ttft_ms = models.FloatField(null=True, blank=True)
    median_total_ms = models.FloatField(null=True, blank=True)
    last_probed_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider"], condition=Q(mapping__isnull=True), name="offer_summary_provider_api_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id}/{self.mapping_id or '-'} since {self.window_start:%Y-%m-%d %H:00}"
