"""`manage.py import_deprecations FILE [--registry DIR]`: write a deprecations.info file's lifecycle facts into a
registry directory, each at the scope the notice names (models, offers, aliases); a second run changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.deprecations_import import registry_import_deprecations
from registry.validation import validate_registry


class Command(BaseCommand):
    help = "Write the lifecycle facts of a deprecations.info JSON file into a registry directory at their scope."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="a deprecations.info /v1/deprecations.json body")
        parser.add_argument("--registry", type=Path, default=None, help="registry directory (default: the bundled)")
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")

    def handle(self, *args, **options):
        registry = options["registry"] or Path(settings.REGISTRY_DIR)
        if not options["file"].is_file():
            raise CommandError(f"{options['file']}: no such file")
        if not registry.is_dir():
            raise CommandError(f"{registry}: no such registry directory")
        result = registry_import_deprecations(
            notices_file=options["file"], registry_dir=registry, today=options["today"]
        )
        for name, count in sorted(result.counts.items()):
            self.stdout.write(f"{name}: {count}")
        self.stdout.write(f"files written: {len(result.files_written)}; notices skipped: {len(result.skipped)}")
        if options["verbosity"] > 1:
            for line in result.skipped:
                self.stdout.write(f"  skipped {line}")
        if result.files_written:
            report = validate_registry(registry)
            if not report.ok:
                for problem in report.problems[:20]:
                    self.stderr.write(str(problem))
                raise CommandError(
                    f"files were written; the registry now has {len(report.problems)} problem(s) to settle"
                )
