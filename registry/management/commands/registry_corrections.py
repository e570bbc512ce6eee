"""`registry_corrections [--registry DIR] [--corrections FILE] [--modelsdev PATH]`: apply the curated corrections."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.importers.correcting import registry_apply_corrections
from registry.importers.corrections import CORRECTIONS_FILE, CorrectionError


class Command(BaseCommand):
    help = "Apply registry/importers/corrections.yaml to a registry directory in place (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--registry", type=Path, default=None, help="Registry directory (default: the bundled one)."
        )
        parser.add_argument("--corrections", type=Path, default=CORRECTIONS_FILE, help="Corrections file.")
        parser.add_argument(
            "--modelsdev",
            type=Path,
            default=None,
            help="A models.dev checkout: lets corrections add provider listings the registry does not hold yet.",
        )

    def handle(self, *args, registry: Path | None, corrections: Path, modelsdev: Path | None, **options):
        root = Path(registry or settings.REGISTRY_DIR)
        try:
            log = registry_apply_corrections(root, corrections, modelsdev)
        except CorrectionError as exc:
            raise CommandError(str(exc)) from None
        for line in log:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"{root}: {len(log)} change(s)"))
