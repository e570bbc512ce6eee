"""Lifecycle contradictions (served but retired, status against dates, successor loops) and missing metadata."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from catalog.identity.facts import (
    ERROR,
    LIFECYCLE,
    MISSING,
    WARNING,
    Finding,
    ModelFacts,
    OfferFacts,
    model_finding,
    offer_finding,
)


def _retired(m: ModelFacts, today: dt.date) -> bool:
    return m.status == "retired" or (m.sunset_date is not None and m.sunset_date <= today)


def lifecycle_findings(models: list[ModelFacts], offers: list[OfferFacts], *, today: dt.date) -> list[Finding]:
    """A model's status against its dates and its active offers; an offer's status against its retirement date."""
    findings = []
    served: dict[str, list[OfferFacts]] = defaultdict(list)
    for o in offers:
        if o.status in ("active", "preview"):
            served[o.model].append(o)
            if o.retirement_date and o.retirement_date < today:
                findings.append(
                    offer_finding(o, WARNING, LIFECYCLE, f"active, but its retirement_date {o.retirement_date}")
                )
    for m in models:
        if _retired(m, today) and served[m.slug]:
            when = f"sunset {m.sunset_date}" if m.status != "retired" else "retired"
            # The creator's shutdown is a fact about the creator's own API: its own offer still active is a
            # contradiction; another platform hosting the weights keeps its own schedule (a curator checks it).
            own = [o for o in served[m.slug] if o.provider == m.creator]
            severity = ERROR if own and not m.status_derived else WARNING
            hosts = ", ".join(sorted({o.provider for o in served[m.slug]}))
            message = f"{when}, yet served by {len(served[m.slug])} active offer(s) at {hosts}"
            findings.append(model_finding(m, severity, LIFECYCLE, message, "status"))
        elif m.status in ("active", "preview") and m.sunset_date and m.sunset_date <= today:
            findings.append(
                model_finding(m, WARNING, LIFECYCLE, f"status {m.status}, sunset {m.sunset_date}", "status")
            )
        if m.status == "deprecated" and not m.deprecation_date:
            findings.append(model_finding(m, WARNING, LIFECYCLE, "deprecated without a deprecation_date", "status"))
        if m.deprecation_date and m.sunset_date and m.sunset_date < m.deprecation_date:
            message = f"sunset_date {m.sunset_date} is before deprecation_date {m.deprecation_date}"
            findings.append(model_finding(m, ERROR, LIFECYCLE, message, "sunset_date"))
    findings.extend(successor_findings(models))
    return findings


def successor_findings(models: list[ModelFacts]) -> list[Finding]:
    """A successor chain ends: a self-successor or a loop is an error on every model in it."""
    successor = {m.slug: m.successor for m in models if m.successor}
    by_slug = {m.slug: m for m in models}
    findings = []
    for m in models:
        if m.successor == m.slug:
            findings.append(model_finding(m, ERROR, LIFECYCLE, "its own successor", "successor"))
            continue
        seen, slug = [m.slug], successor.get(m.slug)
        while slug and slug not in seen:
            seen.append(slug)
            slug = successor.get(slug)
        if slug == m.slug:
            loop = " → ".join([*seen, m.slug])
            findings.append(model_finding(by_slug[m.slug], ERROR, LIFECYCLE, f"successor loop ({loop})", "successor"))
    return findings


def metadata_findings(models: list[ModelFacts]) -> list[Finding]:
    findings = []
    for m in models:
        for field in ("creator", "family", "release_date"):
            if not getattr(m, field):
                findings.append(model_finding(m, WARNING, MISSING, f"no {field}", field))
    return findings
