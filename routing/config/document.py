"""The routing configuration's shape: YAML keys ↔ model fields, with the models' own defaults filling gaps."""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.models import Capability, Pool

# YAML key → Capability field (the parent is a slug in YAML, a row in the database).
CAPABILITY_KEYS = {
    "name": "name",
    "parent": "parent",
    "description": "description",
    "endpoint": "endpoint",
    "requires": "catalogue_capabilities",
    "excludes": "excluded_capabilities",
    "input_modalities": "input_modalities",
    "output_modalities": "output_modalities",
    "member_pattern": "member_pattern",
    "enabled": "enabled",
}
POOL_KEYS = {
    "name": "name",
    "capability": "capability",
    "priority": "priority",
    "enabled": "enabled",
    "strategy": "strategy",
    "members": "members",
    "include_providers": "include_providers",
    "exclude_providers": "exclude_providers",
    "priority_list": "priority_list",
}
POOL_RETRY_KEYS = {
    "max_attempts": "max_attempts",
    "max_total_seconds": "max_total_seconds",
    "backoff_base": "backoff_base",
    "backoff_max": "backoff_max",
    "retry_after_max": "retry_after_max",
    "scope": "retry_scope",
}
POOL_ROTATION_KEYS = {
    "failures_to_deactivate": "failures_to_deactivate",
    "error_rate_threshold": "error_rate_threshold",
    "error_window_seconds": "error_window_seconds",
    "error_min_requests": "error_min_requests",
    "cooldown_seconds": "cooldown_seconds",
}
POOL_RELATIONS = ("members", "include_providers", "exclude_providers")
FLOAT_FIELDS = {"max_total_seconds", "backoff_base", "backoff_max", "retry_after_max", "error_rate_threshold"}


def _default(model, name: str):
    if name in ("parent", "capability"):
        return None
    if name in POOL_RELATIONS:
        return []
    found = model._meta.get_field(name)
    return found.get_default()


def capability_values(entry: dict) -> dict:
    """A capability entry as Capability field values, every field present (the model's default where unstated)."""
    return {f: entry[key] if key in entry else _default(Capability, f) for key, f in CAPABILITY_KEYS.items()}


def pool_values(entry: dict) -> dict:
    """A pool entry as Pool field values (relations as lists of slugs), every field present."""
    values = {f: entry[key] if key in entry else _default(Pool, f) for key, f in POOL_KEYS.items()}
    for block, keys in (("retry", POOL_RETRY_KEYS), ("rotation", POOL_ROTATION_KEYS)):
        stated = entry.get(block) or {}
        for key, name in keys.items():
            values[name] = stated[key] if key in stated else _default(Pool, name)
    for name in FLOAT_FIELDS:
        values[name] = float(values[name])
    for name in POOL_RELATIONS:
        values[name] = sorted(values[name])  # sets in the database: the file's order carries no meaning
    return values


@dataclass
class RoutingConfig:
    """A validated configuration: capabilities and pools as field values (file order), provider key references."""

    capabilities: dict[str, dict] = field(default_factory=dict)
    pools: dict[str, dict] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: dict) -> RoutingConfig:
        return cls(
            capabilities={c["slug"]: capability_values(c) for c in data.get("capabilities") or ()},
            pools={p["slug"]: pool_values(p) for p in data.get("pools") or ()},
            providers={slug: entry["api_key"].strip() for slug, entry in (data.get("providers") or {}).items()},
        )
