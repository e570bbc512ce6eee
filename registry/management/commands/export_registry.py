"""`export_registry --out DIR`: write the catalogue back as registry YAML."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from registry.exporting import registry_export


class Command(BaseCommand):
    help = "Export the database's registry rows as registry YAML (load of the export changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, required=True, help="Directory to write the registry into.")
        parser.add_argument(
            "--pinned",
            action="store_true",
            help="Write the curators' changes in: pinned model fields over the registry's values, and the aliases "
            "curators added or edited. Commit the result and the registry holds what the admin shows.",
        )

    def handle(self, *args, out: Path, pinned: bool, **options):
        written = registry_export(out_dir=out, pinned=pinned)
        self.stdout.write(self.style.SUCCESS(f"wrote {written} files to {out}"))
