"""Telemetry roll-ups written straight into the hourly and daily tables, for page tests and bench/pages.py."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.utils import timezone

from catalog.models import Mapping
from telemetry.models import HourlyHealth, HourlyLatency
from telemetry.percentiles import histogram_of
from telemetry.rollups import floor_day, floor_hour, rollup_latency_day

CHECKS_PER_HOUR = 12  # a health check every 5 minutes
SAMPLES_PER_HOUR = 4  # a latency probe every 15 minutes


def seed_telemetry(mappings: list[Mapping], *, hours: int = 48, now: datetime | None = None, seed: int = 7) -> None:
    """Hourly health of each offer's provider API and latency of each offer over the last `hours`, then the daily
    latency roll-ups merged from them. Each offer gets its own speed, so rankings and charts differ."""
    rng = random.Random(seed)
    last = floor_hour(now or timezone.now())
    health, latency = [], []
    for provider_id in sorted({m.provider_id for m in mappings}):
        flaky = rng.random() * 0.08
        for i in range(hours):
            failures = sum(rng.random() < flaky for _ in range(CHECKS_PER_HOUR))
            health.append(
                HourlyHealth(
                    provider_id=provider_id,
                    hour=last - timedelta(hours=i),
                    successes=CHECKS_PER_HOUR - failures,
                    failures=failures,
                    response_ms_sum=150.0 * (CHECKS_PER_HOUR - failures),
                    response_ms_count=CHECKS_PER_HOUR - failures,
                )
            )
    for mapping in mappings:
        base = rng.uniform(150, 900)
        for i in range(hours):
            ttfts = [base * rng.lognormvariate(0, 0.35) for _ in range(SAMPLES_PER_HOUR)]
            totals = [ttft + rng.uniform(300, 2500) for ttft in ttfts]
            failures = int(rng.random() < 0.05)
            speeds = [16 / ((total - ttft) / 1000) for ttft, total in zip(ttfts, totals, strict=True)]
            latency.append(
                HourlyLatency(
                    provider_id=mapping.provider_id,
                    mapping_id=mapping.pk,
                    hour=last - timedelta(hours=i),
                    successes=SAMPLES_PER_HOUR,
                    failures=failures,
                    ttft_count=SAMPLES_PER_HOUR,
                    ttft_ms_sum=sum(ttfts),
                    total_count=SAMPLES_PER_HOUR,
                    total_ms_sum=sum(totals),
                    output_tokens_sum=16 * SAMPLES_PER_HOUR,
                    tps_count=SAMPLES_PER_HOUR,
                    tps_sum=sum(speeds),
                    ttft_histogram=histogram_of(ttfts),
                    total_histogram=histogram_of(totals),
                )
            )
    HourlyHealth.objects.bulk_create(health, batch_size=2000, ignore_conflicts=True)  # providers seeded before
    HourlyLatency.objects.bulk_create(latency, batch_size=2000)
    day, first = floor_day(last), floor_day(last - timedelta(hours=hours - 1))
    while day >= first:
        rollup_latency_day(day, provider_ids={m.provider_id for m in mappings})
        day -= timedelta(days=1)
