"""`manage.py seed_price_history`: seed offers' dated price history from dated copies of open price sources."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ingestion.prices.history_seed import price_history_seed


class Command(BaseCommand):
    help = (
        "Seed PriceRecords from dated price files: LiteLLM price files (dated by name), an OpenRouter daily /models "
        "series (one bare array per day, dated by name) and genai-prices provider YAMLs (dated constraints). Only "
        "offers named exactly are seeded; a second run writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--litellm", type=Path, nargs="*", default=[], metavar="FILE")
        parser.add_argument("--openrouter-series", type=Path, metavar="DIR")
        parser.add_argument("--genai-prices", type=Path, metavar="DIR")

    def handle(self, *args, litellm, openrouter_series, genai_prices, **options):
        paths = [*litellm, *(p for p in (openrouter_series, genai_prices) if p is not None)]
        if not paths:
            raise CommandError("Give at least one of --litellm, --openrouter-series, --genai-prices.")
        missing = [str(path) for path in paths if not path.exists()]
        if missing:
            raise CommandError(f"Not found: {', '.join(missing)}")
        try:
            counts = price_history_seed(
                litellm=litellm, openrouter_series=openrouter_series, genai_prices_dir=genai_prices
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(", ".join(f"{name}: {counts[name]}" for name in sorted(counts)) or "nothing to seed")
