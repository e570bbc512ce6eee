"""Hourly roll-ups: recompute whole hours from raw rows and upsert them, so re-running an hour is harmless."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection

from telemetry.classification import Outcome
from telemetry.models import DailyLatency, HealthCheck, HourlyHealth, HourlyLatency, LatencySample
from telemetry.percentiles import histogram_merge, histogram_of

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
_BATCH = 500
_COUNT_FIELD = {
    Outcome.SUCCESS: "successes",
    Outcome.FAILURE: "failures",
    Outcome.EXCLUDED: "excluded",
}


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def floor_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def hour_spans(hours: Iterable[datetime], max_hours: int = 24) -> list[tuple[datetime, datetime]]:
    """Collapse hours into contiguous [start, end) spans of at most `max_hours`, one raw-row query each."""
    spans: list[list[datetime]] = []
    for hour in sorted({floor_hour(h) for h in hours}):
        if spans and spans[-1][1] == hour and (hour - spans[-1][0]) < max_hours * HOUR:
            spans[-1][1] = hour + HOUR
        else:
            spans.append([hour, hour + HOUR])
    return [(start, end) for start, end in spans]


def _upsert(model, rows: list[dict], conflict: list[str], where: str = "") -> None:
    """INSERT … ON CONFLICT DO UPDATE (PostgreSQL and SQLite), values prepared by each field for this backend."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in rows[0]]
    columns = [field.column for field in fields]
    conflict_columns = {model._meta.get_field(name).column for name in conflict}
    quote = connection.ops.quote_name
    target = ", ".join(quote(c) for c in sorted(conflict_columns))
    updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in columns if c not in conflict_columns)
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _BATCH):
            batch = rows[start : start + _BATCH]
            params = [field.get_db_prep_save(row[field.name], connection) for row in batch for field in fields]
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) "
                f"VALUES {', '.join([row_sql] * len(batch))} "
                f"ON CONFLICT ({target}) {where} DO UPDATE SET {updates}",
                params,
            )


def _counts() -> dict:
    return {"successes": 0, "failures": 0, "excluded": 0}


def _of_providers(rows, provider_ids):
    return rows if provider_ids is None else rows.filter(provider_id__in=list(provider_ids))


def rollup_health_span(start: datetime, end: datetime, provider_ids=None) -> int:
    """Recompute HourlyHealth for every provider (or these) and their mappings with checks in [start, end)."""
    buckets: dict[tuple, dict] = defaultdict(lambda: {**_counts(), "response_ms_sum": 0.0, "response_ms_count": 0})
    rows = _of_providers(HealthCheck.objects.filter(checked_at__gte=start, checked_at__lt=end), provider_ids)
    rows = rows.values_list("provider_id", "mapping_id", "checked_at", "outcome", "response_ms")
    for provider_id, mapping_id, checked_at, outcome, response_ms in rows.iterator(chunk_size=5000):
        if outcome not in _COUNT_FIELD:
            continue  # not-configured rows are no longer written; older ones say nothing about the provider
        bucket = buckets[(provider_id, mapping_id, floor_hour(checked_at))]
        bucket[_COUNT_FIELD[outcome]] += 1
        if outcome == Outcome.SUCCESS and response_ms is not None:
            bucket["response_ms_sum"] += response_ms
            bucket["response_ms_count"] += 1
    by_provider, by_mapping = [], []
    for (provider_id, mapping_id, hour), values in buckets.items():
        row = {"provider": provider_id, "mapping": mapping_id, "hour": hour, **values}
        (by_mapping if mapping_id else by_provider).append(row)
    _upsert(HourlyHealth, by_mapping, ["mapping", "hour"])
    # Provider-level rows have no mapping: their unique index is partial, so the conflict target names its predicate.
    _upsert(HourlyHealth, by_provider, ["provider", "hour"], where="WHERE mapping_id IS NULL")
    return len(buckets)


def rollup_latency_span(start: datetime, end: datetime, provider_ids=None) -> int:
    """Recompute HourlyLatency (counts, sums, TTFT and total-time histograms of successes) in [start, end)."""
    buckets: dict[tuple, dict] = defaultdict(
        lambda: {"counts": _counts(), "ttft": [], "total": [], "tokens": 0, "tps": []}
    )
    rows = _of_providers(LatencySample.objects.filter(checked_at__gte=start, checked_at__lt=end), provider_ids)
    rows = rows.values_list(
        "provider_id",
        "mapping_id",
        "checked_at",
        "outcome",
        "ttft_ms",
        "total_ms",
        "output_tokens",
        "tokens_per_second",
    )
    for provider_id, mapping_id, checked_at, outcome, ttft, total, tokens, tps in rows.iterator(chunk_size=5000):
        if outcome not in _COUNT_FIELD:
            continue
        bucket = buckets[(provider_id, mapping_id, floor_hour(checked_at))]
        bucket["counts"][_COUNT_FIELD[outcome]] += 1
        if outcome != Outcome.SUCCESS:
            continue  # percentiles describe answers that worked; failures are counted above
        if ttft is not None:
            bucket["ttft"].append(ttft)
        if total is not None:
            bucket["total"].append(total)
        bucket["tokens"] += tokens or 0
        if tps is not None:
            bucket["tps"].append(tps)
    rows_out = [
        {
            "provider": provider_id,
            "mapping": mapping_id,
            "hour": hour,
            **b["counts"],
            "ttft_count": len(b["ttft"]),
            "ttft_ms_sum": sum(b["ttft"]),
            "total_count": len(b["total"]),
            "total_ms_sum": sum(b["total"]),
            "output_tokens_sum": b["tokens"],
            "tps_count": len(b["tps"]),
            "tps_sum": sum(b["tps"]),
            "ttft_histogram": histogram_of(b["ttft"]),
            "total_histogram": histogram_of(b["total"]),
        }
        for (provider_id, mapping_id, hour), b in buckets.items()
    ]
    _upsert(HourlyLatency, rows_out, ["mapping", "hour"])
    return len(rows_out)


# The additive columns of a latency roll-up: summed when hours become days and days become windows.
SUMMED = (
    "successes",
    "failures",
    "excluded",
    "ttft_count",
    "ttft_ms_sum",
    "total_count",
    "total_ms_sum",
    "output_tokens_sum",
    "tps_count",
    "tps_sum",
)


def rollup_latency_day(day: datetime, provider_ids=None) -> int:
    """Merge one UTC day's HourlyLatency rows into DailyLatency (sums added, histograms merged)."""
    merged: dict[int, dict] = {}
    rows = _of_providers(HourlyLatency.objects.filter(hour__gte=day, hour__lt=day + DAY), provider_ids)
    rows = rows.values("provider_id", "mapping_id", *SUMMED, "ttft_histogram", "total_histogram")
    for row in rows.iterator(chunk_size=5000):
        into = merged.setdefault(
            row["mapping_id"],
            {
                "provider": row["provider_id"],
                "mapping": row["mapping_id"],
                "day": day,
                **dict.fromkeys(SUMMED, 0),
                "ttft_histogram": [],
                "total_histogram": [],
            },
        )
        for name in SUMMED:
            into[name] += row[name]
        into["ttft_histogram"].append(row["ttft_histogram"])
        into["total_histogram"].append(row["total_histogram"])
    for into in merged.values():
        into["ttft_histogram"] = histogram_merge(into["ttft_histogram"])
        into["total_histogram"] = histogram_merge(into["total_histogram"])
    _upsert(DailyLatency, list(merged.values()), ["mapping", "day"])
    return len(merged)
