"""The process-level router: what a request's `model` names, and the plan of members it may try.

Everything a request reads is in memory: the routing table (rebuilt every ROUTING_TABLE_TTL seconds in the
background, the stale one served meanwhile), telemetry scores per pool (ROUTING_SCORE_TTL), route states (see
`rotation`). A request touches the database only on a state transition, and when a name is not a capability or a
model slug (alias look-ups are cached).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
import time
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.core.cache import cache

from catalog.resolution import model_lookup_exact
from routing import connectors
from routing.conf import setting
from routing.logwriter import RequestLogSink
from routing.orm import db
from routing.pipeline import NoRoute, Plan, RouteSet, route_plan
from routing.policies import PoolSpec
from routing.rotation import OFFER, Rotation
from routing.selectors import pool_scores, routing_table_load
from routing.strategies import ROUND_ROBIN, StrategyState
from routing.table import CapabilityNode, RoutingTable

logger = logging.getLogger(__name__)
CAPABILITY, MODEL = "capability", "model"
UNKNOWN_NAME_SECONDS = 5.0


@dataclass(frozen=True)
class Target:
    kind: str
    requested: str
    capability: CapabilityNode | None = None
    model_id: int | None = None
    provider_slug: str | None = None


class UnknownTarget(Exception):
    pass


class Router:
    def __init__(self, *, clock=time.time, monotonic=time.monotonic, sleep=asyncio.sleep, rng=None):
        self.monotonic = monotonic
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.table: RoutingTable | None = None
        self.table_expires = 0.0
        self.table_refreshing = False
        self.sets: dict[str, RouteSet] = {}
        self.scores: dict[str, tuple[float, dict]] = {}
        self.names: dict[str, tuple[float, int | None]] = {}
        self.strategies = StrategyState(clock=monotonic)
        self.rotation = Rotation(clock=clock, monotonic=monotonic)
        self.log = RequestLogSink()
        self.tasks: set[asyncio.Task] = set()

    def spawn(self, coroutine) -> asyncio.Task:
        # A fresh context: the task may outlive the request, and with it the request's thread-sensitive context.
        task = asyncio.get_running_loop().create_task(coroutine, context=contextvars.Context())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def drain(self) -> None:
        """Wait for background work (probes, refreshes) started so far."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    # The routing table.
    async def get_table(self) -> RoutingTable:
        now = self.monotonic()
        if self.table is None:
            self._set_table(await db(routing_table_load))
        elif now >= self.table_expires and not self.table_refreshing:
            self.table_refreshing = True
            self.spawn(self._refresh_table())
        return self.table

    def _set_table(self, table: RoutingTable) -> None:
        self.table, self.sets = table, {}
        self.table_expires = self.monotonic() + setting("ROUTING_TABLE_TTL")

    async def _refresh_table(self) -> None:
        try:
            self._set_table(await db(routing_table_load))
        except Exception:
            logger.exception("routing: could not reload the routing table; keeping the current one")
            self.table_expires = self.monotonic() + setting("ROUTING_TABLE_TTL")
        finally:
            self.table_refreshing = False

    # Names.
    async def resolve(self, name: str) -> Target:
        """A capability slug, a model slug or alias, optionally pinned to a provider as `model@provider`."""
        table = await self.get_table()
        if name in table.capabilities:
            return Target(CAPABILITY, name, capability=table.capabilities[name])
        model_id = await self._model_id(name, table)
        if model_id is not None:
            return Target(MODEL, name, model_id=model_id)
        model_name, _, provider = name.rpartition("@")
        if model_name and provider:
            model_id = await self._model_id(model_name, table)
            if model_id is not None:
                return Target(MODEL, name, model_id=model_id, provider_slug=provider)
        raise UnknownTarget(name)

    async def _model_id(self, name: str, table: RoutingTable) -> int | None:
        if name in table.model_slugs:
            return table.model_slugs[name]
        cached = self.names.get(name)
        if cached is not None and cached[0] > self.monotonic():
            return cached[1]
        found = await db(model_lookup_exact, name=name)
        model_id = found[0].pk if found else None
        ttl = setting("ROUTING_TABLE_TTL") if model_id is not None else UNKNOWN_NAME_SECONDS
        if len(self.names) > 10_000:
            self.names.clear()
        self.names[name] = (self.monotonic() + ttl, model_id)
        return model_id

    # Plans.
    async def route_sets(self, target: Target) -> list[RouteSet]:
        table = await self.get_table()
        if target.kind == CAPABILITY:
            entries = table.pools.get(target.capability.slug, [])
            return [await self._route_set(f"pool:{e.spec.slug}", e.spec, e.candidates) for e in entries]
        candidates = table.by_model.get(target.model_id, [])
        if target.provider_slug:
            candidates = [c for c in candidates if c.provider_slug == target.provider_slug]
        key = f"model:{target.model_id}@{target.provider_slug or ''}"
        route_set = self.sets.get(key)
        if route_set is not None and self.scores.get(key, (0,))[0] > self.monotonic():
            return [route_set]
        slug = table.models[target.model_id].slug if target.model_id in table.models else str(target.model_id)
        return [await self._route_set(key, PoolSpec.implicit(f"model:{slug}"), candidates)]

    async def _route_set(self, key: str, spec: PoolSpec, candidates) -> RouteSet:
        now = self.monotonic()
        cached = self.scores.get(key)
        if cached is None:
            cached = self.scores[key] = (now + setting("ROUTING_SCORE_TTL"), await self._load_scores(spec, candidates))
            self.sets.pop(key, None)
        elif cached[0] <= now:
            self.scores[key] = (now + setting("ROUTING_SCORE_TTL"), cached[1])  # one refresh at a time
            self.spawn(self._refresh_scores(key, spec, candidates))
        route_set = self.sets.get(key)
        if route_set is None:
            route_set = self.sets[key] = RouteSet(key, spec, candidates, cached[1])
        return route_set

    async def _load_scores(self, spec: PoolSpec, candidates) -> dict:
        if spec.strategy == ROUND_ROBIN or not candidates:
            return {}
        try:
            return await db(pool_scores, model_ids={c.model_id for c in candidates})
        except Exception:
            logger.exception("routing: no telemetry scores for %s; ordering by price", spec.slug)
            return {}

    async def _refresh_scores(self, key: str, spec: PoolSpec, candidates) -> None:
        scores = await self._load_scores(spec, candidates)
        self.scores[key] = (self.monotonic() + setting("ROUTING_SCORE_TTL"), scores)
        self.sets.pop(key, None)

    async def plan(self, target: Target, mode: str) -> Plan:
        await self.rotation.refresh()
        route_sets = await self.route_sets(target)
        try:
            return route_plan(
                route_sets,
                mode=mode,
                blocked=self.rotation.blocked,
                arrange=self.strategies.arrange,
                requested=target.requested,
            )
        except NoRoute as exc:
            members = (c for route_set in route_sets for c in route_set.by_mode[mode])
            exc.retry_after = self.rotation.soonest_back(members)
            raise
        finally:
            self.start_due_probes()

    # Recovery probes.
    def start_due_probes(self) -> None:
        if not self.rotation.due or self.table is None:
            return
        for key in self.rotation.take_due():
            lookup = self.table.by_mapping if key[0] == OFFER else self.table.by_provider
            candidate = lookup.get(key[1])
            if candidate is None:
                self.rotation.probing.discard(key)
                continue
            self.spawn(self.probe(key, candidate))

    async def probe(self, key: tuple[str, int], candidate) -> None:
        """One probe per key across processes (a cache lock), then the transition it calls for."""
        lock = f"routing:probe:{key[0]}:{key[1]}"
        timeout = int(setting("ROUTING_PROBE_TIMEOUT")) + 5
        try:
            if not await sync_to_async(cache.add, thread_sensitive=False)(lock, 1, timeout):
                self.rotation.probing.discard(key)
                return
        except Exception:
            pass  # no cache: probe anyway; at worst two processes probe the same offer
        try:
            ok, error = await connectors.probe(candidate, provider_wide=key[0] != OFFER)
            await self.rotation.apply_probe(key, ok, error)
        except Exception:
            self.rotation.probing.discard(key)
            logger.exception("routing: probe of %s %s failed to complete", *key)
        finally:
            try:
                await sync_to_async(cache.delete, thread_sensitive=False)(lock)
            except Exception:
                pass


_router: Router | None = None


def get_router() -> Router:
    global _router
    if _router is None:
        _router = Router()
    return _router


def router_reset(router: Router | None = None) -> Router:
    """Forget every in-process memory (as a restart does); states are re-read from the database."""
    global _router
    _router = router or Router()
    return _router
