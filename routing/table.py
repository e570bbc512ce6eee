"""The routing table: capability tree, pools and routable offers as plain values, rebuilt from the database every
few seconds and read by every request without a query.

Membership: a model belongs to a capability when it meets the node's requirements and those of each ancestor —
catalogue capabilities it must have and must not have, modalities it must accept and produce, a name pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from routing.candidates import RouteCandidate
from routing.policies import PoolSpec


@dataclass(frozen=True)
class ModelInfo:
    id: int
    slug: str
    name: str
    owned_by: str = ""
    capabilities: frozenset[str] = frozenset()
    input_modalities: frozenset[str] = frozenset()
    output_modalities: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CapabilityNode:
    id: int
    slug: str
    name: str
    parent_id: int | None = None
    endpoint: str = "chat"
    description: str = ""
    requires: frozenset[str] = frozenset()
    excludes: frozenset[str] = frozenset()
    inputs: frozenset[str] = frozenset()
    outputs: frozenset[str] = frozenset()
    pattern: str = ""
    enabled: bool = True

    def admits_own(self, model: ModelInfo) -> bool:
        if not self.requires <= model.capabilities or self.excludes & model.capabilities:
            return False
        if not self.inputs <= model.input_modalities or not self.outputs <= model.output_modalities:
            return False
        if self.pattern:
            regex = re.compile(self.pattern, re.IGNORECASE)
            return bool(regex.search(model.slug) or regex.search(model.name))
        return True


def capability_admits(node: CapabilityNode, nodes: dict[int, CapabilityNode], model: ModelInfo) -> bool:
    """Whether `model` meets the requirements of `node` and of every ancestor."""
    seen: set[int] = set()
    current: CapabilityNode | None = node
    while current is not None and current.id not in seen:
        if not current.admits_own(model):
            return False
        seen.add(current.id)
        current = nodes.get(current.parent_id) if current.parent_id else None
    return True


@dataclass
class PoolEntry:
    spec: PoolSpec
    candidates: list[RouteCandidate]


@dataclass
class RoutingTable:
    capabilities: dict[str, CapabilityNode] = field(default_factory=dict)  # enabled nodes by slug
    pools: dict[str, list[PoolEntry]] = field(default_factory=dict)  # by capability slug, by priority
    by_model: dict[int, list[RouteCandidate]] = field(default_factory=dict)
    models: dict[int, ModelInfo] = field(default_factory=dict)  # routable models only
    model_slugs: dict[str, int] = field(default_factory=dict)
    by_mapping: dict[int, RouteCandidate] = field(default_factory=dict)
    by_provider: dict[int, RouteCandidate] = field(default_factory=dict)  # any one offer of each provider (probes)

    @classmethod
    def build(
        cls,
        nodes: list[CapabilityNode],
        pools: list[tuple[PoolSpec, dict]],
        candidates: list[RouteCandidate],
        models: dict[int, ModelInfo],
    ) -> RoutingTable:
        """`pools` pairs each spec with its filters: {"members": set, "include": set, "exclude": set} of ids."""
        table = cls(models={})
        for candidate in candidates:
            table.by_model.setdefault(candidate.model_id, []).append(candidate)
            table.by_mapping[candidate.mapping_id] = candidate
            table.by_provider.setdefault(candidate.provider_id, candidate)
        table.models = {pk: info for pk, info in models.items() if pk in table.by_model}
        table.model_slugs = {info.slug: pk for pk, info in table.models.items()}
        by_id = {node.id: node for node in nodes}
        for node in nodes:
            if not node.enabled:
                continue
            table.capabilities[node.slug] = node
            members = [m for m in table.models.values() if capability_admits(node, by_id, m)]
            node_candidates = [c for m in members for c in table.by_model[m.id]]
            entries = [
                PoolEntry(spec, [c for c in node_candidates if _pool_admits(filters, c)])
                for spec, filters in pools
                if spec.capability_id == node.id
            ]
            if not entries:
                entries = [PoolEntry(PoolSpec.implicit(f"{node.slug}:default", node.id), node_candidates)]
            table.pools[node.slug] = sorted(entries, key=lambda e: (e.spec.priority, e.spec.slug))
        return table


def _pool_admits(filters: dict, candidate: RouteCandidate) -> bool:
    if filters.get("members") and candidate.model_id not in filters["members"]:
        return False
    if filters.get("include") and candidate.provider_id not in filters["include"]:
        return False
    return candidate.provider_id not in filters.get("exclude", ())
