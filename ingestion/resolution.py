"""Conflict resolution: which source's value a model shows, field by field, and why.

Priority, highest first: a curator's pin → the registry (both manual curation) → the provider's own listing API →
deprecations.info → the Hugging Face Hub. For open-weight metadata the Hub is authoritative and ranks above the
provider APIs. deprecations.info only ever fills gaps: it ranks below every provider API for every field.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.models import MODEL_FACT_FIELDS
from ingestion.models import Tier

PIN, REGISTRY = "pin", "registry"

# The model fields that sources may state; everything else on a Model row is the registry's alone.
RESOLVED_FIELDS = MODEL_FACT_FIELDS
OPEN_WEIGHT_FIELDS = frozenset({"open_weights", "parameters_total", "parameters_active", "license", "canonical_url"})
DATE_FIELDS = frozenset({"release_date", "deprecation_date", "sunset_date"})
DEFAULTS = {
    "name": "",
    "description": "",
    "release_date": None,
    "status": "active",
    "deprecation_date": None,
    "sunset_date": None,
    "successor": None,
    "context_window": None,
    "max_output": None,
    "input_modalities": [],
    "output_modalities": [],
    "capabilities": [],
    "open_weights": False,
    "parameters_total": None,
    "parameters_active": None,
    "license": "",
    "knowledge_cutoff": "",
    "canonical_url": "",
}

_TIER_RANK = {Tier.PROVIDER_API: 2, Tier.DEPRECATIONS: 3, Tier.HUGGING_FACE: 4}
_OPEN_WEIGHT_TIER_RANK = {Tier.HUGGING_FACE: 2, Tier.PROVIDER_API: 3, Tier.DEPRECATIONS: 4}


@dataclass(frozen=True)
class SourceValue:
    """One source's value for one field, as the admin shows it beside the winner."""

    source: str
    tier: int
    value: object
    observed_at: str | None = None  # ISO timestamp

    def rank(self, field: str, creator: str | None) -> tuple:
        if self.source == PIN:
            return (0,)
        if self.source == REGISTRY:
            return (1,)
        table = _OPEN_WEIGHT_TIER_RANK if field in OPEN_WEIGHT_FIELDS else _TIER_RANK
        # Among provider APIs, the model's creator speaks for its own model first; then the newest observation.
        own = 0 if self.source == creator else 1
        return (table[self.tier], own, _negated(self.observed_at or ""))


def _negated(text: str) -> tuple:
    return tuple(-ord(c) for c in text)


def candidates_for(
    field: str, *, pins: dict, registry_values: dict, observations: list[SourceValue], creator: str | None
) -> list[SourceValue]:
    """Every source's value for field, best first (pins and the registry included)."""
    found = list(observations)
    if field in pins:
        found.append(SourceValue(PIN, Tier.MANUAL, pins[field]))
    if field in registry_values:
        found.append(SourceValue(REGISTRY, Tier.MANUAL, registry_values[field]))
    return sorted(found, key=lambda c: c.rank(field, creator))


def resolve_fields(
    *, pins: dict, registry_values: dict, observations: dict[str, list[SourceValue]], creator: str | None
) -> tuple[dict, dict]:
    """The shown value of every resolved field and its provenance {field: {"source", "at"}}.

    A field no source states gets its default and no provenance entry. Values are in registry terms
    (dates as ISO strings, successor as a model slug).
    """
    values, provenance = {}, {}
    for field in RESOLVED_FIELDS:
        ranked = candidates_for(
            field,
            pins=pins,
            registry_values=registry_values,
            observations=observations.get(field, []),
            creator=creator,
        )
        if ranked:
            winner = ranked[0]
            values[field] = winner.value
            provenance[field] = {"source": winner.source, "at": winner.observed_at}
        else:
            values[field] = DEFAULTS[field]
    return values, provenance
