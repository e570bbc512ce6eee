"""The Batch API's nouns: uploaded and produced JSONL files, and batches of requests run by the workers."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone


def _file_id() -> str:
    return f"file-{secrets.token_hex(12)}"


def _batch_id() -> str:
    return f"batch_{secrets.token_hex(12)}"


class FilePurpose(models.TextChoices):
    BATCH = "batch", "Batch input"
    BATCH_OUTPUT = "batch_output", "Batch output or errors"


class GatewayFile(models.Model):
    """A JSONL file: a batch's input (uploaded to /v1/files) or its output and error files (written by a worker)."""

    id = models.CharField(primary_key=True, max_length=40, default=_file_id, editable=False)
    purpose = models.CharField(max_length=20, choices=FilePurpose.choices)
    filename = models.CharField(max_length=255)
    content = models.BinaryField()
    bytes = models.PositiveBigIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0, help_text="Requests (input) or results (output) it holds.")
    endpoint = models.CharField(max_length=40, blank=True, help_text="Input files: the `url` of every line.")
    key = models.ForeignKey(
        "routing.GatewayKey",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The issued key that uploaded it (only that key sees it); empty: a configured key or loopback.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(purpose__in=FilePurpose.values), name="gatewayfile_purpose")]

    def __str__(self) -> str:
        return f"{self.id} ({self.filename})"


class BatchStatus(models.TextChoices):
    VALIDATING = "validating", "Validating"
    IN_PROGRESS = "in_progress", "In progress"
    FINALIZING = "finalizing", "Finalizing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLING = "cancelling", "Cancelling"
    CANCELLED = "cancelled", "Cancelled"


FINISHED = (BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.CANCELLED)


class GatewayBatch(models.Model):
    """A batch of chat or embedding requests, executed through the router by django-q2 workers."""

    id = models.CharField(primary_key=True, max_length=40, default=_batch_id, editable=False)
    endpoint = models.CharField(max_length=40)
    input_file = models.ForeignKey(GatewayFile, on_delete=models.PROTECT, related_name="batches")
    output_file = models.ForeignKey(GatewayFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error_file = models.ForeignKey(GatewayFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    key = models.ForeignKey(
        "routing.GatewayKey",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The issued key that created it: only that key sees it, and its requests run under its scopes and "
        "limits; empty: a configured key or loopback.",
    )
    completion_window = models.CharField(max_length=10, default="24h")
    status = models.CharField(max_length=20, choices=BatchStatus.choices, default=BatchStatus.VALIDATING)
    metadata = models.JSONField(null=True, blank=True)
    errors = models.JSONField(null=True, blank=True, help_text="Why the batch failed, OpenAI-shaped.")
    total = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    in_progress_at = models.DateTimeField(null=True, blank=True)
    finalizing_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    cancelling_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "gateway batches"
        constraints = [models.CheckConstraint(condition=Q(status__in=BatchStatus.values), name="gatewaybatch_status")]

    def __str__(self) -> str:
        return f"{self.id}: {self.status}"
