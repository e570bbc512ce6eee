"""django-q2 tasks: thin wrappers around the snapshot services."""

from snapshots.conf import setting
from snapshots.services import snapshot_prune_metrics, snapshot_sync
from snapshots.signals import snapshot_batch_completed


def snapshot_sync_task() -> int:
    """Crawl this hour; a complete batch is announced (ingestion then projects it into the catalogue as the
    "openrouter" source, see ingestion/receivers.py)."""
    batch = snapshot_sync()
    if batch.complete:
        snapshot_batch_completed.send(sender=type(batch), batch=batch)
    return batch.pk


def snapshot_prune_task() -> int:
    return snapshot_prune_metrics(days=setting("SNAPSHOTS_METRICS_RETENTION_DAYS"))
