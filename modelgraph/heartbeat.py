"""The django-q2 worker's heartbeat: proof, in the database, that a worker is taking tasks.

django-q2 keeps its cluster stats in the cache; on the embedded default that is a local-memory cache the web
process cannot see, so `/api/health` would call a running worker "not running". Instead a schedule
(modelgraph/schedules.py, every minute) queues `worker_heartbeat`; a worker running it stamps the cluster's row.
A stamp younger than FRESH_SECONDS means the whole path works: scheduler, broker and a worker. Each worker also
stamps the row as it starts (django-q2's `post_spawn`), so health is right from the cluster's first seconds, not
only once the scheduler's first look (30 s after start) has queued a beat.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

logger = logging.getLogger(__name__)

# The schedule runs every minute and django-q2's scheduler looks every ~30 s: three missed minutes mean no worker.
FRESH_SECONDS = 180


def cluster_name() -> str:
    return settings.Q_CLUSTER.get("name", "default")


def worker_heartbeat() -> None:
    """The scheduled task: stamp this cluster's heartbeat row with the time now."""
    from modelgraph.models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(cluster=cluster_name(), defaults={"beat_at": timezone.now()})


def worker_spawned(sender, proc_name: str = "", **kwargs) -> None:
    """django-q2's `post_spawn` receiver (connected in ModelgraphConfig.ready): a worker that starts beats once."""
    try:
        worker_heartbeat()
    except DatabaseError as exc:  # a heartbeat that cannot be written must not stop the worker
        logger.warning("worker heartbeat not written at spawn of %s: %s", proc_name, exc)


def heartbeat_age() -> float | None:
    """Seconds since this cluster's worker last beat, or None if it never did."""
    from modelgraph.models import WorkerHeartbeat

    beat_at = WorkerHeartbeat.objects.filter(cluster=cluster_name()).values_list("beat_at", flat=True).first()
    return None if beat_at is None else (timezone.now() - beat_at).total_seconds()
