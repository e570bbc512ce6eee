"""Recovery without traffic: probe every offer and provider whose cooldown is over, so an idle deployment recovers.

Run every minute by a django-q2 schedule (routing/schedules.py) and on demand by `manage.py routing_probe`. Traffic
probes the same members as it meets them; a probe of one member runs once across processes (the router's cache lock),
and each transition is stored and published like any other (routing.services), so gateway processes pick it up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from routing.router import Router


@dataclass(frozen=True)
class ProbeRound:
    probed: int
    recovered: int


async def route_states_probe_due(*, router: Router | None = None) -> ProbeRound:
    """Probe what is due now and wait for the answers; the routing table is read only when something is due."""
    router = router or Router()
    await router.rotation.refresh()
    now = router.rotation.clock()
    due = [key for key, entry in router.rotation.entries.items() if entry.until is not None and entry.until <= now]
    if not due:
        return ProbeRound(0, 0)
    await router.get_table()
    router.rotation.due.update(due)
    router.start_due_probes()
    await router.drain()
    return ProbeRound(len(due), sum(1 for key in due if key not in router.rotation.entries))


def routing_probe_due() -> ProbeRound:
    """The same from sync code (a django-q2 task, a management command): a fresh router on its own event loop."""
    return asyncio.run(route_states_probe_due())
