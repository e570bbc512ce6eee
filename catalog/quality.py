"""The data-quality report: the identity rules over the live catalogue (every row, ingestion-made ones included)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from catalog.identity import ERROR, KINDS, Finding, ModelFacts, OfferFacts, catalogue_findings
from catalog.models import Alias, Mapping, Model

# A status the catalogue worked out (no offer left), not one the creator stated: served-but-retired is then a warning.
DERIVED_SOURCES = frozenset({"derived"})


@dataclass
class QualityReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors

    def by_kind(self) -> list[tuple[str, list[Finding]]]:
        """(kind, findings) in KINDS order, kinds without findings left out."""
        groups: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.findings:
            groups[finding.kind].append(finding)
        return [(kind, groups[kind]) for kind in KINDS if groups[kind]]

    def counts(self) -> dict[str, dict[str, int]]:
        """{kind: {"error": n, "warning": n}} for every kind."""
        tally = Counter((f.kind, f.severity) for f in self.findings)
        return {kind: {"error": tally[(kind, "error")], "warning": tally[(kind, "warning")]} for kind in KINDS}

    def summary(self) -> str:
        return f"{len(self.findings)} finding(s): {self.errors} error(s), {self.warnings} warning(s)"

    def as_dict(self) -> dict:
        return {
            "errors": self.errors,
            "warnings": self.warnings,
            "counts": self.counts(),
            "findings": [
                {"severity": f.severity, "kind": f.kind, "subject": f.subject, "message": f.message}
                for f in self.findings
            ],
        }


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def catalogue_facts() -> tuple[list[ModelFacts], list[OfferFacts]]:
    """Every model (with its aliases) and every offer in the database, in three queries."""
    aliases: dict[int, list[str]] = defaultdict(list)
    for model_id, alias in Alias.objects.order_by("alias").values_list("model_id", "alias"):
        aliases[model_id].append(alias)
    models = [
        ModelFacts(
            slug=row["slug"],
            name=row["name"],
            creator=row["creator__slug"],
            family=row["family__slug"],
            release_date=row["release_date"],
            status=row["status"],
            deprecation_date=row["deprecation_date"],
            sunset_date=row["sunset_date"],
            successor=row["successor__slug"],
            aliases=tuple(aliases[row["id"]]),
            parameters_total=row["parameters_total"],
            parameters_active=row["parameters_active"],
            status_derived=(row["provenance"] or {}).get("status", {}).get("source") in DERIVED_SOURCES,
        )
        for row in Model.objects.order_by("slug").values(
            "id",
            "slug",
            "name",
            "creator__slug",
            "family__slug",
            "release_date",
            "status",
            "deprecation_date",
            "sunset_date",
            "successor__slug",
            "parameters_total",
            "parameters_active",
            "provenance",
        )
    ]
    offers = [
        OfferFacts(
            provider=row["provider__slug"],
            provider_model_id=row["provider_model_id"],
            model=row["model__slug"],
            status=row["status"],
            retirement_date=row["retirement_date"],
            price_input=_float(row["price_input"]),
            price_output=_float(row["price_output"]),
            context_window=row["context_window"],
        )
        for row in Mapping.objects.order_by("provider__slug", "provider_model_id").values(
            "provider__slug",
            "provider_model_id",
            "model__slug",
            "status",
            "retirement_date",
            "price_input",
            "price_output",
            "context_window",
        )
    ]
    return models, offers


def catalogue_quality(*, today: dt.date | None = None) -> QualityReport:
    """The identity rules' findings over the live catalogue."""
    return quality_from_facts(*catalogue_facts(), today=today)


def quality_from_facts(
    models: list[ModelFacts], offers: list[OfferFacts], *, today: dt.date | None = None
) -> QualityReport:
    """The same report over facts read elsewhere (registry files)."""
    return QualityReport(catalogue_findings(models, offers, today=today or dt.date.today()))
