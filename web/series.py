"""Telemetry time series for the charts: uptime and latency percentiles per hour or day, read from the roll-ups.

Each series is a constant number of queries whatever the number of offers or hours: counts are summed and
histograms merged per bucket by the database (PostgreSQL), or merged in Python on the embedded SQLite.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from telemetry.models import DailyLatency, HourlyHealth, HourlyLatency
from telemetry.percentiles import Histogram, bucket_value, histogram_merge, histogram_percentiles
from telemetry.rollups import floor_day, floor_hour

QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """A chart window: `since` is the first bucket, `step` the bucket width (hourly up to a week, then daily)."""

    key: str
    label: str
    since: datetime
    until: datetime
    step: timedelta

    @property
    def daily(self) -> bool:
        return self.step == DAY


WINDOWS = {
    "24h": ("last 24 hours", timedelta(hours=24)),
    "7d": ("last 7 days", timedelta(days=7)),
    "30d": ("last 30 days", timedelta(days=30)),
}
DEFAULT_WINDOW = "7d"


def window_get(key: str | None, now: datetime | None = None) -> Window:
    key = key if key in WINDOWS else DEFAULT_WINDOW
    label, span = WINDOWS[key]
    now = now or timezone.now()
    if span > timedelta(days=7):
        return Window(key, label, floor_day(now - span) + DAY, floor_day(now), DAY)
    return Window(key, label, floor_hour(now - span) + HOUR, floor_hour(now), HOUR)


@dataclass(frozen=True)
class UptimePoint:
    start: datetime
    successes: int
    failures: int

    @property
    def uptime(self) -> float | None:
        trials = self.successes + self.failures
        return self.successes / trials if trials else None


def uptime_series(window: Window, *, provider_id: int, mapping_id: int | None = None) -> list[UptimePoint]:
    """Uptime per bucket: of a provider's API, or of one offer (its own health checks plus its latency probes)."""
    kind = "day" if window.daily else "hour"
    sources = [HourlyHealth.objects.filter(provider_id=provider_id, mapping__isnull=True)]
    if mapping_id is not None:
        # An offer's own health checks and its latency probes both say whether it answered.
        sources = [model.objects.filter(mapping_id=mapping_id) for model in (HourlyHealth, HourlyLatency)]
    buckets: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for rows in sources:
        rows = rows.filter(hour__gte=window.since).annotate(bucket=Trunc("hour", kind)).values("bucket")
        for row in rows.annotate(s=Sum("successes"), f=Sum("failures")).order_by("bucket"):
            buckets[row["bucket"]][0] += row["s"] or 0
            buckets[row["bucket"]][1] += row["f"] or 0
    return [UptimePoint(start, s, f) for start, (s, f) in sorted(buckets.items())]


@dataclass(frozen=True)
class LatencyPoint:
    start: datetime
    samples: int
    percentiles: dict[str, float | None]


def latency_series(window: Window, *, provider_id: int, mapping_id: int | None = None) -> dict[str, list[LatencyPoint]]:
    """{"ttft": [...], "total": [...]}: p50/p90/p99 per bucket over every offer of a provider, or over one offer."""
    model, column = (DailyLatency, "day") if window.daily else (HourlyLatency, "hour")
    filters = {"provider_id": provider_id, f"{column}__gte": window.since}
    if mapping_id is not None:
        filters["mapping_id"] = mapping_id
    if connection.vendor == "postgresql":
        return _percentiles_postgres(model, column, filters)
    series: dict[str, list[LatencyPoint]] = {}
    for name, merged in _merged_portable(model, column, filters).items():
        points = []
        for start, histogram in sorted(merged.items()):
            values = histogram_percentiles(histogram, QUANTILES.values())
            points.append(LatencyPoint(start, sum(histogram.values()), {k: values[q] for k, q in QUANTILES.items()}))
        series[name] = points
    return series


