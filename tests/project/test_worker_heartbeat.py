"""On the embedded default (ORM broker, local-memory cache) `/api/health` sees the worker through its heartbeat row.

A real `manage.py qcluster` runs against the test database with the embedded default (no REDIS_URL): its worker
stamps the row as it starts, and health (whose own cache cannot see the cluster's stats) calls the worker running.
The every-minute schedule keeps it fresh through django-q2's scheduler. A stale row is "not running".
"""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule
from django_q.scheduler import scheduler

from modelgraph.heartbeat import FRESH_SECONDS, cluster_name
from modelgraph.models import ApiKey, WorkerHeartbeat
from modelgraph.schedules import PREFIX, schedules_sync

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def start_qcluster():
    """Starts `manage.py qcluster` on the embedded default (no REDIS_URL: ORM broker, local-memory cache), as bin/start
    does, against the test database; stops it (SIGTERM) after the test."""
    started = []

    def start() -> subprocess.Popen:
        env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
        env.update(DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="modelgraph.settings.base", Q_WORKERS="1")
        command = [sys.executable, "manage.py", "qcluster"]
        started.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        return started[-1]

    yield start
    for process in started:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def admin_key(db) -> str:
    raw = ApiKey.generate()
    ApiKey.objects.create(name="ops", prefix=raw[:10], key_hash=ApiKey.hash(raw))
    return raw


def worker_check(client, settings, admin_key) -> dict:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}  # the test settings run tasks in-process
    return client.get("/api/health", HTTP_AUTHORIZATION=f"Bearer {admin_key}").json()["checks"]["worker"]


@pytest.mark.django_db(transaction=True)
def test_a_started_qcluster_beats_and_health_says_running(start_qcluster, client, settings, admin_key):
    assert worker_check(client, settings, admin_key)["detail"] == "not running"  # no cluster, no beat
    qcluster = start_qcluster()
    deadline = time.monotonic() + 30
    while not WorkerHeartbeat.objects.filter(cluster=cluster_name()).exists():
        assert qcluster.poll() is None, qcluster.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no heartbeat from the cluster's worker within 30 s"
        time.sleep(0.25)
    worker = worker_check(client, settings, admin_key)
    assert (worker["status"], worker["detail"]) == ("ok", "running")
    assert 0 <= worker["heartbeat_age_s"] < FRESH_SECONDS
    assert client.get("/api/health").json()["checks"]["worker"] == {"status": "ok"}  # anonymous: status only


@pytest.mark.django_db
def test_the_heartbeat_schedule_beats_through_django_q2():
    """The every-minute schedule as django-q2's scheduler runs it (the test settings execute its task in-process)."""
    schedules_sync()
    schedule = Schedule.objects.get(name=PREFIX + "worker-heartbeat")
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1)
    Schedule.objects.filter(pk=schedule.pk).update(next_run=timezone.now() - dt.timedelta(seconds=1))
    scheduler()
    beat = WorkerHeartbeat.objects.get(cluster=cluster_name())
    assert (timezone.now() - beat.beat_at).total_seconds() < 10
    assert Schedule.objects.get(pk=schedule.pk).next_run > timezone.now()  # and it is due again in a minute


@pytest.mark.django_db(transaction=True)  # health reads in a thread of its own: committed rows only
def test_a_stale_heartbeat_is_not_running(client, settings, admin_key):
    WorkerHeartbeat.objects.create(
        cluster=cluster_name(), beat_at=timezone.now() - dt.timedelta(seconds=FRESH_SECONDS + 5)
    )
    worker = worker_check(client, settings, admin_key)
    assert (worker["status"], worker["detail"]) == ("degraded", "not running")
    assert worker["heartbeat_age_s"] > FRESH_SECONDS
