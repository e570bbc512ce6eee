"""Nothing to prune since storage v2: volatile figures are kept whole in each batch's column block."""

from django.core.management.base import BaseCommand

from snapshots.services import snapshot_prune_metrics


class Command(BaseCommand):
    help = "Does nothing: volatile figures live in column blocks (a few bytes per endpoint-hour), kept for ever."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Ignored (kept for old schedules and scripts).")

    def handle(self, *args, **options):
        snapshot_prune_metrics(days=options["days"] or 0)
        self.stdout.write(
            "nothing to prune: volatile figures are stored as columns in each batch (see snapshots/columns.py), "
            "so their full history is kept"
        )
