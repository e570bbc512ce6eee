"""Loading a checked routing configuration: one transaction, rows matched by slug, only differences written.

Rows the file declares are marked `from_config`; a row marked so that the file no longer declares is removed (a pool,
or a capability nothing else hangs on) or handed back to the curators (unmarked). A second load of the same file
writes nothing at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction

from catalog.models import Model, Provider
from registry.validation import Problem
from routing.config.document import POOL_RELATIONS, RoutingConfig
from routing.config.records import ConfigurationLoad
from routing.config.validation import ConfigReport, routing_config_check
from routing.models import Capability, Pool

CHANGE_REASON = "routing configuration"
_LOCK_ID = 0x726F757465  # one load at a time across processes (PostgreSQL advisory lock)


class RoutingConfigInvalid(Exception):
    def __init__(self, report: ConfigReport):
        super().__init__(f"{len(report.problems)} problem(s) in {report.source}")
        self.report = report

    @property
    def problems(self) -> list[Problem]:
        return self.report.problems


@dataclass
class LoadResult:
    source: str
    changes: list[str] = field(default_factory=list)
    load: ConfigurationLoad | None = None


def routing_config_load(path: Path | str) -> LoadResult:
    """Check the file, then make the database say what it says (or raise RoutingConfigInvalid, changing nothing)."""
    path = Path(path)
    report = routing_config_check(path)
    if not report.ok or report.config is None:
        raise RoutingConfigInvalid(report)
    result = LoadResult(source=str(path))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
        result.changes = _apply(report.config)
        document = config_as_json(report.config)
        latest = ConfigurationLoad.objects.order_by("-loaded_at", "-pk").only("document").first()
        if result.changes or latest is None or latest.document.get("providers") != document["providers"]:
            result.load = ConfigurationLoad.objects.create(
                source=str(path),
                digest=hashlib.sha256(path.read_bytes()).hexdigest(),
                document=document,
                changes=result.changes,
            )
    return result


def config_as_json(config: RoutingConfig) -> dict:
    return {"capabilities": config.capabilities, "pools": config.pools, "providers": config.providers}


def _parents_first(declared: dict[str, dict]) -> list[str]:
    ordered: list[str] = []

    def visit(slug: str) -> None:
        if slug in ordered:
            return
        parent = declared[slug]["parent"]
        if parent in declared:
            visit(parent)
        ordered.append(slug)

    for slug in declared:
        visit(slug)
    return ordered


def _apply(config: RoutingConfig) -> list[str]:
    changes = _apply_capabilities(config)
    changes += _apply_pools(config)
    changes += _remove_undeclared(config)
    changes += _apply_provider_keys(config)
    return changes


def _apply_capabilities(config: RoutingConfig) -> list[str]:
    changes = []
    rows = {c.slug: c for c in Capability.objects.all()}
    for slug in _parents_first(config.capabilities):
        values = dict(config.capabilities[slug])
        parent_slug = values.pop("parent")
        parent_id = rows[parent_slug].pk if parent_slug else None
        row = rows.get(slug)
        if row is None:
            rows[slug] = Capability.objects.create(slug=slug, parent_id=parent_id, from_config=True, **values)
            changes.append(f"capability {slug}: created")
            continue
        changed = [name for name, value in values.items() if getattr(row, name) != value]
        for name in changed:
            setattr(row, name, values[name])
        if row.parent_id != parent_id:
            row.parent_id = parent_id
            changed.append("parent")
        if not row.from_config:
            row.from_config = True
            changed.append("from_config")
        if changed:
            row.save(update_fields=[*changed, "updated_at"])
            changes.append(f"capability {slug}: {', '.join(changed)}")
    return changes


def _relation_ids(config: RoutingConfig) -> dict[str, dict[str, int]]:
    models = {slug for pool in config.pools.values() for slug in pool["members"]}
    providers = {slug for pool in config.pools.values() for key in POOL_RELATIONS[1:] for slug in pool[key]}
    return {
        "model": dict(Model.objects.filter(slug__in=models).values_list("slug", "pk")),
        "provider": dict(Provider.objects.filter(slug__in=providers).values_list("slug", "pk")),
    }


def _apply_pools(config: RoutingConfig) -> list[str]:
    changes = []
    ids = _relation_ids(config)
    capabilities = dict(Capability.objects.values_list("slug", "pk"))
    rows = {p.slug: p for p in Pool.objects.prefetch_related(*POOL_RELATIONS)}
    for slug, declared in config.pools.items():
        values = {k: v for k, v in declared.items() if k not in POOL_RELATIONS and k != "capability"}
        values["capability_id"] = capabilities[declared["capability"]]
        wanted = {
            name: {ids["model" if name == "members" else "provider"][s] for s in declared[name]}
            for name in POOL_RELATIONS
        }
        row = rows.get(slug)
        if row is None:
            row = Pool.objects.create(slug=slug, from_config=True, **values)
            for name, pks in wanted.items():
                getattr(row, name).set(pks)
            changes.append(f"pool {slug}: created")
            continue
        changed = [name for name, value in values.items() if getattr(row, name) != value]
        for name in changed:
            setattr(row, name, values[name])
        if not row.from_config:
            row.from_config = True
            changed.append("from_config")
        if changed:
            row.save(update_fields=[*changed, "updated_at"])
        for name, pks in wanted.items():
            if {related.pk for related in getattr(row, name).all()} != pks:
                getattr(row, name).set(pks)
                changed.append(name)
        if changed:
            changes.append(f"pool {slug}: {', '.join(c.removesuffix('_id') for c in changed)}")
    return changes


def _remove_undeclared(config: RoutingConfig) -> list[str]:
    changes = []
    for pool in Pool.objects.filter(from_config=True).exclude(slug__in=list(config.pools)).order_by("slug"):
        pool.delete()
        changes.append(f"pool {pool.slug}: removed")
    gone = Capability.objects.filter(from_config=True).exclude(slug__in=list(config.capabilities))
    # Children before parents: a parent whose children go is then free to go too.
    for capability in sorted(gone, key=_depth, reverse=True):
        if capability.is_default or capability.children.exists() or capability.pools.exists():
            capability.from_config = False
            capability.save(update_fields=["from_config", "updated_at"])
            changes.append(f"capability {capability.slug}: no longer from configuration (kept: still in use)")
        else:
            capability.delete()
            changes.append(f"capability {capability.slug}: removed")
    return changes


def _depth(capability: Capability) -> int:
    depth, node = 0, capability.parent
    while node is not None and depth < 50:
        depth, node = depth + 1, node.parent
    return depth


def _apply_provider_keys(config: RoutingConfig) -> list[str]:
    changes = []
    for provider in Provider.objects.filter(slug__in=list(config.providers)).order_by("slug"):
        reference = config.providers[provider.slug]
        if provider.api_key_env != reference:
            provider.api_key_env = reference
            provider._change_reason = CHANGE_REASON  # type: ignore[attr-defined]  # simple-history reads it
            provider.save(update_fields=["api_key_env", "updated_at"])
            changes.append(f"provider {provider.slug}: api_key reference")
    return changes
