"""Telemetry knobs with their defaults; `settings.TELEMETRY_*` overrides each one."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

DEFAULTS = {
    "TELEMETRY_PROBE_CONCURRENCY": 25,
    "TELEMETRY_HEALTH_TIMEOUT": 10.0,  # seconds, the whole request
    "TELEMETRY_LATENCY_TIMEOUT": 30.0,  # seconds, from sending to the last streamed byte
    "TELEMETRY_CONNECT_TIMEOUT": 5.0,
    # An answer (a model listing, a completion, an error body, one streamed line) larger than this fails the probe
    # as malformed, read no further: a body without end must not take the worker's memory within the deadline.
    "TELEMETRY_MAX_RESPONSE_BYTES": 16 * 1024 * 1024,
    "TELEMETRY_MAX_TOKENS": 16,
    "TELEMETRY_PROMPT": "Count from 1 to 10, separated by spaces.",
    "TELEMETRY_RETENTION_DAYS": 30,
    "TELEMETRY_RANKING_DAYS": 7,
    # Fewer samples than this in the ranking window and a provider's rank is provisional.
    "TELEMETRY_MIN_LATENCY_SAMPLES": 20,
    "TELEMETRY_MIN_UPTIME_SAMPLES": 50,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])


@dataclass(frozen=True)
class ProbeConfig:
    """How one probe round behaves: bounded concurrency, one overall deadline per probe, a fixed small prompt."""

    concurrency: int
    timeout: float
    connect_timeout: float
    max_tokens: int
    prompt: str
    max_bytes: int = 16 * 1024 * 1024

    @classmethod
    def for_kind(cls, kind: str, **overrides) -> ProbeConfig:
        values = {
            "concurrency": setting("TELEMETRY_PROBE_CONCURRENCY"),
            "timeout": setting("TELEMETRY_HEALTH_TIMEOUT" if kind == "health" else "TELEMETRY_LATENCY_TIMEOUT"),
            "connect_timeout": setting("TELEMETRY_CONNECT_TIMEOUT"),
            "max_tokens": setting("TELEMETRY_MAX_TOKENS"),
            "prompt": setting("TELEMETRY_PROMPT"),
            "max_bytes": setting("TELEMETRY_MAX_RESPONSE_BYTES"),
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)
