"""Management commands (sync with progress, export byte for byte, prune) and the declared schedules."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from snapshots.models import Batch, Blob
from snapshots.schedules import SCHEDULES
from snapshots.tasks import snapshot_retry_task, snapshot_sync_task

pytestmark = pytest.mark.django_db


def test_snapshot_sync_command_reports_the_batch(replay):
    out, err = io.StringIO(), io.StringIO()
    call_command("snapshot_sync", base_url=replay.url, stdout=out, stderr=err)
    batch = Batch.objects.get()
    assert batch.complete and batch.hour == timezone.now().replace(minute=0, second=0, microsecond=0)
    assert f"batch {batch.pk}" in out.getvalue() and "complete" in out.getvalue()
    assert "endpoints" in err.getvalue()  # the progress bar


def test_snapshot_export_writes_the_exact_bytes(sync, replay, tmp_path):
    batch = sync(0)
    call_command("snapshot_export", batch.hour.isoformat(), out=str(tmp_path), stdout=io.StringIO())
    index = json.loads((tmp_path / "index.json").read_text())
    assert len(index["responses"]) == len(replay.served)
    for record in index["responses"]:
        body = (tmp_path / record["file"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == record["sha256"] == replay.served[record["path"]]


def test_snapshot_prune_keeps_every_column_block_and_says_why(sync, catalogue):
    old = sync(0)
    catalogue.hour += 1
    recent = sync(1)
    this_hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    Batch.objects.filter(pk=old.pk).update(hour=this_hour - dt.timedelta(days=40))
    Batch.objects.filter(pk=recent.pk).update(hour=this_hour - dt.timedelta(days=2))
    blobs = Blob.objects.count()
    out = io.StringIO()
    call_command("snapshot_prune", days=30, stdout=out)
    assert Blob.objects.count() == blobs
    assert Batch.objects.filter(volatile__isnull=False).count() == 2
    assert "nothing to prune" in out.getvalue()


def test_schedules_are_declared_by_name():
    names = {s["name"]: s for s in SCHEDULES}
    assert names["snapshots-sync-hourly"]["func"] == "snapshots.tasks.snapshot_sync_task"
    assert names["snapshots-sync-hourly"]["schedule_type"] == "H"
    assert names["snapshots-sync-hourly"]["next_run"].minute == 5
    assert "snapshots-prune-daily" not in names  # volatile figures are kept whole: nothing to prune


def test_the_half_past_retry_is_declared():
    names = {s["name"]: s for s in SCHEDULES}
    assert names["snapshots-sync-retry"]["func"] == "snapshots.tasks.snapshot_retry_task"
    assert names["snapshots-sync-retry"]["next_run"].minute == 35


def test_the_retry_leaves_a_complete_hour_alone_and_completes_a_failed_one(replay, settings):
    settings.SNAPSHOTS_BASE_URL, settings.SNAPSHOTS_BACKOFF, settings.SNAPSHOTS_RETRIES = replay.url, 0.01, 1
    path = "/api/v1/models?output_modalities=all"
    replay.catalogue.fail(path, 500)  # the first sync's model list fails: the hour ends incomplete
    first = Batch.objects.get(pk=snapshot_sync_task())
    assert not first.complete
    replay.catalogue.faults.clear()  # OpenRouter answers again before half past
    retried = Batch.objects.get(pk=snapshot_retry_task())
    assert retried.pk == first.pk and retried.complete
    served = len(replay.requests)
    assert snapshot_retry_task() == first.pk and len(replay.requests) == served  # complete: not one request
