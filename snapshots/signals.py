"""Signals the archive sends, so apps above it (ingestion) react without the archive importing them."""

from django.dispatch import Signal

# Sent after an hourly sync whose batch is complete; kwargs: `batch` (the SnapshotBatch).
snapshot_batch_completed = Signal()
