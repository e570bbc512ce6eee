"""Identity rules over neutral facts: duplicate models, offers on the wrong model, mixed models, lifecycle, metadata.

Pure functions (no database): the registry validator and `catalogue_check` build `ModelFacts`/`OfferFacts` from
their own sources and call `catalogue_findings`. A rule that can be wrong says so as a warning; an error is kept for
what is unambiguous (equal names, a pointer kept as a model, an offer id that is another model's own name).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from catalog.identity.duplicates import duplicate_findings, model_identity
from catalog.identity.facts import (
    DUPLICATE,
    ERROR,
    KINDS,
    LIFECYCLE,
    MISMATCH,
    MISSING,
    MIXED,
    WARNING,
    Finding,
    ModelFacts,
    OfferFacts,
)
from catalog.identity.lifecycle import lifecycle_findings, metadata_findings, successor_findings
from catalog.identity.offers import mixed_model_findings, offer_findings
from catalog.identity.tokens import Identity, identity

__all__ = [
    "DUPLICATE",
    "ERROR",
    "KINDS",
    "LIFECYCLE",
    "MISMATCH",
    "MISSING",
    "MIXED",
    "WARNING",
    "Finding",
    "Identity",
    "ModelFacts",
    "OfferFacts",
    "catalogue_findings",
    "duplicate_findings",
    "identity",
    "lifecycle_findings",
    "metadata_findings",
    "mixed_model_findings",
    "model_identity",
    "offer_findings",
    "successor_findings",
]


def catalogue_findings(models: Iterable[ModelFacts], offers: Iterable[OfferFacts], *, today: dt.date) -> list[Finding]:
    """Every finding of every rule, errors first, then by kind and subject."""
    models, offers = list(models), list(offers)
    findings = [
        *duplicate_findings(models),
        *offer_findings(models, offers),
        *mixed_model_findings(models, offers),
        *lifecycle_findings(models, offers, today=today),
        *metadata_findings(models),
    ]
    return sorted(findings, key=lambda f: (f.severity != ERROR, KINDS.index(f.kind), f.subject, f.message))
