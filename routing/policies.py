"""A pool's settings as plain frozen values: what the hot path reads instead of model instances."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields

from routing.conf import setting

SAME_PROVIDER, SAME_MODEL, ANY = "same_provider", "same_model", "any"


@dataclass(frozen=True)
class FailoverPolicy:
    """Bounded attempts and total time; exponential backoff with equal jitter; Retry-After honoured up to a cap."""

    max_attempts: int = 3
    max_total_seconds: float = 30.0
    backoff_base: float = 0.25
    backoff_max: float = 8.0
    retry_after_max: float = 30.0
    scope: str = ANY

    def backoff(self, failures: int, rng: random.Random | None = None) -> float:
        """Delay before retrying an offer that has failed `failures` times in this request (1, 2, …)."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** max(failures - 1, 0))
        # Equal jitter: never less than half the exponential step, so retries spread without collapsing to zero.
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


@dataclass(frozen=True)
class RotationPolicy:
    """When an offer or a provider is taken out of rotation, and for how long before it is probed."""

    failures_to_deactivate: int = 3
    error_rate_threshold: float = 0.5
    error_window_seconds: float = 60.0
    error_min_requests: int = 10
    cooldown_seconds: float = 60.0


@dataclass(frozen=True)
class PoolSpec:
    """One pool (or the implicit pool of a capability or model without one)."""

    slug: str
    id: int | None = None
    capability_id: int | None = None
    priority: int = 100
    strategy: str = "best_score"
    priority_list: tuple[str, ...] = ()
    retry: FailoverPolicy = field(default_factory=FailoverPolicy)
    rotation: RotationPolicy = field(default_factory=RotationPolicy)

    @classmethod
    def from_pool(cls, pool) -> PoolSpec:
        return cls(
            slug=pool.slug,
            id=pool.pk,
            capability_id=pool.capability_id,
            priority=pool.priority,
            strategy=pool.strategy,
            priority_list=tuple(pool.priority_list or ()),
            retry=FailoverPolicy(
                max_attempts=pool.max_attempts,
                max_total_seconds=pool.max_total_seconds,
                backoff_base=pool.backoff_base,
                backoff_max=pool.backoff_max,
                retry_after_max=pool.retry_after_max,
                scope=pool.retry_scope,
            ),
            rotation=RotationPolicy(
                failures_to_deactivate=pool.failures_to_deactivate,
                error_rate_threshold=pool.error_rate_threshold,
                error_window_seconds=pool.error_window_seconds,
                error_min_requests=pool.error_min_requests,
                cooldown_seconds=pool.cooldown_seconds,
            ),
        )

    @classmethod
    def implicit(cls, slug: str, capability_id: int | None = None) -> PoolSpec:
        """Settings for a model request or a capability without pools: ROUTING_DEFAULT_POOL over the defaults."""
        overrides = dict(setting("ROUTING_DEFAULT_POOL") or {})
        retry_names = {f.name for f in fields(FailoverPolicy)} | {"retry_scope"}
        retry = {("scope" if k == "retry_scope" else k): v for k, v in overrides.items() if k in retry_names}
        rotation = {k: v for k, v in overrides.items() if k in {f.name for f in fields(RotationPolicy)}}
        return cls(
            slug=slug,
            capability_id=capability_id,
            strategy=overrides.get("strategy", "best_score"),
            retry=FailoverPolicy(**retry),
            rotation=RotationPolicy(**rotation),
        )
