"""What ingestion does when other apps announce something."""

from django.dispatch import receiver

from ingestion.services import ingestion_run_source, ingestion_start_run
from snapshots.signals import snapshot_batch_completed


@receiver(snapshot_batch_completed, dispatch_uid="ingestion-project-openrouter-batch")
def project_completed_batch(sender, batch, **kwargs) -> None:
    """Each complete hourly batch becomes `openrouter` offers at once (one locked, logged ingestion run)."""
    run = ingestion_start_run(source="openrouter")
    ingestion_run_source(source="openrouter", run=run)
