"""django-q2 task entry points: thin, each calls one service."""

from __future__ import annotations

from telemetry.offer_summaries import offer_summaries_refresh_stale
from telemetry.probes import HEALTH, LATENCY
from telemetry.services import telemetry_probe_round, telemetry_purge


def probe_health(provider_slug: str | None = None) -> dict:
    return dict(telemetry_probe_round(kind=HEALTH, provider_slug=provider_slug).outcomes)


def probe_latency(provider_slug: str | None = None) -> dict:
    return dict(telemetry_probe_round(kind=LATENCY, provider_slug=provider_slug).outcomes)


def purge() -> dict:
    return telemetry_purge()


def refresh_summaries() -> int:
    return offer_summaries_refresh_stale()
