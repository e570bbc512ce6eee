"""`validate_registry [--path DIR]`: report every registry problem as FILE:LINE: message; exit 1 if any."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.progress import progress_bar
from registry.validation import registry_files, validate_registry


class Command(BaseCommand):
    help = "Validate the YAML registry: syntax, JSON Schema, referential integrity and duplicate ids."

    def add_arguments(self, parser):
        parser.add_argument("--path", type=Path, default=None, help="Registry directory (default: the bundled one).")

    def handle(self, *args, path: Path | None, **options):
        root = Path(path or settings.REGISTRY_DIR)
        total = len(registry_files(root))
        with progress_bar(total, "validating") as advance:
            report = validate_registry(root, progress=advance)
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        for problem in report.problems:
            self.stderr.write(str(problem))
        if not report.ok:
            raise CommandError(
                f"{len(report.problems)} problem(s), {len(report.warnings)} warning(s) in {root}", returncode=1
            )
        self.stdout.write(
            self.style.SUCCESS(f"{root}: {len(report.files)} files valid, {len(report.warnings)} warning(s)")
        )
