"""The lease a sync holds on its hour's batch: claimed once, never taken from a live holder, taken over once it ran
out, lost (and nothing written) when another sync took it; `--force` reruns a complete hour."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from snapshots.lease import Lease, LeaseLost, SyncInProgress
from snapshots.models import Batch, Event
from tests.snapshots.conftest import HOUR0

pytestmark = pytest.mark.django_db
HOUR1 = HOUR0 + dt.timedelta(hours=1)


def hold(batch: Batch, *, seconds: float, owner: str = "elsewhere:4242:feedbeef") -> None:
    """Another sync's lease on `batch`, ending `seconds` from now (negative: it ran out that long ago)."""
    until = timezone.now() + dt.timedelta(seconds=seconds)
    running = {"status": Batch.Status.RUNNING, "complete": False}
    Batch.objects.filter(pk=batch.pk).update(**running, lease_owner=owner, lease_until=until)


class TestClaim:
    def test_a_new_hour_is_created_under_a_lease_of_the_set_length(self, settings):
        settings.SNAPSHOTS_LEASE_SECONDS = 45
        before = timezone.now()
        lease = Lease.claim(HOUR0, started_at=HOUR0)
        batch = Batch.objects.get(pk=lease.batch_id)
        assert batch.hour == HOUR0 and batch.status == Batch.Status.RUNNING and batch.attempts == 1
        assert batch.lease_owner == lease.owner and lease.owner.count(":") == 2
        assert before + dt.timedelta(seconds=45) <= batch.lease_until <= timezone.now() + dt.timedelta(seconds=45)

    def test_a_live_lease_is_never_taken_over_even_with_force(self, sync, replay):
        batch = sync(0)
        hold(batch, seconds=3600)
        with pytest.raises(SyncInProgress, match="held by elsewhere:4242:feedbeef until"):
            sync(0, minute=30, force=True)
        batch.refresh_from_db()
        assert batch.lease_owner == "elsewhere:4242:feedbeef" and batch.status == Batch.Status.RUNNING
        requests = len(replay.requests)
        with pytest.raises(SyncInProgress):
            sync(0, minute=40)
        assert len(replay.requests) == requests  # refused before fetching anything

    def test_the_command_reports_a_live_sync_as_an_error(self, replay):
        this_hour = timezone.now().replace(minute=0, second=0, microsecond=0)
        hold(Batch.objects.create(hour=this_hour, started_at=this_hour), seconds=3600)
        with pytest.raises(CommandError, match="already running"):
            call_command("snapshot_sync", base_url=replay.url, force=True, no_progress=True, stdout=io.StringIO())

    def test_a_lease_that_ran_out_is_taken_over_and_the_batch_finished(self, sync, catalogue):
        first = sync(0)
        catalogue.hour += 1
        crashed = Batch.objects.create(hour=HOUR1, started_at=HOUR1)
        hold(crashed, seconds=-1)
        resumed = sync(1, minute=50)
        assert resumed.pk == crashed.pk and resumed.complete and resumed.attempts == 2
        assert resumed.lease_owner == "" and resumed.lease_until is None
        assert Batch.objects.get(pk=first.pk).complete

    def test_a_complete_hour_is_left_alone_unless_forced(self, sync, replay):
        batch = sync(0)
        requests = len(replay.requests)
        assert sync(0, minute=20).attempts == 1 and len(replay.requests) == requests
        forced = sync(0, minute=30, force=True)
        assert forced.pk == batch.pk and forced.complete and forced.attempts == 2
        assert len(replay.requests) > requests and forced.lease_owner == ""

    def test_an_abandoned_batch_of_an_earlier_hour_is_marked_failed(self, sync, catalogue):
        abandoned = Batch.objects.create(hour=HOUR0 - dt.timedelta(hours=5), started_at=HOUR0)
        hold(abandoned, seconds=-1)
        alive = Batch.objects.create(hour=HOUR0 - dt.timedelta(hours=4), started_at=HOUR0)
        hold(alive, seconds=3600)
        sync(0)
        abandoned.refresh_from_db()
        alive.refresh_from_db()
        assert abandoned.status == Batch.Status.FAILED and abandoned.lease_owner == "" and abandoned.finished_at
        assert alive.status == Batch.Status.RUNNING and alive.lease_owner == "elsewhere:4242:feedbeef"


class TestHolding:
    def test_renewing_pushes_the_end_forward(self, settings):
        settings.SNAPSHOTS_LEASE_SECONDS = 30
        lease = Lease.claim(HOUR0, started_at=HOUR0)
        Batch.objects.filter(pk=lease.batch_id).update(lease_until=timezone.now())
        assert lease.renew()
        until = Batch.objects.get(pk=lease.batch_id).lease_until
        assert until > timezone.now() + dt.timedelta(seconds=25)

    def test_a_lease_taken_over_is_lost_and_its_holder_writes_nothing(self):
        lease = Lease.claim(HOUR0, started_at=HOUR0)
        hold(Batch.objects.get(pk=lease.batch_id), seconds=60, owner="newcomer:1:00000000")
        assert not lease.renew() and lease.lost
        with pytest.raises(LeaseLost):
            lease.check()
        with pytest.raises(LeaseLost):
            lease.release(status=Batch.Status.COMPLETE, complete=True)
        batch = Batch.objects.get(pk=lease.batch_id)
        assert batch.lease_owner == "newcomer:1:00000000" and not batch.complete

    def test_a_sync_whose_batch_was_taken_over_stops_before_marking_anything_gone(self, sync, catalogue):
        sync(0)
        gone = next(m for m in catalogue.models if ":" not in m)
        catalogue.remove_model(gone)
        catalogue.hour += 1

        def taken_over(done: int, total: int) -> None:  # another sync takes the batch over mid-crawl
            if done == 5:
                hold(Batch.objects.get(hour=HOUR1), seconds=60, owner="newcomer:1:00000000")

        with pytest.raises(LeaseLost):
            sync(1, progress=taken_over)
        batch = Batch.objects.get(hour=HOUR1)
        assert batch.lease_owner == "newcomer:1:00000000" and batch.status == Batch.Status.RUNNING
        assert batch.manifest_id is None and not batch.complete
        assert not Event.objects.filter(batch=batch, kind="disappeared").exists()
