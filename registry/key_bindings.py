"""Where a provider's key may go: the registry names keys only by allowed references, and a registry load never
moves a provider that has a key to another API base URL (that is a curator's change in the admin, with a reason).

Approving a new base URL: change it on the provider in the admin (the change form asks for a reason, kept in the
provider's history), then change the registry file to match; a load whose URL differs from the database's for a
provider with a key reference is refused with FILE:LINE and writes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelgraph.secrets import key_reference_error

if TYPE_CHECKING:
    from registry.validation import ValidationReport


def check_key_references(report: ValidationReport) -> None:
    """Every provider's `api_key_env` is an allowed key reference (modelgraph.secrets.key_reference_error)."""
    for file in report.of_kind("provider"):
        error = key_reference_error(file.data.get("api_key_env") or "")
        if error is not None:
            report.add(file, file.line_of("api_key_env"), error)


def check_base_url_changes(report: ValidationReport) -> None:
    """Report each provider whose key would be sent to a new API base URL by this load (reads the database)."""
    from catalog.models import Provider

    stated = {file.data["slug"]: file for file in report.of_kind("provider")}
    stored = Provider.objects.filter(slug__in=list(stated)).values_list("slug", "api_base_url", "api_key_env")
    for slug, base_url, key_reference in stored:
        file = stated[slug]
        new_url, new_reference = file.data.get("api_base_url", ""), file.data.get("api_key_env", "")
        if new_url == base_url or not (key_reference or new_reference):
            continue
        line = file.line_of("api_base_url") or file.line_of("slug")
        report.add(
            file,
            line,
            f"api_base_url: provider {slug!r} has a key reference, so its API base URL changes "
            f"only in the admin with a reason ({base_url or '(none)'!r} → {new_url or '(none)'!r}); "
            "change it there first, then load",
        )
