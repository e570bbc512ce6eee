"""Routing writes: route state transitions (each with its event) and request log rows.

Every transition bumps a version in the cache so other gateway processes re-read the states within
ROUTING_STATE_REFRESH seconds; the database stays the source of truth (a cache outage only slows that down).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from modelgraph.secrets import redact
from routing.models import EventKind, RequestLog, RouteState, RouteStateValue, RoutingEvent

logger = logging.getLogger(__name__)
STATE_VERSION_KEY = "routing:state-version"
MILLION = Decimal(1_000_000)


def state_version_bump() -> None:
    try:
        cache.set(STATE_VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:  # a cache outage delays propagation to other processes; it must never fail a transition
        logger.warning("routing: could not publish a route state change to the cache", exc_info=True)


def state_version_get() -> str | None:
    try:
        return cache.get(STATE_VERSION_KEY)
    except Exception:
        return None


def _lookup(mapping_id: int | None, provider_id: int | None) -> dict:
    if (mapping_id is None) == (provider_id is None):
        raise ValueError("exactly one of mapping_id and provider_id")
    return {"mapping_id": mapping_id} if mapping_id is not None else {"provider_id": provider_id}


def _locked_state(mapping_id: int | None, provider_id: int | None) -> RouteState:
    lookup = _lookup(mapping_id, provider_id)
    state = RouteState.objects.select_for_update().filter(**lookup).first()
    if state is None:
        try:
            with transaction.atomic():
                RouteState.objects.create(**lookup)
        except IntegrityError:
            pass  # another process created it first
        state = RouteState.objects.select_for_update().get(**lookup)
    return state


def _event(state: RouteState, kind_for_offer: str, kind_for_provider: str, message: str, at, **detail) -> None:
    RoutingEvent.objects.create(
        kind=kind_for_offer if state.mapping_id else kind_for_provider,
        state=state,
        mapping_id=state.mapping_id,
        provider_id=state.provider_id,
        message=message[:500],
        detail=json.loads(json.dumps(detail, default=str)),
        at=at,
    )


@transaction.atomic
def route_state_deactivate(
    *,
    mapping_id: int | None = None,
    provider_id: int | None = None,
    reason: str,
    error: str = "",
    consecutive_failures: int = 0,
    cooldown_seconds: float = 60,
    now: datetime | None = None,
) -> tuple[RouteState, bool]:
    """Take an offer (or a whole provider) out of rotation until its cooldown ends; False if it already was."""
    now = now or timezone.now()
    state = _locked_state(mapping_id, provider_id)
    if state.state == RouteStateValue.STANDBY:
        return state, False  # a curator's hold outranks automatic rotation
    if state.state == RouteStateValue.DEACTIVATED and state.deactivated_until and state.deactivated_until > now:
        return state, False  # another process got there first
    error = redact(error)[:500]
    state.state = RouteStateValue.DEACTIVATED
    state.reason = reason[:300]
    state.last_error = error
    state.consecutive_failures = consecutive_failures
    state.cooldown_seconds = max(1, round(cooldown_seconds))
    state.deactivated_until = now + timedelta(seconds=cooldown_seconds)
    state.changed_at = now
    state.save()
    _event(
        state,
        EventKind.MODEL_DEACTIVATED,
        EventKind.PROVIDER_DEACTIVATED,
        reason,
        now,
        error=error,
        until=state.deactivated_until,
        consecutive_failures=consecutive_failures,
    )
    transaction.on_commit(state_version_bump)
    return state, True


@transaction.atomic
def route_state_probe_result(
    *,
    mapping_id: int | None = None,
    provider_id: int | None = None,
    ok: bool,
    error: str = "",
    cooldown_max: float = 3600,
    now: datetime | None = None,
) -> RouteState | None:
    """After a probe of a deactivated offer or provider: recovered, or deactivated again for twice as long."""
    now = now or timezone.now()
    state = _locked_state(mapping_id, provider_id)
    if state.state != RouteStateValue.DEACTIVATED:
        return None  # recovered by another process, or put on standby meanwhile
    if ok:
        state.state, state.reason, state.last_error = RouteStateValue.ACTIVE, "probe succeeded", ""
        state.consecutive_failures = state.failed_probes = 0
        state.deactivated_until, state.changed_at = None, now
        state.save()
        _event(state, EventKind.MODEL_RECOVERED, EventKind.PROVIDER_RECOVERED, "probe succeeded", now)
    else:
        state.failed_probes += 1
        cooldown = min(cooldown_max, state.cooldown_seconds * 2**state.failed_probes)
        state.deactivated_until = now + timedelta(seconds=cooldown)
        state.last_error = redact(error)[:500]
        state.changed_at = now
        state.save()
        message = f"probe failed: {state.last_error}"
        _event(
            state,
            EventKind.MODEL_PROBE_FAILED,
            EventKind.PROVIDER_PROBE_FAILED,
            message,
            now,
            until=state.deactivated_until,
            failed_probes=state.failed_probes,
        )
    transaction.on_commit(state_version_bump)
    return state


@transaction.atomic
def route_state_set(
    *, mapping_id: int | None = None, provider_id: int | None = None, value: str, reason: str = "", user=None
) -> RouteState:
    """A curator's decision: put on standby (held back, never probed) or back to active."""
    if value not in (RouteStateValue.STANDBY, RouteStateValue.ACTIVE):
        raise ValueError("a curator sets standby or active; deactivation is automatic")
    now = timezone.now()
    state = _locked_state(mapping_id, provider_id)
    state.state = value
    state.reason = (reason or f"set by {getattr(user, 'username', None) or 'a curator'}")[:300]
    state.consecutive_failures = state.failed_probes = 0
    state.deactivated_until = None
    state.changed_at = now
    state.save()
    kind = EventKind.STANDBY if value == RouteStateValue.STANDBY else EventKind.REACTIVATED
    _event(state, kind, kind, state.reason, now, user=getattr(user, "username", None))
    transaction.on_commit(state_version_bump)
    return state


@transaction.atomic
def route_state_end_cooldown(*, mapping_id: int | None = None, provider_id: int | None = None, user=None) -> bool:
    """A curator ends a deactivated member's cooldown so the next request (or `routing_probe`) probes it now;
    False when it was not deactivated."""
    now = timezone.now()
    state = _locked_state(mapping_id, provider_id)
    if state.state != RouteStateValue.DEACTIVATED:
        return False
    state.deactivated_until = now
    state.changed_at = now
    state.save(update_fields=["deactivated_until", "changed_at"])
    who = getattr(user, "username", None) or "a curator"
    _event(state, EventKind.COOLDOWN_ENDED, EventKind.COOLDOWN_ENDED, f"cooldown ended by {who}", now, user=who)
    transaction.on_commit(state_version_bump)
    return True


def _cost(record: dict) -> Decimal | None:
    prompt, completion = record.get("prompt_tokens"), record.get("completion_tokens")
    price_in, price_out = record.pop("price_input", None), record.pop("price_output", None)
    if prompt is None or completion is None or price_in is None or price_out is None:
        return None
    return (Decimal(prompt) * Decimal(str(price_in)) + Decimal(completion) * Decimal(str(price_out))) / MILLION


def request_log_write_many(records: list[dict]) -> int:
    """Store finished gateway requests (see `routing.gateway.Exchange.record`); cost from the offer's prices."""
    rows = []
    for record in records:
        record = dict(record)
        record["cost"] = _cost(record)
        record["error"] = redact(record.get("error") or "")[:500]
        rows.append(RequestLog(**record))
    RequestLog.objects.bulk_create(rows, batch_size=500)
    return len(rows)
