"""django-q2 schedules are declared in code (each app's `schedules.SCHEDULES`) and synced by name."""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.db import transaction

PREFIX = "modelgraph:"

# The core's own: the worker heartbeat that `/api/health` reads (modelgraph/heartbeat.py).
SCHEDULES = [
    {
        "name": "worker-heartbeat",
        "func": "modelgraph.heartbeat.worker_heartbeat",
        "schedule_type": "I",  # every `minutes` minutes
        "minutes": 1,
        "repeats": -1,
    },
]


def declared_schedules() -> list[dict]:
    """Every schedule the installed apps declare, each a dict of django_q Schedule fields with a `name`."""
    declared = []
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.schedules")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.schedules":
                raise
            continue
        declared.extend(getattr(module, "SCHEDULES", []))
    return declared


@transaction.atomic
def schedules_sync() -> tuple[list[str], list[str]]:
    """Create or update every declared schedule by name and delete ours that are no longer declared."""
    from django_q.models import Schedule

    names = []
    for spec in declared_schedules():
        spec = dict(spec)
        name = spec.pop("name")
        if not name.startswith(PREFIX):
            name = PREFIX + name
        Schedule.objects.update_or_create(name=name, defaults=spec)
        names.append(name)
    stale = list(
        Schedule.objects.filter(name__startswith=PREFIX).exclude(name__in=names).values_list("name", flat=True)
    )
    Schedule.objects.filter(name__in=stale).delete()
    return names, stale
