"""Reads for `/status`: every ingestion source (run or not), the telemetry probe rounds and the snapshot syncs.

A fixed number of queries whatever the number of runs, probes or batches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils import timezone

from ingestion.models import IngestionRun, RunStatus, Tier
from ingestion.prices.sources import PRICE_SOURCES
from ingestion.run_report import error_line, queue_note, run_counts_text, worker_running
from ingestion.selectors import ingestion_latest_runs
from ingestion.sources import SOURCES
from snapshots.models import Batch
from telemetry.classification import Outcome
from telemetry.models import HealthCheck, LatencySample

# Probes of one round are taken within this long of the round's last probe (health every 5 min, latency every 15).
ROUND_SPAN = {"health": dt.timedelta(minutes=2), "latency": dt.timedelta(minutes=5)}
BATCHES_SHOWN = 6


@dataclass
class SourceStatus:
    name: str
    tier: str
    run: IngestionRun | None
    state: str = ""  # "never run", a queue note, or the run's status
    counts: str = ""
    error: str = ""


@dataclass
class ProbeRound:
    kind: str
    at: dt.datetime | None = None
    probes: int = 0
    failures: int = 0
    excluded: int = 0


@dataclass
class BatchStatus:
    batch: Batch
    events: int
    counts: str
    error: str = ""


def source_statuses(now: dt.datetime | None = None) -> list[SourceStatus]:
    """Every listing source and price feed, by name, with its latest run if it ever ran ("never run" if not)."""
    latest = {run.source: run for run in ingestion_latest_runs()}
    adapters = {**SOURCES, **PRICE_SOURCES}
    worker: bool | None = None
    rows = []
    for name in sorted({*adapters, *latest}):
        adapter = adapters.get(name)
        run = latest.get(name)
        tier = Tier(adapter.tier).label if adapter is not None else (run.get_tier_display() if run else "")
        row = SourceStatus(name=name, tier=tier, run=run)
        if run is None:
            row.state = "never run"
        else:
            if run.status == RunStatus.RUNNING and run.details.get("queued") and worker is None:
                worker = worker_running()  # one heartbeat read for the page, and only when a run waits
            row.state = queue_note(run, now=now, worker=worker) or run.get_status_display()
            row.counts = "—" if run.status == RunStatus.RUNNING else run_counts_text(run)
            row.error = error_line(run.error_message)
        rows.append(row)
    return rows


def probe_rounds() -> list[ProbeRound]:
    """The latest health round and the latest latency round: when, how many probes, how many failed."""
    rounds = []
    for kind, model in (("health", HealthCheck), ("latency", LatencySample)):
        last = model.objects.aggregate(at=Max("checked_at"))["at"]
        found = ProbeRound(kind=kind, at=last)
        if last is not None:
            counts = model.objects.filter(checked_at__gt=last - ROUND_SPAN[kind], checked_at__lte=last).aggregate(
                probes=Count("pk"),
                failures=Count("pk", filter=Q(outcome=Outcome.FAILURE)),
                excluded=Count("pk", filter=~Q(outcome__in=[Outcome.SUCCESS, Outcome.FAILURE])),
            )
            found.probes, found.failures, found.excluded = counts["probes"], counts["failures"], counts["excluded"]
        rounds.append(found)
    return rounds


def _batch_error(batch: Batch) -> str:
    failures = (batch.validation or {}).get("endpoints", {}).get("failures") or []
    if not failures:
        return ""
    first = failures[0]
    return error_line(f"{first.get('path', '')}: {first.get('error') or first.get('status')}")


def snapshot_syncs(limit: int = BATCHES_SHOWN) -> list[BatchStatus]:
    """The latest snapshot batches, newest first: hour, complete or not, responses, entities seen and events."""
    rows = []
    for batch in Batch.objects.defer("manifest").annotate(event_total=Count("events")).order_by("-hour")[:limit]:
        stats = batch.stats or {}
        seen = [(k.removesuffix("s_seen") + "s", stats[k]) for k in ("models_seen", "endpoints_seen") if k in stats]
        counts = ", ".join([f"{stats.get('responses', 0)} responses", *(f"{v} {k}" for k, v in seen)])
        rows.append(BatchStatus(batch=batch, events=batch.event_total, counts=counts, error=_batch_error(batch)))
    return rows


def status_page(now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    return {"sources": source_statuses(now), "rounds": probe_rounds(), "batches": snapshot_syncs(), "now": now}
