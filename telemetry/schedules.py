"""Telemetry's django-q2 schedules, declared in code and synced by name (modelgraph.schedules)."""

from __future__ import annotations

from django.db import transaction
from django_q.models import Schedule

SCHEDULES = [
    {
        "name": "telemetry-probe-health",
        "func": "telemetry.tasks.probe_health",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
        "repeats": -1,
    },
    {
        "name": "telemetry-probe-latency",
        "func": "telemetry.tasks.probe_latency",
        "schedule_type": Schedule.MINUTES,
        "minutes": 15,
        "repeats": -1,
    },
    # The ranking window moves every hour: summaries of the hour that left it are recomputed within a minute (until
    # then they are read from the roll-ups, slower). Two cheap queries when every summary is current.
    {
        "name": "telemetry-refresh-summaries",
        "func": "telemetry.tasks.refresh_summaries",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {"name": "telemetry-purge", "func": "telemetry.tasks.purge", "schedule_type": Schedule.DAILY, "repeats": -1},
]


@transaction.atomic
def sync_schedules() -> list[str]:
    """Create or update telemetry's schedules by name (the project-wide `sync_schedules` command also does this)."""
    from modelgraph.schedules import PREFIX

    names = []
    for spec in SCHEDULES:
        spec = dict(spec)
        name = PREFIX + spec.pop("name")
        Schedule.objects.update_or_create(name=name, defaults=spec)
        names.append(name)
    return names
