"""`fill_offer_prices MODELS_DEV [--registry DIR]`: fill the bundled offers' extra price dimensions and billing."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.importers.facts import offer_document
from registry.importers.offer_prices import offer_billing
from registry.writer import dump_yaml

# Only the dimensions the registry did not carry before are filled: input, output and cache prices stay as curated.
EXTRA_DIMENSIONS = frozenset({"reasoning", "audio_input", "audio_output", "per_request"})
# Where the filled keys go in an offer: right after its pricing, as the importer writes them.
_AFTER_PRICING = ("tiers", "billing")


def _placed(offer: dict) -> dict:
    ordered: dict = {}
    for key, value in offer.items():
        if key not in _AFTER_PRICING:
            ordered[key] = value
        if key == "pricing" or (key == "provider_model_id" and "pricing" not in offer):
            ordered.update({k: offer[k] for k in _AFTER_PRICING if k in offer})
    return ordered


def offer_fill(provider: str, offer: dict, source: dict | None, counts: Counter) -> dict:
    """The offer with what models.dev states and the registry lacks (never a stated value changed), and its billing
    classified when the registry does not state one."""
    filled = dict(offer)
    if source is not None:
        imported = offer_document(offer["provider_model_id"], source)
        pricing = dict(filled.get("pricing", {}))
        for key, value in imported.get("pricing", {}).items():
            if key in EXTRA_DIMENSIONS and key not in pricing:
                pricing[key] = value
                counts[f"pricing.{key}"] += 1
        if pricing:
            filled["pricing"] = pricing
        if "tiers" in imported and "tiers" not in filled:
            filled["tiers"] = imported["tiers"]
            counts["tiers"] += 1
    if "billing" not in filled:
        billing = offer_billing(provider, offer["provider_model_id"], filled.get("pricing", {}))
        if billing != "per_token":
            filled["billing"] = billing
    counts[f"billing {filled.get('billing', 'per_token')}"] += 1
    return _placed(filled)


class Command(BaseCommand):
    help = "Fill the registry's offers from models.dev's cost.* (reasoning, audio, request, tiers); classify billing."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="A models.dev checkout (with providers/).")
        parser.add_argument(
            "--registry", type=Path, default=None, help="Registry directory (default: the bundled one)."
        )

    def handle(self, *args, path: Path, registry: Path | None, **options):
        root = Path(registry or settings.REGISTRY_DIR)
        if not (path / "providers").is_dir():
            raise CommandError(f"{path} has no providers/ folder")
        counts: Counter = Counter()
        for file in sorted((root / "mappings").glob("*/*.yaml")):
            provider = file.parent.name
            text = file.read_text()
            document = yaml.safe_load(text)
            offers = []
            for offer in document["offers"]:
                toml = path / "providers" / provider / "models" / f"{offer['provider_model_id']}.toml"
                source = tomllib.loads(toml.read_text()) if toml.is_file() else None
                offers.append(offer_fill(provider, offer, source, counts))
            document["offers"] = offers
            if (new := dump_yaml(document)) != text:
                file.write_text(new)
                counts["files written"] += 1
        for name, count in sorted(counts.items()):
            self.stdout.write(f"{name}: {count}")
