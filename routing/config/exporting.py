"""Writing the rows that came from the routing configuration back as a configuration file: loading the export
changes nothing, and exporting again gives the same text."""

from __future__ import annotations

from typing import Any

import yaml

from catalog.models import Provider
from routing.config.document import (
    CAPABILITY_KEYS,
    POOL_KEYS,
    POOL_RELATIONS,
    POOL_RETRY_KEYS,
    POOL_ROTATION_KEYS,
    capability_values,
    pool_values,
)
from routing.config.records import ConfigurationLoad
from routing.models import Capability, Pool

HEADER = (
    "# Routing configuration exported by `manage.py routing_export`; load it with `manage.py routing_load FILE`.\n"
    "# Keys are named by reference (`${secrets:NAME}` or an environment variable name), never written here.\n"
)


def _stated(values: dict, defaults: dict, keys: dict[str, str]) -> dict[str, Any]:
    """YAML key → value for each field that differs from its default (the loader fills defaults back)."""
    return {key: values[name] for key, name in keys.items() if values[name] != defaults[name]}


def _capabilities() -> list[dict]:
    rows = {c.slug: c for c in Capability.objects.filter(from_config=True).select_related("parent")}
    defaults = capability_values({})
    ordered: list[str] = []

    def visit(slug: str) -> None:
        row = rows[slug]
        if slug in ordered:
            return
        if row.parent is not None and row.parent.slug in rows:
            visit(row.parent.slug)
        ordered.append(slug)

    for slug in sorted(rows):
        visit(slug)
    entries = []
    for slug in ordered:
        row = rows[slug]
        values = {name: getattr(row, name) for name in CAPABILITY_KEYS.values() if name != "parent"}
        values["parent"] = row.parent.slug if row.parent else None
        entries.append({"slug": slug, **_stated(values, defaults, CAPABILITY_KEYS)})
    return entries


def _pools() -> list[dict]:
    defaults = pool_values({})
    rows = (
        Pool.objects.filter(from_config=True)
        .select_related("capability")
        .prefetch_related(*POOL_RELATIONS)
        .order_by("capability__slug", "priority", "slug")
    )
    entries = []
    for row in rows:
        values = {name: getattr(row, name) for name in (*POOL_RETRY_KEYS.values(), *POOL_ROTATION_KEYS.values())}
        values.update({name: getattr(row, name) for name in POOL_KEYS.values() if name not in POOL_RELATIONS})
        values["capability"] = row.capability.slug
        for name in POOL_RELATIONS:
            values[name] = sorted(related.slug for related in getattr(row, name).all())
        entry: dict[str, Any] = {"slug": row.slug, **_stated(values, defaults, POOL_KEYS)}
        for block, keys in (("retry", POOL_RETRY_KEYS), ("rotation", POOL_ROTATION_KEYS)):
            stated = _stated(values, defaults, keys)
            if stated:
                entry[block] = stated
        entries.append(entry)
    return entries


def _providers() -> dict[str, dict]:
    latest = ConfigurationLoad.objects.order_by("-loaded_at", "-pk").only("document").first()
    named = sorted((latest.document.get("providers") or {}) if latest else {})
    rows = Provider.objects.filter(slug__in=named).exclude(api_key_env="").order_by("slug")
    return {slug: {"api_key": reference} for slug, reference in rows.values_list("slug", "api_key_env")}


def routing_config_document() -> dict:
    """The configuration that the database holds now, as a YAML-ready document."""
    document: dict[str, Any] = {"version": 1}
    for key, entries in (("capabilities", _capabilities()), ("pools", _pools()), ("providers", _providers())):
        if entries:
            document[key] = entries
    return document


def routing_config_export() -> str:
    body = yaml.safe_dump(routing_config_document(), sort_keys=False, allow_unicode=True, width=120)
    return HEADER + body
