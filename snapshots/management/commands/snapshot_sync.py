"""Crawl OpenRouter once into this hour's batch, with progress."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from snapshots.lease import LeaseLost, SyncInProgress
from snapshots.services import snapshot_sync


class Command(BaseCommand):
    help = "Crawl OpenRouter's catalogue into this hour's batch (a second sync in the hour reuses the batch)."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", help="OpenRouter base URL (default: settings.SNAPSHOTS_BASE_URL).")
        parser.add_argument("--concurrency", type=int, help="Endpoint requests in flight at once.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Sync again even if this hour's batch is complete (a live sync of the hour is never taken over).",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        bar = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, unit="model", desc="endpoints", file=self.stderr._out)
            bar.update(done - bar.n)

        try:
            batch = snapshot_sync(
                base_url=options["base_url"],
                concurrency=options["concurrency"],
                force=options["force"],
                progress=None if options["no_progress"] else progress,
            )
        except (SyncInProgress, LeaseLost) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if bar is not None:
                bar.close()
        stats = batch.stats
        self.stdout.write(
            f"batch {batch.pk} ({batch}): {batch.status}; {stats.get('responses', 0)} responses, "
            f"{stats.get('raw_bytes', 0):,} bytes received, "
            f"{stats.get('new_blob_bytes', 0) + stats.get('manifest_bytes', 0):,} bytes stored, "
            f"events {stats.get('events', {})}, {stats.get('seconds')} s"
        )
        if not batch.complete:
            self.stderr.write(f"incomplete: {batch.validation.get('endpoints', {}).get('failures', [])[:5]}")
