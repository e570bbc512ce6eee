"""Telemetry writes: run a probe round, record its results in bulk, roll the touched hours up, purge old rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from catalog import cache_tags
from catalog.models import Lifecycle, Mapping
from modelgraph import metrics
from modelgraph.api import cache as api_cache
from modelgraph.secrets import provider_api_key
from telemetry.classification import Outcome
from telemetry.conf import ProbeConfig, setting
from telemetry.models import DailyLatency, HealthCheck, HourlyHealth, HourlyLatency, LatencySample
from telemetry.offer_summaries import last_probed_between, offer_summaries_refresh
from telemetry.probes import HEALTH, LATENCY, ProbeResult, ProbeTarget, probe_run
from telemetry.rollups import (
    floor_day,
    floor_hour,
    hour_spans,
    rollup_health_span,
    rollup_latency_day,
    rollup_latency_span,
)
from telemetry.selectors import provider_probe_skip

PROBED_STATUSES = (Lifecycle.ACTIVE, Lifecycle.PREVIEW, Lifecycle.DEPRECATED)


@dataclass
class RoundSummary:
    kind: str
    results: list[ProbeResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def outcomes(self) -> Counter:
        return Counter(result.outcome.value for result in self.results)


def probe_targets(*, kind: str, provider_slug: str | None = None) -> list[ProbeTarget]:
    """Every target of one kind: the mappings still served (and, for health, each provider's API as well)."""
    mappings = (
        Mapping.objects.filter(in_registry=True, status__in=PROBED_STATUSES)
        .select_related("provider")
        .order_by("provider__slug", "provider_model_id")
    )
    if provider_slug:
        mappings = mappings.filter(provider__slug=provider_slug)
    targets, seen_providers = [], set()
    for mapping in mappings:
        provider = mapping.provider
        # The key is read at probe time from the variable the catalogue names; it is never stored or logged.
        api_key = provider_api_key(provider)
        target = partial(
            ProbeTarget,
            provider_id=provider.pk,
            base_url=provider.api_base_url,
            api_key=api_key or None,
            skip=provider_probe_skip(provider),
        )
        if kind == HEALTH and provider.pk not in seen_providers:
            seen_providers.add(provider.pk)
            targets.append(target(kind=HEALTH, mapping_id=None, label=provider.slug))
        modes = mapping.delivery_modes or []
        targets.append(
            target(
                kind=kind,
                mapping_id=mapping.pk,
                label=f"{provider.slug}/{mapping.provider_model_id}",
                model=mapping.provider_model_id,
                stream=not modes or "streaming" in modes,
            )
        )
    return targets


@transaction.atomic
def telemetry_record_results(*, results: Iterable[ProbeResult]) -> set[datetime]:
    """Store probe results in bulk and roll up the hours they fall in; returns those hours.

    Targets that could not be probed (no key, no endpoint) are not stored: that is configuration, shown from the
    catalogue and environment as they are now, and storing it every 5 minutes per offer would dwarf the real data.
    """
    health, latency = [], []
    for r in results:
        if r.outcome == Outcome.NOT_CONFIGURED:
            continue
        common = {
            "provider_id": r.target.provider_id,
            "mapping_id": r.target.mapping_id,
            "checked_at": r.checked_at,
            "outcome": r.outcome.value,
            "status_code": r.status_code,
            "error_class": r.error_class.value,
            "error_message": r.error_message,
        }
        if r.target.kind == HEALTH:
            health.append(HealthCheck(response_ms=r.response_ms, **common))
        else:
            latency.append(
                LatencySample(
                    ttft_ms=r.ttft_ms,
                    total_ms=r.total_ms,
                    output_tokens=r.output_tokens,
                    tokens_from_usage=r.tokens_from_usage,
                    tokens_per_second=r.tokens_per_second,
                    **common,
                )
            )
    HealthCheck.objects.bulk_create(health, batch_size=1000)
    LatencySample.objects.bulk_create(latency, batch_size=1000)
    health_hours = {floor_hour(row.checked_at) for row in health}
    latency_hours = {floor_hour(row.checked_at) for row in latency}
    telemetry_rollup(kind=HEALTH, hours=health_hours, provider_ids={row.provider_id for row in health})
    telemetry_rollup(kind=LATENCY, hours=latency_hours, provider_ids={row.provider_id for row in latency})
    # The batch's offers and provider APIs get their window summaries recomputed: one upsert each, not one per probe.
    last_probed: dict[int, datetime] = {}
    provider_last_probed: dict[int, datetime] = {}
    landed: list[HealthCheck | LatencySample] = [*health, *latency]
    for row in landed:
        into, key = (last_probed, row.mapping_id) if row.mapping_id else (provider_last_probed, row.provider_id)
        into[key] = max(row.checked_at, into.get(key, row.checked_at))
    offer_summaries_refresh(
        mapping_ids=last_probed.keys(),
        provider_ids=provider_last_probed.keys(),
        last_probed=last_probed,
        provider_last_probed=provider_last_probed,
    )
    # Cached telemetry answers (1 minute) show the new round as soon as it is committed.
    transaction.on_commit(lambda: api_cache.bump([cache_tags.TELEMETRY]))
    return health_hours | latency_hours


@transaction.atomic
def telemetry_rollup(*, kind: str, hours: Iterable[datetime], provider_ids: Collection[int] | None = None) -> int:
    """Recompute the hourly roll-ups of `kind` for these hours (of every provider, or of these) from the raw rows.

    Idempotent upserts. Latency hours are then merged into their days' DailyLatency rows, which long windows read
    in their middle.
    """
    hours = list(hours)
    if kind == HEALTH:
        return sum(rollup_health_span(start, end, provider_ids) for start, end in hour_spans(hours))
    rows = sum(rollup_latency_span(start, end, provider_ids) for start, end in hour_spans(hours))
    return rows + sum(rollup_latency_day(day, provider_ids) for day in sorted({floor_day(h) for h in hours}))


def telemetry_rollup_range(*, start: datetime, end: datetime) -> int:
    """Rebuild both roll-ups for every hour in [start, end), then every offer's window summary: after a bulk import
    or a change of bucket layout."""
    hours, hour = [], floor_hour(start)
    while hour < end:
        hours.append(hour)
        hour += timedelta(hours=1)
    rows = telemetry_rollup(kind=HEALTH, hours=hours) + telemetry_rollup(kind=LATENCY, hours=hours)
    last_probed, provider_last_probed = last_probed_between(start, end)
    offer_summaries_refresh(last_probed=last_probed, provider_last_probed=provider_last_probed)
    return rows


@transaction.atomic
def telemetry_purge(*, now: datetime | None = None, days: int | None = None) -> dict[str, int]:
    """Enforce retention: delete raw rows and roll-ups older than `days` (TELEMETRY_RETENTION_DAYS, 30)."""
    cutoff = (now or timezone.now()) - timedelta(days=days or setting("TELEMETRY_RETENTION_DAYS"))
    return {
        "health_checks": HealthCheck.objects.filter(checked_at__lt=cutoff).delete()[0],
        "latency_samples": LatencySample.objects.filter(checked_at__lt=cutoff).delete()[0],
        # An hour is dropped once all of it is past the cutoff.
        "hourly_health": HourlyHealth.objects.filter(hour__lt=floor_hour(cutoff)).delete()[0],
        "hourly_latency": HourlyLatency.objects.filter(hour__lt=floor_hour(cutoff)).delete()[0],
        "daily_latency": DailyLatency.objects.filter(day__lt=floor_day(cutoff)).delete()[0],
    }


def telemetry_probe_round(
    *,
    kind: str,
    provider_slug: str | None = None,
    on_result: Callable[[ProbeResult], None] | None = None,
    **config_overrides,
) -> RoundSummary:
    """Probe every target of one kind concurrently, then record and roll up the results."""
    config = ProbeConfig.for_kind(kind, **config_overrides)
    summary = RoundSummary(kind=kind)
    targets = probe_targets(kind=kind, provider_slug=provider_slug)
    started = timezone.now()
    summary.results = probe_run(targets, config, on_result)
    summary.seconds = (timezone.now() - started).total_seconds()
    telemetry_record_results(results=summary.results)
    metrics.probe_round_observed(kind, summary.outcomes, summary.seconds)
    return summary
