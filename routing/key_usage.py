"""Usage per gateway key and UTC day: tallied in memory by each request, written in batches by the request log's
writer thread (routing.logwriter; at shutdown too, a killed process loses at most one flush interval), read by the
admin and the API (with the totals the key cache seeds limits from)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, F, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from routing.models import GatewayKey, GatewayKeyUsage

logger = logging.getLogger(__name__)
NANO = Decimal(1_000_000_000)


@dataclass
class Tally:
    requests: int = 0
    refused: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    nano_usd: int = 0
    unpriced: int = 0  # answers that used tokens at no known price: spend leaves them out, and says how many


class UsageTally:
    """What each key used since the last write, by (key id, day): the hot path adds to it under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[tuple[int, str], Tally] = {}

    def add(self, key_id: int, day: str, *, refused: bool, prompt: int, completion: int, cost: int | None) -> None:
        with self.lock:
            tally = self.rows.get((key_id, day))
            if tally is None:
                tally = self.rows[(key_id, day)] = Tally()
            tally.requests += 1
            tally.refused += refused
            tally.prompt_tokens += prompt
            tally.completion_tokens += completion
            tally.nano_usd += cost or 0
            tally.unpriced += cost is None and bool(prompt or completion)  # tokens used at an unknown price

    def take(self) -> dict[tuple[int, str], Tally]:
        with self.lock:
            rows, self.rows = self.rows, {}
        return rows

    def pending(self) -> bool:
        return bool(self.rows)


usage_tally = UsageTally()


def _increments(tally: Tally) -> dict:
    return {
        "requests": F("requests") + tally.requests,
        "refused": F("refused") + tally.refused,
        "prompt_tokens": F("prompt_tokens") + tally.prompt_tokens,
        "completion_tokens": F("completion_tokens") + tally.completion_tokens,
        "spend_usd": F("spend_usd") + Decimal(tally.nano_usd) / NANO,
        "unpriced": F("unpriced") + tally.unpriced,
    }


def key_usage_write(rows: dict[tuple[int, str], Tally]) -> int:
    """Add tallies to the usage rows (one row per key and day, created on first use); returns rows touched."""
    for (key_id, day), tally in rows.items():
        lookup = GatewayKeyUsage.objects.filter(key_id=key_id, day=day)
        if lookup.update(**_increments(tally)):
            continue
        try:
            with transaction.atomic():
                GatewayKeyUsage.objects.create(
                    key_id=key_id,
                    day=dt.date.fromisoformat(day),
                    requests=tally.requests,
                    refused=tally.refused,
                    prompt_tokens=tally.prompt_tokens,
                    completion_tokens=tally.completion_tokens,
                    spend_usd=Decimal(tally.nano_usd) / NANO,
                    unpriced=tally.unpriced,
                )
        except IntegrityError:  # another process created the day's row meanwhile
            lookup.update(**_increments(tally))
    return len(rows)


def key_usage_flush() -> int:
    """Write what was tallied so far (the log writer's thread, shutdown, tests); never raises."""
    rows = usage_tally.take()
    if not rows:
        return 0
    try:
        return key_usage_write(rows)
    except Exception:  # losing a batch of usage must never take the gateway down (the counters still hold)
        logger.exception("routing: could not write the usage of %d gateway key(s)", len(rows))
        return 0


def _today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def gateway_keys_with_usage() -> QuerySet[GatewayKey]:
    """Gateway keys with today's usage (UTC) and their total spend annotated, their scopes prefetched: one query
    plus one per scope relation, however many keys."""
    today = Q(usage__day=_today())
    zero = Value(0)
    return (
        GatewayKey.objects.select_related("created_by")
        .prefetch_related("allowed_capabilities", "allowed_models")
        .annotate(
            requests_today=Coalesce(Sum("usage__requests", filter=today), zero, output_field=IntegerField()),
            refused_today=Coalesce(Sum("usage__refused", filter=today), zero, output_field=IntegerField()),
            tokens_today=Coalesce(
                Sum(F("usage__prompt_tokens") + F("usage__completion_tokens"), filter=today),
                zero,
                output_field=IntegerField(),
            ),
            spend_total=Coalesce(
                Sum("usage__spend_usd"), Value(Decimal(0)), output_field=DecimalField(max_digits=18, decimal_places=9)
            ),
            unpriced_total=Coalesce(Sum("usage__unpriced"), zero, output_field=IntegerField()),
        )
        .order_by("-created_at", "-pk")
    )