def _percentiles_postgres(model, column: str, filters: dict) -> dict[str, list[LatencyPoint]]:
    """One query: histograms merged per time bucket and their nearest-rank percentiles found by the database, so
    a week of hourly buckets returns 2 x 168 rows instead of every histogram bucket."""
    conditions, params = [], []
    for name, value in filters.items():
        field, _, lookup = name.partition("__")
        if isinstance(value, datetime):
            value = connection.ops.adapt_datetimefield_value(value)
        conditions.append(f"h.{field} {'>=' if lookup == 'gte' else '='} %s")
        params.append(value)
    table, where = model._meta.db_table, " AND ".join(conditions)
    merged = " UNION ALL ".join(
        f"SELECT {index} AS which, h.{column} AS start, kv.key::int AS bucket, kv.value::bigint AS n FROM {table} h "
        f"CROSS JOIN LATERAL jsonb_each_text(h.{name}_histogram) AS kv(key, value) WHERE {where}"
        for index, name in enumerate(("ttft", "total"))
    )
    ranks = ", ".join(f"MIN(bucket) FILTER (WHERE seen >= GREATEST(1, CEIL({q} * total)))" for q in QUANTILES.values())
    sql = (
        f"WITH b AS (SELECT which, start, bucket, SUM(n) AS n FROM ({merged}) m GROUP BY 1, 2, 3), "
        "c AS (SELECT which, start, bucket, SUM(n) OVER (PARTITION BY which, start ORDER BY bucket) AS seen, "
        "SUM(n) OVER (PARTITION BY which, start) AS total FROM b) "
        f"SELECT which, start, MAX(total), {ranks} FROM c GROUP BY 1, 2 ORDER BY 1, 2"
    )
    series: dict[str, list[LatencyPoint]] = {"ttft": [], "total": []}
    with connection.cursor() as cursor:
        cursor.execute(sql, params * 2)
        for which, start, total, *buckets in cursor.fetchall():
            values = {k: bucket_value(b) if b is not None else None for k, b in zip(QUANTILES, buckets, strict=True)}
            series[("ttft", "total")[which]].append(LatencyPoint(start, int(total), values))
    return series


def _merged_portable(model, column: str, filters: dict) -> dict[str, dict[datetime, Histogram]]:
    merged: dict[str, dict[datetime, Histogram]] = {"ttft": {}, "total": {}}
    rows = model.objects.filter(**filters).values_list(column, "ttft_histogram", "total_histogram")
    for start, ttft, total in rows:
        merged["ttft"][start] = histogram_merge([merged["ttft"].get(start, {}), ttft])
        merged["total"][start] = histogram_merge([merged["total"].get(start, {}), total])
    return merged


def provider_overview(window: Window) -> list[dict]:
    """Every provider with telemetry in the window: its API uptime and how many checks it took (one query)."""
    rows = (
        HourlyHealth.objects.filter(mapping__isnull=True, hour__gte=window.since)
        .values("provider_id", "provider__slug", "provider__name")
        .annotate(s=Sum("successes"), f=Sum("failures"))
        .order_by("provider__name")
    )
    overview = []
    for row in rows:
        trials = (row["s"] or 0) + (row["f"] or 0)
        overview.append(
            {
                "provider_id": row["provider_id"],
                "slug": row["provider__slug"],
                "name": row["provider__name"],
                "uptime": (row["s"] or 0) / trials if trials else None,
                "samples": trials,
            }
        )
    return overview


def overview_window(window: Window) -> Window:
    """Several providers on one chart read best per day (hourly lines over a week are a thicket); a day stays
    hourly."""
    if window.step == DAY or window.until - window.since <= DAY:
        return window
    return Window(window.key, window.label, floor_day(window.since), floor_day(window.until), DAY)


def overview_uptime_series(window: Window, provider_ids: list[int]) -> dict[int, list[UptimePoint]]:
    """Uptime per bucket of several providers' APIs at once (one query), for the dashboard's overview chart."""
    kind = "day" if window.daily else "hour"
    rows = (
        HourlyHealth.objects.filter(mapping__isnull=True, provider_id__in=provider_ids, hour__gte=window.since)
        .annotate(bucket=Trunc("hour", kind))
        .values("provider_id", "bucket")
        .annotate(s=Sum("successes"), f=Sum("failures"))
        .order_by("provider_id", "bucket")
    )
    series: dict[int, list[UptimePoint]] = defaultdict(list)
    for row in rows:
        series[row["provider_id"]].append(UptimePoint(row["bucket"], row["s"] or 0, row["f"] or 0))
    return series
