"""`import_aliases [--registry DIR] [--modelsdev DIR] [--litellm FILE] [--genai-prices DIR] [--openrouter FILE]...`:
add the aliases the sources support to the registry's model files (registry/importers/aliases.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.importers.alias_report import write_report
from registry.importers.aliases import Sources, import_aliases

DEFAULT_REPORT = Path(__file__).resolve().parents[2] / "importers" / "ALIASES.md"


def _command_line(options: dict) -> str:
    """The command as run, paths shown relative to the project's parent (`../shared/...`) where they lie under it."""
    base = Path(settings.BASE_DIR).resolve()

    def shown(path: Path) -> str:
        resolved = Path(path).resolve()
        for root, prefix in ((base, ""), (base.parent, "../")):
            if resolved.is_relative_to(root):
                return prefix + resolved.relative_to(root).as_posix()
        return str(path)

    parts = ["manage.py import_aliases"]
    for flag, key in (("--modelsdev", "modelsdev"), ("--litellm", "litellm"), ("--genai-prices", "genai_prices")):
        if options[key]:
            parts.append(f"{flag} {shown(options[key])}")
    parts += [f"--openrouter {shown(path)}" for path in options["openrouter"]]
    return " ".join(parts)


class Command(BaseCommand):
    help = "Add Hugging Face repositories and provider ids from the price feeds and listings as model aliases."

    def add_arguments(self, parser):
        parser.add_argument("--registry", type=Path, default=None, help="Registry directory (default: bundled).")
        parser.add_argument("--modelsdev", type=Path, default=None, help="A models.dev checkout.")
        parser.add_argument("--litellm", type=Path, default=None, help="model_prices_and_context_window.json")
        parser.add_argument("--genai-prices", type=Path, default=None, help="genai-prices providers/ directory.")
        parser.add_argument(
            "--openrouter", type=Path, action="append", default=[], help="An OpenRouter /api/v1/models body."
        )
        parser.add_argument("--report", type=Path, default=None, help="Where to write ALIASES.md (default: bundled).")
        parser.add_argument("--dry-run", action="store_true", help="Decide and report, but write no model file.")

    def handle(self, *args, **options):
        registry = options["registry"] or Path(settings.REGISTRY_DIR)
        if not (registry / "models").is_dir():
            raise CommandError(f"{registry}: not a registry directory (no models/)")
        paths = [options["modelsdev"], options["litellm"], options["genai_prices"], *options["openrouter"]]
        missing = [str(p) for p in paths if p is not None and not p.exists()]
        if missing:
            raise CommandError(f"not found: {', '.join(missing)}")
        sources = Sources(options["modelsdev"], options["litellm"], options["genai_prices"], options["openrouter"])
        result = import_aliases(registry, sources, write=not options["dry_run"])
        bundled = registry.resolve() == Path(settings.REGISTRY_DIR).resolve()
        report = options["report"] or (DEFAULT_REPORT if bundled else None)
        if report:
            write_report(result, report, _command_line(options))
        states = Counter(d.state for d in result.decisions)
        before, after = result.coverage_before, result.coverage_after
        self.stdout.write(f"aliases added: {states['added']} ({result.files_written} model files written)")
        self.stdout.write(f"already present: {states['present']}; refused: {states['refused']}")
        self.stdout.write(
            f"open-weight models carrying a named Hugging Face repository: {before['carrying']} -> "
            f"{after['carrying']} of {after['open_weight_models']} (any repository alias: "
            f"{before['carrying_any']} -> {after['carrying_any']})"
        )
        if report:
            self.stdout.write(f"report: {report}")
