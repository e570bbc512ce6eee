"""Lifecycle rules of offers and aliases: a retirement date and the status beside it must tell one story.

An offer or a dated alias retired on a day that has passed says so in its status (retired, or deprecated while a
curator confirms); a retirement still to come may sit beside any status, but a status of "retired" ahead of its own
retirement date is only a warning (the provider may have pulled it early).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from registry.schema_messages import path_text

if TYPE_CHECKING:  # registry.validation runs these checks: imported for types only
    from registry.validation import RegistryFile, ValidationReport

ENDED = frozenset({"retired", "deprecated"})


def _check_entry(
    report: ValidationReport, file: RegistryFile, entry: dict, path: tuple, what: str, today: dt.date
) -> None:
    raw = entry.get("retirement_date")
    if raw is None:
        return
    try:
        retired_on = dt.date.fromisoformat(raw)
    except (TypeError, ValueError):
        return  # not a date of the calendar: registry/values.py reports it
    status = entry.get("status", "active")
    line = file.line_of(*path, "retirement_date")
    where = path_text(path)
    if retired_on <= today and status not in ENDED:
        report.add(
            file,
            line,
            f"{where}.retirement_date: {what} retired on {raw} but its status is {status!r}: "
            "write status: retired (or deprecated)",
        )
    elif retired_on > today and status == "retired":
        report.warn(file, line, f"{where}.status: {what} is 'retired' before its retirement_date {raw}")
    elif retired_on > today and status not in ENDED:
        report.warn(
            file,
            line,
            f"{where}.status: {what} retires on {raw} but its status is {status!r}: write status: deprecated, "
            "or this becomes an error on that day",
        )


def check_lifecycle(report: ValidationReport, *, today: dt.date | None = None) -> None:
    """Offers' and aliases' retirement dates against their status (errors at FILE:LINE, warnings for the unsure)."""
    today = today or dt.date.today()
    for file in report.of_kind("mapping"):
        for index, offer in enumerate(file.data["offers"]):
            _check_entry(report, file, offer, ("offers", index), f"offer {offer['provider_model_id']!r}", today)
    for file in report.of_kind("model"):
        for index, entry in enumerate(file.data.get("aliases", [])):
            if isinstance(entry, dict):
                _check_entry(report, file, entry, ("aliases", index), f"alias {entry['alias']!r}", today)
