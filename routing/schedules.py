"""The gateway's django-q2 schedules, declared in code and synced by name (modelgraph.schedules)."""

from __future__ import annotations

from django.conf import settings
from django_q.models import Schedule

SCHEDULES = [
    {
        # Offers and providers whose cooldown is over are probed even when no request comes to find them.
        "name": "routing-probe-due",
        "func": "routing.tasks.probe_due",
        "schedule_type": Schedule.MINUTES,
        "minutes": settings.ROUTING_PROBE_SCHEDULE_MINUTES,
        "repeats": -1,
    },
]
