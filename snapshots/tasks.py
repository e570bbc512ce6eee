"""django-q2 tasks: thin wrappers around the snapshot services."""

from django.utils import timezone

from snapshots.lease import SyncInProgress
from snapshots.models import Batch
from snapshots.services import hour_of, snapshot_sync
from snapshots.signals import snapshot_batch_completed


def snapshot_sync_task() -> int:
    """Crawl this hour; a complete batch is announced (ingestion then projects it into the catalogue as the
    "openrouter" source, see ingestion/receivers.py)."""
    batch = snapshot_sync()
    if batch.complete:
        snapshot_batch_completed.send(sender=type(batch), batch=batch)
    return batch.pk


def snapshot_retry_task() -> int | None:
    """Half past the hour: this hour's sync again unless its batch is complete — so a sync that was killed (its lease
    ran out), failed, ended incomplete or never started is retried within its own hour. A sync still running under a
    live lease is left alone."""
    batch = Batch.objects.filter(hour=hour_of(timezone.now())).only("pk", "complete").first()
    if batch is not None and batch.complete:
        return batch.pk
    try:
        return snapshot_sync_task()
    except SyncInProgress:
        return None
