"""`routing_export [--output FILE]`: write the rows that came from the routing configuration back as YAML."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from routing.config.exporting import routing_config_export


class Command(BaseCommand):
    help = "Export the configuration-managed capabilities, pools and key references (loading it changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", type=Path, default=None, help="file to write (default: stdout)")

    def handle(self, *args, output: Path | None = None, **options):
        text = routing_config_export()
        if output is None:
            self.stdout.write(text, ending="")
            return
        output.write_text(text, encoding="utf-8")
        self.stderr.write(f"wrote {output}")
