"""django-q2 task entry points of the gateway: thin, each calls one service."""

from __future__ import annotations

from dataclasses import asdict

from routing.recovery import routing_probe_due


def probe_due() -> dict:
    """Scheduled every ROUTING_PROBE_SCHEDULE_MINUTES (routing/schedules.py)."""
    return asdict(routing_probe_due())
