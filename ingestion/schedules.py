"""Ingestion's django-q2 schedules: every source daily at 02:00 UTC, the price feeds daily at 02:30 UTC."""

import datetime as dt

from django.utils import timezone


def next_0200_utc(now: dt.datetime | None = None, *, minute: int = 0) -> dt.datetime:
    now = now or timezone.now()
    run = now.astimezone(dt.UTC).replace(hour=2, minute=minute, second=0, microsecond=0)
    return run if run > now else run + dt.timedelta(days=1)


SCHEDULES = [
    {
        "name": "ingest-all-daily",
        "func": "ingestion.tasks.ingest_all",
        "schedule_type": "D",  # daily, anchored at 02:00 UTC by next_run
        "repeats": -1,
        "next_run": next_0200_utc(),
    },
    {
        # After the listings, so the offers they add are there to be priced.
        "name": "ingest-price-feeds-daily",
        "func": "ingestion.prices.runs.price_feeds_run_all",
        "schedule_type": "D",
        "repeats": -1,
        "next_run": next_0200_utc(minute=30),
    },
]
