"""Rotation: which offers and providers are out of rotation, and the transitions that put them out and back.

- An offer is deactivated after `failures_to_deactivate` consecutive failures, or when its failed share over the
  last `error_window_seconds` reaches `error_rate_threshold` (with at least `error_min_requests` requests): a
  flapping offer never fails three times in a row but still fails half the time.
- A provider is deactivated as a whole when it refuses our key (401/403) or after `failures_to_deactivate`
  consecutive connection failures (an outage).
- After the cooldown a probe is sent (one per offer across processes): success recovers it, failure doubles the
  cooldown (up to ROUTING_COOLDOWN_MAX). A curator's standby is never changed automatically.

Failures are counted per process (as Envoy's outlier detection counts per proxy); every transition is written to
the database with its event and published through the cache, so all processes apply it within
ROUTING_STATE_REFRESH seconds and a restart starts from the stored states.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asgiref.sync import sync_to_async

from modelgraph import metrics
from routing import retry, services
from routing.candidates import RouteCandidate
from routing.conf import setting
from routing.models import RouteStateValue
from routing.orm import db
from routing.policies import RotationPolicy
from routing.selectors import route_states_not_active

logger = logging.getLogger(__name__)
OFFER, PROVIDER = "offer", "provider"
FULL_RELOAD_SECONDS = 30.0


@dataclass
class Entry:
    state: str
    until: float | None = None  # epoch seconds
    reason: str = ""


@dataclass
class Window:
    buckets: deque = field(default_factory=deque)  # [second, requests, failures]
    total: int = 0
    failed: int = 0


class Rotation:
    def __init__(self, *, clock=time.time, monotonic=time.monotonic):
        self.clock = clock
        self.monotonic = monotonic
        self.entries: dict[tuple[str, int], Entry] = {}
        self.loaded = False
        self.version: str | None = None
        self.next_check = self.next_full = 0.0
        self.consecutive: dict[tuple[str, int], int] = {}
        self.windows: dict[int, Window] = {}
        self.due: set[tuple[str, int]] = set()
        self.probing: set[tuple[str, int]] = set()
        self.rate_limited: dict[int, float] = {}  # mapping id → epoch seconds its Retry-After ends

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # Reading the states.
    def blocked(self, candidate: RouteCandidate) -> str | None:
        """Why a candidate may not be routed to now (None: it may). Notes the ones whose cooldown is over."""
        if self.rate_limited:
            until = self.rate_limited.get(candidate.mapping_id)
            if until is not None:
                if until > self.clock():
                    return "rate limited"
                del self.rate_limited[candidate.mapping_id]
        for key, prefix in (((PROVIDER, candidate.provider_id), "provider "), ((OFFER, candidate.mapping_id), "")):
            entry = self.entries.get(key)
            if entry is None:
                continue
            if entry.state == RouteStateValue.STANDBY:
                return f"{prefix}on standby"
            if entry.until is not None and entry.until <= self.clock():
                self.due.add(key)
            return f"{prefix}deactivated"
        return None

    def soonest_back(self, candidates) -> float | None:
        """Seconds until the first of these members may be routed to again (0: a probe is due); None: never by
        itself (on standby, or no member at all)."""
        now, soonest = self.clock(), None
        for candidate in candidates:
            back: float | None = self.rate_limited.get(candidate.mapping_id, now)
            for key in ((PROVIDER, candidate.provider_id), (OFFER, candidate.mapping_id)):
                entry = self.entries.get(key)
                if entry is not None and back is not None:
                    back = None if entry.state == RouteStateValue.STANDBY else max(back, entry.until or now)
            if back is not None:
                soonest = back - now if soonest is None else min(soonest, back - now)
        return None if soonest is None else max(0.0, soonest)

    def load(self, rows: list[dict]) -> None:
        entries = {}
        for row in rows:
            key = (OFFER, row["mapping_id"]) if row["mapping_id"] else (PROVIDER, row["provider_id"])
            until = row["deactivated_until"].timestamp() if row["deactivated_until"] else None
            entries[key] = Entry(row["state"], until, row["reason"])
        self.entries = entries
        self.loaded = True

    async def refresh(self) -> None:
        """Pick up transitions made by other processes: one cache read per interval, the database on a change."""
        now = self.monotonic()
        if self.loaded and now < self.next_check:
            return
        self.next_check = now + setting("ROUTING_STATE_REFRESH")
        version = await sync_to_async(services.state_version_get, thread_sensitive=False)()
        if self.loaded and version == self.version and now < self.next_full:
            return
        self.next_full = now + FULL_RELOAD_SECONDS
        self.load(await db(route_states_not_active))
        self.version = version

    # Recording outcomes.
    async def record(self, candidate: RouteCandidate, failure: retry.Failure | None, policy: RotationPolicy) -> None:
        if failure is None:
            self.consecutive.pop((OFFER, candidate.mapping_id), None)
            self.consecutive.pop((PROVIDER, candidate.provider_id), None)
            self.rate_limited.pop(candidate.mapping_id, None)
            self._window(candidate.mapping_id, False, policy)
            return
        if failure.kind == retry.RATE_LIMITED and failure.retry_after:
            # Out of rotation for as long as the provider asked (this process; says nothing about health).
            wait = min(failure.retry_after, setting("ROUTING_COOLDOWN_MAX"))
            self.rate_limited[candidate.mapping_id] = max(
                self.rate_limited.get(candidate.mapping_id, 0.0), self.clock() + wait
            )
        elif failure.kind == retry.AUTH:
            await self._deactivate(
                (PROVIDER, candidate.provider_id), candidate, policy, f"key refused ({failure.status})", failure, 1
            )
        elif failure.kind == retry.CONNECT:
            count = self._count((PROVIDER, candidate.provider_id))
            if count >= policy.failures_to_deactivate:
                reason = f"unreachable: {count} consecutive connection failures"
                await self._deactivate((PROVIDER, candidate.provider_id), candidate, policy, reason, failure, count)
        elif failure.kind in retry.OFFER_FAILURES:
            key = (OFFER, candidate.mapping_id)
            count = self._count(key)
            failed, total = self._window(candidate.mapping_id, True, policy)
            if count >= policy.failures_to_deactivate:
                await self._deactivate(key, candidate, policy, f"{count} consecutive failures", failure, count)
            elif total >= policy.error_min_requests and failed / total >= policy.error_rate_threshold:
                reason = f"{failed} of the last {total} requests failed (over {policy.error_window_seconds:g} s)"
                await self._deactivate(key, candidate, policy, reason, failure, count)

    def _count(self, key: tuple[str, int]) -> int:
        self.consecutive[key] = self.consecutive.get(key, 0) + 1
        return self.consecutive[key]

    def _window(self, mapping_id: int, failed: bool, policy: RotationPolicy) -> tuple[int, int]:
        """Failed and total requests of an offer over the window, counted in one-second buckets (O(1) per call)."""
        now = self.clock()
        window = self.windows.get(mapping_id)
        if window is None:
            window = self.windows[mapping_id] = Window()
        second = int(now)
        if window.buckets and window.buckets[-1][0] == second:
            window.buckets[-1][1] += 1
            window.buckets[-1][2] += failed
        else:
            window.buckets.append([second, 1, int(failed)])
        window.total += 1
        window.failed += failed
        while window.buckets and window.buckets[0][0] <= now - policy.error_window_seconds:
            _, total, bucket_failed = window.buckets.popleft()
            window.total -= total
            window.failed -= bucket_failed
        return window.failed, window.total

    async def _deactivate(
        self, key, candidate: RouteCandidate, policy: RotationPolicy, reason: str, failure: retry.Failure, count: int
    ) -> None:
        until = self.clock() + policy.cooldown_seconds
        current = self.entries.get(key)
        if current is not None and (current.state == RouteStateValue.STANDBY or (current.until or 0) >= until):
            return
        self.entries[key] = Entry(RouteStateValue.DEACTIVATED, until, reason)
        self.consecutive.pop(key, None)
        metrics.gateway_rotation_event(key[0], "deactivated")
        if key[0] == OFFER:
            self.windows.pop(key[1], None)
        subject = {"mapping_id": key[1]} if key[0] == OFFER else {"provider_id": key[1]}
        logger.warning(
            "routing: %s %s deactivated for %ss: %s",
            key[0],
            candidate.label if key[0] == OFFER else candidate.provider_slug,
            policy.cooldown_seconds,
            reason,
        )
        try:
            await db(
                services.route_state_deactivate,
                **subject,
                reason=reason,
                error=failure.describe(),
                consecutive_failures=count,
                cooldown_seconds=policy.cooldown_seconds,
                now=self.now(),
            )
        except Exception:  # the process keeps the offer out either way; the next refresh re-reads the truth
            logger.exception("routing: could not store the deactivation of %s %s", *key)

    # Recovery.
    def take_due(self) -> set[tuple[str, int]]:
        """Keys whose cooldown is over and that no probe of this process is already checking."""
        due, self.due = self.due - self.probing, set()
        self.probing |= due
        return due

    async def apply_probe(self, key: tuple[str, int], ok: bool, error: str = "") -> None:
        subject = {"mapping_id": key[1]} if key[0] == OFFER else {"provider_id": key[1]}
        try:
            state = await db(
                services.route_state_probe_result,
                **subject,
                ok=ok,
                error=error,
                cooldown_max=setting("ROUTING_COOLDOWN_MAX"),
                now=self.now(),
            )
        finally:
            self.probing.discard(key)
        if state is None:  # changed elsewhere meanwhile (recovered, or put on standby): re-read before routing
            self.next_check = self.next_full = 0.0
        else:
            recovered = state.state == RouteStateValue.ACTIVE
            metrics.gateway_rotation_event(key[0], "recovered" if recovered else "probe_failed")
        if state is None or state.state == RouteStateValue.ACTIVE:
            self.entries.pop(key, None)
            self.consecutive.pop(key, None)
        else:
            self.entries[key] = Entry(state.state, state.deactivated_until.timestamp(), state.reason)
