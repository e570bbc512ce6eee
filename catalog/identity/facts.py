"""The neutral facts the identity rules read (models, offers) and what they report (findings)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

ERROR, WARNING = "error", "warning"
DUPLICATE, MISMATCH, MIXED, LIFECYCLE, MISSING = (
    "duplicate",
    "offer-mismatch",
    "mixed-model",
    "lifecycle",
    "missing-metadata",
)
KINDS = (DUPLICATE, MISMATCH, MIXED, LIFECYCLE, MISSING)
# Prices or context windows this far apart are not one model's offers: across providers (against the creator's own
# offer), or between releases one provider lists side by side (gpt-4o-2024-05-13 at twice the later snapshots).
CLUSTER_RATIO = 3.0
RELEASE_RATIO = 2.0
NOISE_WEAK = frozenset({"instruct", "it"})  # a served name adds these to the weights' own name
MODES = frozenset({"thinking", "reasoning"})  # a model's name may state its mode where an offer id does not


@dataclass(frozen=True)
class ModelFacts:
    slug: str
    name: str
    creator: str | None = None
    family: str | None = None
    release_date: dt.date | None = None
    status: str = "active"
    deprecation_date: dt.date | None = None
    sunset_date: dt.date | None = None
    successor: str | None = None
    aliases: tuple[str, ...] = ()
    parameters_total: int | None = None
    parameters_active: int | None = None
    status_derived: bool = False  # retired because no offer remains, not because the creator said so


@dataclass(frozen=True)
class OfferFacts:
    provider: str
    provider_model_id: str
    model: str
    status: str = "active"
    retirement_date: dt.date | None = None
    price_input: float | None = None
    price_output: float | None = None
    context_window: int | None = None


@dataclass(frozen=True)
class Finding:
    severity: str
    kind: str
    subject: str
    message: str
    model: str = ""  # the model the finding is filed under (its file, for FILE:LINE)
    provider: str = ""  # with offer: the offer it is about
    offer: str = ""
    alias: str = ""
    field: str = ""  # the model field it is about

    def __str__(self) -> str:
        return f"{self.severity} {self.kind} {self.subject}: {self.message}"


def model_finding(m: ModelFacts, severity: str, kind: str, message: str, field: str = "") -> Finding:
    return Finding(severity, kind, f"model {m.slug}", message, model=m.slug, field=field)


def offer_finding(o: OfferFacts, severity: str, kind: str, message: str) -> Finding:
    subject = f"offer {o.provider}:{o.provider_model_id}"
    return Finding(severity, kind, subject, message, model=o.model, provider=o.provider, offer=o.provider_model_id)
