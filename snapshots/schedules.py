"""The archive's django-q2 schedules: a sync at minute 5 of every hour, and at minute 35 a retry of an hour whose
batch is not complete (a killed, failed or incomplete sync is not a lost hour).

No pruning: volatile figures are column blocks of a few bytes per endpoint-hour, kept for the whole history.
"""

import datetime as dt

from django.utils import timezone


def next_minute(minute: int, now: dt.datetime | None = None) -> dt.datetime:
    now = now or timezone.now()
    run = now.astimezone(dt.UTC).replace(minute=minute, second=0, microsecond=0)
    return run if run > now else run + dt.timedelta(hours=1)


SCHEDULES = [
    {
        "name": "snapshots-sync-hourly",
        "func": "snapshots.tasks.snapshot_sync_task",
        "schedule_type": "H",  # hourly, anchored at minute 5 by next_run
        "repeats": -1,
        "next_run": next_minute(5),
    },
    {
        "name": "snapshots-sync-retry",
        "func": "snapshots.tasks.snapshot_retry_task",
        "schedule_type": "H",
        "repeats": -1,
        "next_run": next_minute(35),
    },
]
