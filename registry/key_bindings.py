"""Where a provider's key may go: the registry names keys only by allowed references, a registry load never
moves a provider that has a key to another API base URL, and never hands a key the catalogue already uses to a
provider on a host that key does not go to yet (a new provider, or an existing one given another provider's key
reference). Both are a curator's change in the admin, with a reason.

Approving a new base URL: change it on the provider in the admin (the change form asks for a reason, kept in the
provider's history), then change the registry file to match; a load whose URL differs from the database's for a
provider with a key reference is refused with FILE:LINE and writes nothing. Approving a key for another host: give
the provider (new or existing) that key reference in the admin, with a reason; then the load, or a routing
configuration naming it, passes.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from modelgraph.secrets import key_reference_error, secret_name

if TYPE_CHECKING:
    from registry.validation import ValidationReport


def check_key_references(report: ValidationReport) -> None:
    """Every provider's `api_key_env` is an allowed key reference (modelgraph.secrets.key_reference_error)."""
    for file in report.of_kind("provider"):
        error = key_reference_error(file.data.get("api_key_env") or "")
        if error is not None:
            report.add(file, file.line_of("api_key_env"), error)


def url_origin(url: str) -> str:
    """Where a URL sends requests, lower-cased: scheme, host and the port when one is given (the same host over
    plain http is another destination: the key would cross the network readable); '' when it names no host."""
    try:
        parts = urlsplit((url or "").strip())
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return (url or "").strip().lower()
    if not host:
        return ""
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def check_base_url_changes(report: ValidationReport) -> None:
    """Report each provider whose key this load would send somewhere new (reads the database): a keyed provider
    moved to another API base URL, or a key reference the catalogue already uses stated for a provider on a host
    that key does not go to now."""
    stated = {file.data["slug"]: file for file in report.of_kind("provider")}
    moved = _check_moves(report, stated)
    bound = stored_key_hosts()
    for slug, file in stated.items():
        if slug in moved:
            continue
        problem = key_destination_problem(bound, slug, file.data.get("api_key_env"), file.data.get("api_base_url"))
        if problem:
            report.add(file, file.line_of("api_key_env") or file.line_of("slug"), f"api_key_env: {problem}")


KeyHosts = dict[str, dict[str, list[str]]]


def stored_key_hosts() -> KeyHosts:
    """Where each key goes now: secret name → origin → the stored providers that send it there."""
    from catalog.models import Provider

    bound: KeyHosts = defaultdict(lambda: defaultdict(list))
    rows = Provider.objects.exclude(api_key_env="").values_list("slug", "api_base_url", "api_key_env")
    for slug, base_url, reference in rows.order_by("slug"):
        bound[secret_name(reference)][url_origin(base_url)].append(slug)
    return bound


def key_destination_problem(bound: KeyHosts, slug: str, reference: str | None, base_url: str | None) -> str | None:
    """Why provider `slug` may not get key `reference` at `base_url`: the catalogue already sends that key, and
    only to other hosts. A key nothing stored names yet goes nowhere new (its first holders set where it goes)."""
    reference = (reference or "").strip()
    hosts = bound.get(secret_name(reference)) if reference else None
    origin = url_origin(base_url or "")
    if not hosts or origin in hosts:
        return None
    now = "; ".join(f"{known or '(no host)'} ({', '.join(slugs)})" for known, slugs in sorted(hosts.items()))
    return (
        f"{reference!r} goes only to {now}; this would also send it to {origin or '(no host)'!r} for provider "
        f"{slug!r}: give the provider that key reference in the admin, with a reason, first"
    )


def _check_moves(report: ValidationReport, stated: dict) -> set[str]:
    """Keyed providers this load would move to another API base URL, reported; their slugs."""
    from catalog.models import Provider

    moved = set()
    stored = Provider.objects.filter(slug__in=list(stated)).values_list("slug", "api_base_url", "api_key_env")
    for slug, base_url, key_reference in stored:
        file = stated[slug]
        new_url, new_reference = file.data.get("api_base_url", ""), file.data.get("api_key_env", "")
        if new_url == base_url or not (key_reference or new_reference):
            continue
        moved.add(slug)
        line = file.line_of("api_base_url") or file.line_of("slug")
        report.add(
            file,
            line,
            f"api_base_url: provider {slug!r} has a key reference, so its API base URL changes "
            f"only in the admin with a reason ({base_url or '(none)'!r} → {new_url or '(none)'!r}); "
            "change it there first, then load",
        )
    return moved
