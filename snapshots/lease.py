"""The lease a sync holds on its hour's batch: claimed by a conditional UPDATE, renewed by a heartbeat thread.

A lease is two columns of the batch (`lease_owner`, `lease_until`), so it works the same on PostgreSQL and on
SQLite (no advisory locks there). A live sync renews it every third of `SNAPSHOTS_LEASE_SECONDS`, whatever its
main thread is doing (waiting out a Retry-After, compressing a large list); a sync killed with SIGKILL stops
renewing, its lease runs out within `SNAPSHOTS_LEASE_SECONDS`, and the next sync of the hour takes the batch over.
Every write of a lease is conditional on its owner, so a sync whose lease was taken over learns it at its next
heartbeat and stops (`LeaseLost`) instead of writing beside the new owner. Lease times are the wall clock, not the
`now` a sync is given (that one only picks the hour).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading

from django.db import DatabaseError, connection, connections
from django.db.models import F, Q
from django.utils import timezone

from snapshots.conf import setting
from snapshots.models import Batch

logger = logging.getLogger(__name__)


class SyncInProgress(RuntimeError):
    """Another sync holds a live lease on the batch of this hour."""


class LeaseLost(RuntimeError):
    """The lease ran out and another sync took the batch over: this sync must stop writing."""


def lease_owner_name() -> str:
    """Who holds a lease: host and process (for people reading the admin) and a token (unique per sync)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


def lease_free() -> Q:
    """Batches nobody holds: no lease, or a lease whose heartbeat stopped."""
    return Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now())


def batches_fail_abandoned() -> int:
    """Batches left "running" by a sync that died (their lease ran out) are marked failed until someone resumes them."""
    return (
        Batch.objects.filter(status=Batch.Status.RUNNING)
        .filter(lease_free())
        .update(status=Batch.Status.FAILED, finished_at=timezone.now(), lease_owner="", lease_until=None)
    )


class Lease:
    """`with Lease.claim(batch, force=…) as lease:` — this sync's hold on `batch`, renewed until the block ends."""

    def __init__(self, batch: Batch, owner: str, seconds: float):
        self.batch_id = batch.pk
        self.owner = owner
        self.seconds = seconds
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed_at = timezone.now()

    @classmethod
    def claim(cls, hour: dt.datetime, *, started_at: dt.datetime, force: bool = False) -> Lease | None:
        """The lease on the batch of `hour` (created if new); None when that batch is complete and not `force`d.

        Raises SyncInProgress when another sync holds a live lease on it: a live sync is never taken over.
        """
        seconds = float(setting("SNAPSHOTS_LEASE_SECONDS"))
        owner = lease_owner_name()
        until = timezone.now() + dt.timedelta(seconds=seconds)
        batch, created = Batch.objects.get_or_create(
            hour=hour, defaults={"started_at": started_at, "lease_owner": owner, "lease_until": until}
        )
        if not created:
            if batch.complete and not force:
                return None
            taken = (
                Batch.objects.filter(pk=batch.pk)
                .filter(lease_free())
                .update(
                    status=Batch.Status.RUNNING,
                    complete=False,
                    started_at=started_at,
                    finished_at=None,
                    lease_owner=owner,
                    lease_until=until,
                    attempts=F("attempts") + 1,
                )
            )
            if not taken:
                batch.refresh_from_db(fields=["lease_owner", "lease_until"])
                held = (
                    f"held by {batch.lease_owner} until {batch.lease_until:%H:%M:%S} UTC" if batch.lease_until else ""
                )
                raise SyncInProgress(f"a sync of {hour:%Y-%m-%d %H:00} is already running ({held})")
        return cls(batch, owner, seconds)

    # --- holding ----------------------------------------------------------------------------------------------------

    def __enter__(self) -> Lease:
        # Inside a caller's transaction the batch row is invisible to other connections (and locked by this one), so
        # a heartbeat thread could neither see nor renew it: the sync then renews between responses (`check`).
        if not connection.in_atomic_block:
            self._thread = threading.Thread(target=self._beat, name=f"snapshots-lease-{self.batch_id}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.seconds / 3):
                try:
                    self.renew()
                except DatabaseError as exc:  # a short outage: the next beat tries again before the lease runs out
                    logger.warning("snapshot lease of batch %s not renewed: %s", self.batch_id, exc)
                if self.lost:
                    return
        finally:
            connections.close_all()  # this thread's own connections only

    def renew(self) -> bool:
        """Push the lease's end forward; False (and `lost`) when another sync has taken the batch over."""
        now = timezone.now()
        renewed = Batch.objects.filter(pk=self.batch_id, lease_owner=self.owner).update(
            lease_until=now + dt.timedelta(seconds=self.seconds)
        )
        if not renewed:
            self.lost = True
        self._renewed_at = now
        return bool(renewed)

    def check(self, *, renew: bool = False) -> None:
        """Raise LeaseLost once the lease is gone. `renew`: ask the database now (before an irreversible write);
        without a heartbeat thread the lease is renewed here whenever a third of it has passed."""
        due = timezone.now() - self._renewed_at > dt.timedelta(seconds=self.seconds / 3)
        if renew or (self._thread is None and due):
            self.renew()
        if self.lost:
            raise LeaseLost(f"the lease on batch {self.batch_id} was taken over; this sync stops")

    def held(self) -> Q:
        """Filter for writes that only the holder may make (the batch's final update)."""
        return Q(pk=self.batch_id, lease_owner=self.owner)

    def release(self, **fields) -> None:
        """Write the batch's outcome and give the lease up, in one conditional UPDATE."""
        done = Batch.objects.filter(self.held()).update(lease_owner="", lease_until=None, **fields)
        if not done:
            self.lost = True
            raise LeaseLost(f"the lease on batch {self.batch_id} was taken over before this sync finished")
