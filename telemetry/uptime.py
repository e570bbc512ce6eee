"""Uptime: the one read every surface shows it from (the API, the model page, the provider page, the ranking).

Uptime is computed from health checks only, as the seed defines it ("Availability (uptime %): computed from health
records"): successes / (successes + failures) of the hourly health roll-ups in the window. Latency probes never
count (they time answers; their failures are their own figure), nor do excluded checks (429s, our configuration).

Two scopes, never mixed:

- an offer's uptime: the health checks of that mapping (`offer_uptimes`); an offer with none has no uptime;
- a provider's API uptime: the checks of the provider's model listing, with no mapping (`provider_api_uptimes`),
  labelled `scope: provider_api` wherever it appears beside an offer, never shown as the offer's own.

Figures are rounded once, here (`UPTIME_DIGITS`), so every surface prints the same string for the same window.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping as RowMapping
from datetime import datetime
from typing import Any

from django.db.models import Sum

from telemetry.models import HourlyHealth
from telemetry.ranking import wilson_lower_bound

COUNT_FIELDS = ("successes", "failures", "excluded")
UPTIME_DIGITS = 4  # 0.99834 → 0.9983 → "99.83%" on the pages
PROVIDER_SCOPE = "provider_api"


def uptime_counts(row: RowMapping[str, Any]) -> dict[str, int]:
    return {name: int(row.get(name) or 0) for name in COUNT_FIELDS}


def uptime_round(value: float | None) -> float | None:
    return None if value is None else round(value, UPTIME_DIGITS)


def uptime_figures(counts: dict[str, int]) -> dict:
    """Uptime (rounded), its Wilson lower bound, the samples it is made of and the raw counts."""
    trials = counts["successes"] + counts["failures"]
    return {
        "uptime": uptime_round(counts["successes"] / trials) if trials else None,
        "uptime_lower_bound": uptime_round(wilson_lower_bound(counts["successes"], trials)),
        "samples": trials,
        **counts,
    }


def offer_uptimes(since: datetime, *, names: tuple[str, ...] = (), **filters) -> dict[int, dict]:
    """Each offer's own health-check uptime since `since`, by mapping id (one query), with any `names` columns.

    Offers never checked in the window are absent, and one with excluded checks only has `uptime: None`: they have
    no uptime, and never their provider's."""
    rows = (
        HourlyHealth.objects.filter(mapping__isnull=False, hour__gte=since, **filters)
        .values("mapping_id", *names)
        .annotate(**{name: Sum(name) for name in COUNT_FIELDS})
        .order_by()
    )
    return {row["mapping_id"]: {**{n: row[n] for n in names}, **uptime_figures(uptime_counts(row))} for row in rows}


def provider_api_uptimes(provider_ids: Iterable[int], since: datetime) -> dict[int, dict]:
    """Each provider's API uptime (its checks with no mapping) since `since`, by provider id (one query)."""
    rows = (
        HourlyHealth.objects.filter(provider_id__in=list(provider_ids), mapping__isnull=True, hour__gte=since)
        .values("provider_id")
        .annotate(**{name: Sum(name) for name in COUNT_FIELDS})
        .order_by()
    )
    return {row["provider_id"]: uptime_figures(uptime_counts(row)) for row in rows}


def provider_uptime_label(figure: dict | None, window: str) -> dict | None:
    """A provider's API uptime as shown beside one of its offers: scoped, so it is never read as the offer's."""
    if figure is None or figure["uptime"] is None:
        return None
    return {"scope": PROVIDER_SCOPE, "uptime": figure["uptime"], "samples": figure["samples"], "window": window}
