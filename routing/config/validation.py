"""Checking a routing configuration file: YAML syntax, JSON Schema, then what the schema cannot say (duplicate slugs,
unknown capabilities, models and providers, loops in the tree, patterns, key references). Every problem is reported
as `FILE:LINE: field: message`, and a file with any problem loads nothing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings
from jsonschema import Draft202012Validator

from catalog.models import Model, Provider
from modelgraph.secrets import ENV_NAME, FORMS, REFERENCE, key_reference_error
from registry.key_bindings import KeyHosts, key_destination_problem, stored_key_hosts
from registry.schema_messages import path_text, schema_message
from registry.validation import Problem
from registry.yamlsafe import ParsedDocument, RegistryFileError, parse_file
from routing.config.document import RoutingConfig
from routing.models import Capability

SCHEMA_PATH = Path(__file__).resolve().parent / "routing.schema.json"
MAX_BYTES = 1_000_000


@cache
def schema_validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@dataclass
class ConfigReport:
    source: str
    document: ParsedDocument | None = None
    config: RoutingConfig | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.config is not None

    def add(self, path: tuple, message: str) -> None:
        line = self.document.line_of(list(path)) if self.document else None
        where = f"{path_text(path)}: " if path else ""
        self.problems.append(Problem(self.source, line, f"{where}{message}"))


def routing_config_check(path: Path | str) -> ConfigReport:
    """Parse and check a configuration file against the schema and the database; `report.config` when it is sound."""
    path = Path(path)
    report = ConfigReport(source=str(path))
    try:
        report.document = parse_file(path, getattr(settings, "ROUTING_CONFIG_MAX_BYTES", MAX_BYTES))
    except RegistryFileError as exc:
        report.problems.append(Problem(report.source, exc.line, exc.message))
        return report
    data = report.document.data
    if not isinstance(data, dict):
        report.problems.append(Problem(report.source, 1, "(document): a mapping with `version: 1` is expected"))
        return report
    errors = sorted(schema_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        report.problems.append(
            Problem(report.source, report.document.line_of(list(error.absolute_path)), schema_message(error))
        )
    if errors:
        return report
    _check_references(report, data)
    if not report.problems:
        report.config = RoutingConfig.from_data(data)
    report.problems.sort(key=lambda p: (p.line or 0, p.message))
    return report


def _duplicates(report: ConfigReport, entries: list[dict], section: str) -> None:
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if entry["slug"] in seen:
            first = report.document.line_of([section, seen[entry["slug"]], "slug"]) if report.document else None
            report.add((section, index, "slug"), f"{entry['slug']!r} is declared twice (first at line {first})")
        seen.setdefault(entry["slug"], index)


def _check_references(report: ConfigReport, data: dict) -> None:
    capabilities, pools = data.get("capabilities") or [], data.get("pools") or []
    _duplicates(report, capabilities, "capabilities")
    _duplicates(report, pools, "pools")
    declared = {c["slug"]: c for c in capabilities}
    # A capability the file does not declare may be named if a curator (or the default tree) made it.
    existing = set(Capability.objects.filter(from_config=False).values_list("slug", flat=True))
    known = existing | set(declared)
    for index, entry in enumerate(capabilities):
        parent = entry.get("parent")
        if parent is not None and parent not in known:
            report.add(("capabilities", index, "parent"), f"unknown capability {parent!r}")
        if entry.get("member_pattern"):
            try:
                re.compile(entry["member_pattern"])
            except re.error as exc:
                report.add(("capabilities", index, "member_pattern"), f"not a regular expression: {exc}")
    _check_tree_loops(report, capabilities, declared)
    model_slugs = {slug for pool in pools for slug in pool.get("members", ())}
    found_models = set(Model.objects.filter(slug__in=model_slugs).values_list("slug", flat=True))
    provider_slugs = {
        slug for pool in pools for key in ("include_providers", "exclude_providers") for slug in pool.get(key, ())
    } | set(data.get("providers") or {})
    found_providers = dict(Provider.objects.filter(slug__in=provider_slugs).values_list("slug", "api_base_url"))
    for index, pool in enumerate(pools):
        if pool["capability"] not in known:
            report.add(("pools", index, "capability"), f"unknown capability {pool['capability']!r}")
        for position, slug in enumerate(pool.get("members", ())):
            if slug not in found_models:
                report.add(("pools", index, "members", position), f"unknown model {slug!r} (a catalogue model slug)")
        for key in ("include_providers", "exclude_providers"):
            for position, slug in enumerate(pool.get(key, ())):
                if slug not in found_providers:
                    report.add(("pools", index, key, position), f"unknown provider {slug!r}")
    bound: KeyHosts | None = None
    for slug, entry in (data.get("providers") or {}).items():
        if slug not in found_providers:
            report.add(("providers", slug), f"unknown provider {slug!r}")
        problem = key_reference_problem(entry["api_key"])
        if problem is None and slug in found_providers:
            # A key the catalogue already sends to other hosts is not handed to this provider's host from here.
            bound = bound if bound is not None else stored_key_hosts()
            problem = key_destination_problem(bound, slug, entry["api_key"], found_providers[slug])
        if problem:
            report.add(("providers", slug, "api_key"), problem)


def key_reference_problem(value: str) -> str | None:
    """Why `value` cannot name a provider's key here; a value that is not a reference is never echoed (it may be
    the secret itself)."""
    value = value.strip()
    if not (REFERENCE.match(value) or ENV_NAME.match(value)):
        return f"not a secret reference: write {FORMS}; the key itself never goes in this file"
    error = key_reference_error(value)
    return error.removeprefix("api_key_env: ") if error else None


def _check_tree_loops(report: ConfigReport, capabilities: list[dict], declared: dict[str, dict]) -> None:
    for index, entry in enumerate(capabilities):
        seen, slug = [entry["slug"]], entry.get("parent")
        while slug in declared and slug not in seen:
            seen.append(slug)
            slug = declared[slug].get("parent")
        if slug == entry["slug"]:
            report.add(("capabilities", index, "parent"), f"closes a loop ({' → '.join([*seen, slug])})")
