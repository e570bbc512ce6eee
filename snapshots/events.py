"""Which events a change between two versions of an entity's stable fields makes: price, limits, status, region…"""

from __future__ import annotations

from snapshots.models import EventKind

# Nested objects compared key by key, so an event names the exact field (`pricing.prompt`).
NESTED = ("pricing", "top_provider", "architecture", "data_policy")
LIMIT_FIELDS = {
    "context_length",
    "max_completion_tokens",
    "max_prompt_tokens",
    "max_prompt_images",
    "max_tokens_per_image",
    "per_request_limits",
    "top_provider.context_length",
    "top_provider.max_completion_tokens",
    "limit_rpm",  # endpoint details (coverage.py): rate limits
    "limit_rpd",
    "limit_rpm_cf",
}
STATUS_FIELDS = {"is_disabled", "is_deranked", "is_hidden"}
REGION_FIELDS = {"provider_region"}
MISSING = None


def _flatten(fields: dict) -> dict:
    flat = {}
    for key, value in fields.items():
        if key in NESTED and isinstance(value, dict):
            for sub, sub_value in value.items():
                flat[f"{key}.{sub}"] = sub_value
        else:
            flat[key] = value
    return flat


def field_kind(name: str) -> str:
    if name.startswith("pricing.") or name == "variable_pricings":
        return EventKind.PRICE_CHANGED
    if name in LIMIT_FIELDS:
        return EventKind.LIMITS_CHANGED
    if name in STATUS_FIELDS:
        return EventKind.STATUS_CHANGED
    if name in REGION_FIELDS:
        return EventKind.REGION_CHANGED
    return EventKind.CHANGED


def field_changes(before: dict, after: dict) -> list[tuple[str, str, object, object]]:
    """[(event kind, field, before, after)] for every field that differs; added fields have before = None."""
    old, new = _flatten(before), _flatten(after)
    changes = []
    for name in sorted(old.keys() | new.keys()):
        if old.get(name, MISSING) != new.get(name, MISSING) or (name in old) != (name in new):
            changes.append((field_kind(name), name, old.get(name), new.get(name)))
    return changes
