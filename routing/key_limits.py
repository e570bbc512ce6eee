"""What a gateway key may do, enforced before routing: its scopes (the capabilities and models it may name) and its
limits (requests over any minute, tokens per UTC day, a spend budget in USD); tokens and spend are counted after the
answer (a stream's from its usage chunk), priced at the catalogue's prices of the offer that answered.

The key's grant comes from the in-process key cache (routing.access), so the hot path reads no database: a key
without limits costs a set look-up, a limited key one counter round trip before routing and one after the answer
(routing.key_counters). The request that crosses a tokens or budget limit is answered (its size is known only
afterwards); the next one is refused.
"""

from __future__ import annotations

import contextvars
import logging
import math
import time
from dataclasses import dataclass
from decimal import Decimal

from routing import errors
from routing.candidates import RouteCandidate
from routing.conf import setting
from routing.key_counters import REQUESTS, TOKENS, Refusal, key_counters, utc_day
from routing.key_usage import usage_tally
from routing.router import CAPABILITY, Target
from routing.table import RoutingTable

logger = logging.getLogger(__name__)
NANO = Decimal(1_000_000_000)
PERMISSION = "permission_error"

# The grant of the key the current request authenticated with (set by routing.access.authorize; None: a key from
# ROUTING_GATEWAY_KEYS, or the open loopback gateway — no scopes, no limits, no usage rows).
current_grant: contextvars.ContextVar[KeyGrant | None] = contextvars.ContextVar("gateway_key_grant", default=None)


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """An issued key's scopes and limits as plain values, with what the database knew of its usage when read."""

    id: int
    digest: str
    name: str
    capability_ids: frozenset[int] = frozenset()
    model_ids: frozenset[int] = frozenset()
    allowed_names: tuple[str, ...] = ()  # for the refusal's message
    requests_per_minute: int | None = None
    tokens_per_day: int | None = None
    budget_nano_usd: int | None = None
    spent_nano_usd: int = 0  # seeds of the shared counters: usage rows as of the read
    tokens_on_day: tuple[str, int] = ("", 0)

    @property
    def scoped(self) -> bool:
        return bool(self.capability_ids or self.model_ids)

    @property
    def limited(self) -> bool:
        return not (self.requests_per_minute is None and self.tokens_per_day is None and self.budget_nano_usd is None)

    def tokens_seed(self, day: str) -> int:
        return self.tokens_on_day[1] if self.tokens_on_day[0] == day else 0


def usd_to_nano(value: Decimal | None) -> int | None:
    return None if value is None else int(Decimal(value) * NANO)


class KeyRefused(errors.GatewayError):
    """A request outside its key's scopes (403) or over one of its limits (429)."""


def allows(grant: KeyGrant, target: Target, table: RoutingTable) -> bool:
    """Whether the key may ask for `target`: a capability it names, a model it names, or a model one of its
    capabilities routes to."""
    if not grant.scoped:
        return True
    if target.kind == CAPABILITY:
        return target.capability is not None and target.capability.id in grant.capability_ids
    if target.model_id in grant.model_ids:
        return True
    for node in table.capabilities.values():
        if node.id in grant.capability_ids:
            entries = table.pools.get(node.slug, ())
            if any(c.model_id == target.model_id for entry in entries for c in entry.candidates):
                return True
    return False


def enforce(grant: KeyGrant | None, target: Target, table: RoutingTable) -> None:
    """Raise KeyRefused unless the key may send this request now (counting it against the requests limit)."""
    if grant is None:
        return
    if not allows(grant, target, table):
        allowed = ", ".join(grant.allowed_names) or "nothing"
        raise KeyRefused(
            403,
            f"This gateway key may not use {target.requested[:200]!r}; it may use: {allowed}.",
            type=PERMISSION,
            code="model_not_allowed",
            param="model",
        )
    if grant.limited:
        refusal = key_counters().admit(grant)
        if refusal is not None:
            raise _over_limit(grant, refusal)


def _over_limit(grant: KeyGrant, refusal: Refusal) -> KeyRefused:
    if refusal.limit == REQUESTS:
        wait = max(1, math.ceil(refusal.retry_after or 0))
        message = f"Rate limit reached for this gateway key: {grant.requests_per_minute} requests per minute. "
        return KeyRefused(
            429,
            message + f"Please try again in {wait}s.",
            type=REQUESTS,
            code="rate_limit_exceeded",
            headers={"Retry-After": str(wait)},
        )
    if refusal.limit == TOKENS:
        wait = max(1, math.ceil(refusal.retry_after or 0))
        return KeyRefused(
            429,
            f"This gateway key has used its {grant.tokens_per_day} tokens for today (UTC); it resets in {wait}s.",
            type=TOKENS,
            code="rate_limit_exceeded",
            headers={"Retry-After": str(wait), "x-should-retry": "false"},
        )
    # BUDGET: waiting does not help (x-should-retry tells OpenAI's SDKs not to); a curator may raise it.
    budget = Decimal(grant.budget_nano_usd or 0) / NANO
    return KeyRefused(
        429,
        f"This gateway key has spent its budget of ${budget.normalize():f}; ask for a larger one.",
        type="insufficient_quota",
        code="insufficient_quota",
        headers={"Retry-After": str(int(setting("ROUTING_KEY_BUDGET_RETRY_AFTER"))), "x-should-retry": "false"},
    )


def cost_nano_usd(candidate: RouteCandidate | None, usage: dict | None) -> int | None:
    """What an answer cost at its offer's catalogue prices (USD per million tokens), in nano-USD; None: unknown."""
    if candidate is None or not usage:
        return None
    prompt, completion = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
    if candidate.price_input is None or candidate.price_output is None:
        return None
    return round(prompt * candidate.price_input * 1000 + completion * candidate.price_output * 1000)


def _count(value) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def settle(grant: KeyGrant | None, candidate: RouteCandidate | None, usage: dict | None, *, refused: bool) -> None:
    """After a request: its tokens and cost on the key's counters (the limits it has) and on its usage tally."""
    if grant is None:
        return
    try:
        prompt = _count((usage or {}).get("prompt_tokens"))
        completion = _count((usage or {}).get("completion_tokens"))
        cost = cost_nano_usd(candidate, usage)
        now = time.time()
        if grant.limited and not refused and (prompt or completion or cost):
            tokens = prompt + completion if grant.tokens_per_day is not None else None
            spent = cost if grant.budget_nano_usd is not None else None
            key_counters().add(grant, tokens, spent, now=now)
        usage_tally.add(grant.id, utc_day(now)[0], refused=refused, prompt=prompt, completion=completion, cost=cost)
    except Exception:  # counting must never fail an answer already given
        logger.exception("routing: could not count the usage of gateway key %s", grant.id)
