"""`import_modelsdev PATH [--openrouter FILE]... [--out DIR]`: rebuild the YAML registry from models.dev."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.importers.corrections import CORRECTIONS_FILE, CorrectionError
from registry.importers.modelsdev import import_modelsdev

# What the bundled registry is expected to hold; printed beside the counts.
TARGETS = {"providers": 40, "models": 200, "mappings_priced": 1000, "aliases": 2000}
REPORTED = (
    ("providers", "providers (inference, labs and both)"),
    ("families", "families"),
    ("models", "canonical models"),
    ("models_from_models_dev", "  from models.dev canonical files"),
    ("models_added", "  added: served by several providers"),
    ("models_curated", "  added or renamed by corrections.yaml"),
    ("mappings", "mappings (provider x model)"),
    ("mappings_priced", "mappings with input and output prices"),
    ("offers", "offers (provider model ids)"),
    ("offers_priced", "offers with input and output prices"),
    ("aliases", "aliases"),
    ("provider_files", "provider model files read"),
    ("matched_base_model", "  matched by base_model"),
    ("matched_key", "  matched by normalised id"),
    ("matched_fallback", "  matched without serving suffixes"),
    ("matched_unmatched", "  left unmatched (after corrections)"),
    ("openrouter_entries", "OpenRouter entries read"),
    ("openrouter_matched", "  matched to a model"),
    ("files_written", "files written"),
)


def _day(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Rebuild the YAML registry from a models.dev checkout (and OpenRouter model lists, for aliases)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="A models.dev checkout (with models/ and providers/).")
        parser.add_argument(
            "--openrouter",
            type=Path,
            action="append",
            default=[],
            metavar="FILE",
            help="An OpenRouter /api/v1/models (or /api/frontend/models) body; repeat for several, oldest first.",
        )
        parser.add_argument("--out", type=Path, default=None, help="Registry directory (default: the bundled one).")
        parser.add_argument(
            "--corrections",
            type=Path,
            default=CORRECTIONS_FILE,
            help="Curated corrections applied after building (default: registry/importers/corrections.yaml).",
        )
        parser.add_argument("--no-corrections", action="store_true", help="Write the import as built, uncorrected.")
        parser.add_argument(
            "--prices-checked",
            type=_day,
            default=None,
            metavar="YYYY-MM-DD",
            help="The day of the models.dev data (its commit date), written as each mapping file's prices_checked.",
        )

    def handle(self, *args, path: Path, openrouter: list[Path], out: Path | None, corrections: Path, **options):
        if not (path / "models").is_dir() or not (path / "providers").is_dir():
            raise CommandError(f"{path} is not a models.dev checkout (no models/ and providers/ directories)")
        for file in openrouter:
            if not file.is_file():
                raise CommandError(f"{file}: no such file")
        out_dir = Path(out or settings.REGISTRY_DIR)
        try:
            result = import_modelsdev(
                path,
                out_dir,
                openrouter,
                None if options["no_corrections"] else corrections,
                prices_checked=options["prices_checked"],
            )
        except CorrectionError as exc:
            raise CommandError(str(exc)) from None
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        for key, label in REPORTED:
            if key not in result.stats:
                continue
            line = f"{label:<42} {result.stats[key]:>6}"
            if key in TARGETS:
                reached = result.stats[key] >= TARGETS[key]
                line += f"   target {TARGETS[key]:>5} " + ("ok" if reached else "NOT REACHED")
            self.stdout.write(line)
            if key == "matched_unmatched":  # the classes of listings left out, as corrections.yaml names them
                for name in sorted(k for k in result.stats if k.startswith("dropped:")):
                    self.stdout.write(f"    {name.removeprefix('dropped:'):<38} {result.stats[name]:>6}")
        self.stdout.write(self.style.SUCCESS(f"wrote {out_dir}"))
