"""Which value an offer shows for each price field, and why: pin → registry → the provider's own word → feeds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from catalog.models import Mapping
from ingestion.prices.verification import agreeing_sources, feeds_consensus, normal_value, values_agree

# Every offer field a price source can state; the shown value of each is resolved on its own.
PRICE_RESOLVED_FIELDS: tuple[str, ...] = (*Mapping.PRICE_FIELDS, "price_tiers", "billing")

# Offer facts besides prices a curator can pin: no resolution by sources, the pin simply wins (the registry load
# writes it instead of the file's value).
OFFER_PINNABLE_FACTS: tuple[str, ...] = (
    *("context_window", "max_output", "quantization", "delivery_modes", "status", "retirement_date"),
    *("served_by", "variant"),
)

PIN = "pin"
REGISTRY = "registry"


@dataclass(frozen=True)
class Stated:
    """One source's latest value for one field of one offer, and the dates that come with it."""

    value: Any
    observed_at: dt.datetime
    valid_from: dt.datetime | None = None

    @property
    def since(self) -> dt.datetime:
        return self.valid_from or self.observed_at


@dataclass
class OfferEvidence:
    """Everything known about one offer's prices: what it shows, who pinned or states what, who is ruled out."""

    current: dict[str, Any]
    pins: dict[str, Any] = field(default_factory=dict)
    registry: dict[str, Any] = field(default_factory=dict)
    own_sources: frozenset[str] = frozenset()
    stated: dict[str, dict[str, Stated]] = field(default_factory=dict)  # source → field → Stated
    rejected: frozenset[tuple[str, str]] = frozenset()  # (source, field)
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldOutcome:
    value: Any
    source: str | None
    since: dt.datetime
    verified_by: list[str]
    disputed: bool
    values: dict[str, Any]

    def provenance(self, previous: dict | None) -> dict:
        """The provenance entry, keeping the earlier `since` while the same source shows the same value."""
        since = self.since.isoformat()
        if previous and previous.get("source") == self.source and previous.get("value") == self.value:
            since = previous.get("since") or since
        return {
            "source": self.source,
            "value": self.value,
            "since": since,
            "verified_by": self.verified_by,
            "disputed": self.disputed,
            "values": self.values,
        }


def offer_evidence_registry(mapping: Mapping) -> dict[str, Any]:
    """What the registry states for the offer: `registry_values` once the loader fills it; until then an offer the
    registry keeps states the values it has (unset fields state nothing)."""
    if mapping.registry_values:
        source = mapping.registry_values
    elif mapping.source == REGISTRY:
        # Only what the registry itself set: a value a feed filled in or a curator pinned is not the registry's word.
        provenance = mapping.provenance or {}
        source = {
            name: getattr(mapping, name)
            for name in PRICE_RESOLVED_FIELDS
            if (provenance.get(name) or {}).get("source") in (None, REGISTRY)
        }
    else:
        return {}
    stated = {name: normal_value(name, source.get(name)) for name in PRICE_RESOLVED_FIELDS if name in source}
    return {name: value for name, value in stated.items() if value not in (None, [])}


def offer_resolve_prices(evidence: OfferEvidence, *, now: dt.datetime) -> dict[str, FieldOutcome]:
    """The shown value of every field some source speaks about (fields nobody states keep their value)."""
    outcomes = {}
    for name in PRICE_RESOLVED_FIELDS:
        outcome = _resolve_field(evidence, name, now)
        if outcome is not None:
            outcomes[name] = outcome
    return outcomes


def _resolve_field(evidence: OfferEvidence, name: str, now: dt.datetime) -> FieldOutcome | None:
    counted = {
        source: fields[name]
        for source, fields in evidence.stated.items()
        if name in fields and fields[name].value is not None and (source, name) not in evidence.rejected
    }
    values = {source: stated.value for source, stated in counted.items()}
    current = evidence.current.get(name)
    shown_values = dict(values)
    if name in evidence.registry:
        shown_values[REGISTRY] = evidence.registry[name]
    if name in evidence.pins:
        value, source, since = normal_value(name, evidence.pins[name]), PIN, now
    elif name in evidence.registry:
        value, source, since = evidence.registry[name], REGISTRY, now
    else:
        own = sorted(source for source in values if source in evidence.own_sources)
        feeds = {source: value for source, value in values.items() if source not in evidence.own_sources}
        consensus = feeds_consensus(name, feeds, current) if not own else None
        if own:
            source = own[0]
        elif consensus is not None:
            source = next(s for s in consensus[1] if values_agree(name, feeds[s], consensus[0]))
        else:
            source = None
        if source is None:
            if not values and name not in evidence.provenance:
                return None
            previous = evidence.provenance.get(name) or {}
            value, source, since = current, previous.get("source"), now
        else:
            value, since = values[source], counted[source].since
            if current is not None and values_agree(name, current, value):
                value = current  # within tolerance of what is shown: a feed's rounding is not a price change
    verified_by = agreeing_sources(name, value, values)
    disputed = any(not values_agree(name, value, other) for other in values.values())
    return FieldOutcome(value, source, since, verified_by, disputed, shown_values)
