"""`catalogue_check [--registry DIR] [--format text|json] [--summary]`: the data-quality report (exit 1 on errors)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.quality import QualityReport, catalogue_quality, quality_from_facts
from registry.identity_check import registry_facts
from registry.validation import validate_registry


class Command(BaseCommand):
    help = (
        "Duplicate suspects, offers on the wrong model, mixed models, lifecycle contradictions and missing "
        "metadata in the catalogue (or, with --registry, in registry files without touching the database)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--registry", type=Path, default=None, help="Check this registry directory instead.")
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument(
            "--summary", action="store_true", help="Counts per kind and every error, without listing the warnings."
        )

    def handle(self, *args, registry: Path | None, format: str, summary: bool = False, **options):
        report = self._registry_report(registry) if registry else catalogue_quality()
        if format == "json":
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self._print(report, warnings=not summary)
        if report.errors:
            raise CommandError(report.summary(), returncode=1)

    def _registry_report(self, root: Path) -> QualityReport:
        if not root.is_dir():
            raise CommandError(f"{root}: registry directory does not exist", returncode=2)
        return quality_from_facts(*registry_facts(validate_registry(root)))

    def _print(self, report: QualityReport, *, warnings: bool = True) -> None:
        for kind, findings in report.by_kind():
            errors = sum(1 for f in findings if f.severity == "error")
            self.stdout.write(f"== {kind}: {errors} error(s), {len(findings) - errors} warning(s)")
            for finding in findings:
                if finding.severity != "error" and not warnings:
                    continue
                self.stdout.write(f"{finding.severity:<7} {finding.subject}: {finding.message}")
        style = self.style.ERROR if report.errors else self.style.SUCCESS
        self.stdout.write(style(report.summary()))
