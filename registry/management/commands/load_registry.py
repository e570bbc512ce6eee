"""`load_registry [--path DIR]`: validate, then upsert the whole registry in one transaction."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.loading import RegistryInvalid, registry_load
from registry.progress import progress_bar
from registry.validation import registry_files


class Command(BaseCommand):
    help = "Validate the YAML registry and load it into the database (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--path", type=Path, default=None, help="Registry directory (default: the bundled one).")

    def handle(self, *args, path: Path | None, **options):
        root = Path(path or settings.REGISTRY_DIR)
        total = len(registry_files(root))
        try:
            with progress_bar(total, "loading") as advance:
                result = registry_load(path=root, progress=advance)
        except RegistryInvalid as exc:
            for warning in exc.report.warnings:
                self.stderr.write(f"warning: {warning}")
            for problem in exc.report.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{exc}; nothing was loaded", returncode=1) from None
        for name, counts in result.counts.items():
            self.stdout.write(
                f"{name:<10} added {counts.added:>6}  updated {counts.updated:>6}  unchanged {counts.unchanged:>6}"
                f"  no longer in registry {counts.removed:>5}"
            )
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stdout.write(f"{len(result.warnings)} warning(s) from the identity rules (listed on stderr)")
        self.stdout.write(
            self.style.SUCCESS(
                f"loaded {root}: {result.total('added')} added, {result.total('updated')} updated, "
                f"{result.total('unchanged')} unchanged, {result.total('removed')} no longer in registry"
            )
        )
