"""`routing_load [FILE] [--check]`: check a routing configuration and load it (all or nothing; idempotent)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from routing.config.loading import RoutingConfigInvalid, routing_config_load
from routing.config.validation import routing_config_check


class Command(BaseCommand):
    help = (
        "Load capabilities, pools and provider key references from a routing configuration file (default: the "
        "ROUTING_CONFIG setting; nothing to do when it is unset). A file with any problem changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default=None, help="YAML file (default: settings.ROUTING_CONFIG)")
        parser.add_argument("--check", action="store_true", help="only check the file; write nothing")

    def handle(self, *args, file=None, check=False, **options):
        path = file or getattr(settings, "ROUTING_CONFIG", "")
        if not path:
            self.stdout.write("no routing configuration (ROUTING_CONFIG is unset): nothing loaded")
            return
        if check:
            report = routing_config_check(path)
            self._fail_on(report.problems, path, "checked")
            self.stdout.write(self.style.SUCCESS(f"{path}: no problems"))
            return
        try:
            result = routing_config_load(path)
        except RoutingConfigInvalid as exc:
            self._fail_on(exc.problems, path, "loaded")
            raise
        for change in result.changes:
            self.stdout.write(f"  {change}")
        summary = f"{len(result.changes)} change(s)" if result.changes else "already up to date: nothing written"
        self.stdout.write(self.style.SUCCESS(f"loaded {path}: {summary}"))

    def _fail_on(self, problems, path, verb: str) -> None:
        if not problems:
            return
        for problem in problems:
            self.stderr.write(str(problem))
        raise CommandError(f"{len(problems)} problem(s) in {path}; nothing was {verb}", returncode=1)
