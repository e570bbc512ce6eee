"""How a run reads to an operator: its real counts, a one-line error, and whether a queued run waits for a worker."""

from __future__ import annotations

import datetime as dt
import html
import re

from django.utils import timezone
from django.utils.html import strip_tags

from ingestion.models import IngestionRun, RunStatus
from ingestion.services import QUEUED
from modelgraph.heartbeat import FRESH_SECONDS, heartbeat_age

# A queued run is given this long before it is reported as not taken by any worker.
QUEUE_GRACE_SECONDS = 30
ERROR_LINE_MAX = 160

# The counts a run's details hold, in the order they are shown (the three columns come first).
_COUNT_LABELS = {
    "models_added": "models added",
    "models_updated": "models updated",
    "aliases_added": "aliases added",
    "offers_added": "offers added",
    "offers_updated": "offers updated",
    "misfiled_removed": "misfiled offers removed",
    "observations": "observations",
    "statements": "price rows read",
    "matched": "matched",
    "unmatched": "unmatched",
}


def error_line(message: str, *, limit: int = ERROR_LINE_MAX) -> str:
    """An error as one clean line: markup stripped (an upstream HTML error page), the first non-empty line,
    whitespace collapsed, at most `limit` characters."""
    if not message:
        return ""
    text = html.unescape(strip_tags(re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", message)))
    line = next((" ".join(part.split()) for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def run_counts(run: IngestionRun) -> list[tuple[str, int]]:
    """The non-zero counts of a run: its model and alias columns, then what its details counted (offers, prices)."""
    values: dict[str, int] = {
        "models_added": run.models_added,
        "models_updated": run.models_updated,
        "aliases_added": run.aliases_added,
    }
    for key, value in (run.details or {}).items():
        if isinstance(value, int) and not isinstance(value, bool) and key not in values:
            values[key] = value
    ordered = [key for key in _COUNT_LABELS if key in values] + sorted(k for k in values if k not in _COUNT_LABELS)
    return [(_COUNT_LABELS.get(key, key.replace("_", " ")), values[key]) for key in ordered if values[key] > 0]


def run_counts_text(run: IngestionRun) -> str:
    return ", ".join(f"{value} {label}" for label, value in run_counts(run)) or "nothing changed"


def worker_running() -> bool:
    """Whether a django-q2 worker beat recently (modelgraph.heartbeat)."""
    age = heartbeat_age()
    return age is not None and age <= FRESH_SECONDS


def queue_note(run: IngestionRun, *, now: dt.datetime | None = None, worker: bool | None = None) -> str:
    """For a run still waiting for a worker: "queued", then after a short grace "queued — no worker has taken it"
    (saying whether any worker is running). Empty for a run a worker took or that ended."""
    if run.status != RunStatus.RUNNING or not (run.details or {}).get(QUEUED):
        return ""
    waited = ((now or timezone.now()) - run.started_at).total_seconds()
    if waited < QUEUE_GRACE_SECONDS:
        return "queued"
    worker = worker_running() if worker is None else worker
    why = "no worker is running" if not worker else "the workers are busy"
    return f"queued — no worker has taken it ({why}; it does not block a later run)"
