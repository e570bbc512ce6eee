"""deprecations.info `GET /v1/deprecations.json`: one list of deprecation notices scraped from providers' pages.

Authoritative for nothing; it fills gaps (tier 2): the announcement date becomes the deprecation date, the shutdown
date the sunset date, the replacement the successor, and every listed model is "deprecated". A replacement is kept
only when it reads as one model id (the feed also has prose such as "Claude Opus 4.1, Claude Sonnet 4.5").
An entry naming several ids ("command-r-03-2024, command-r, …", "a, b, or c") is one observation per id.
What a notice applies to (one platform's offer, one dated snapshot, or the model) is decided when it is applied:
ingestion.lifecycle.
"""

from __future__ import annotations

import logging
import re

from ingestion.sources.base import (
    ListingAdapter,
    Page,
    SchemaMismatch,
    SourceRecord,
    compact,
    date_from_text,
    entries,
    text,
)

logger = logging.getLogger(__name__)

# The feed's provider names → our provider slugs.
PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "google vertex": "google-vertex",
    "google vertex ai": "google-vertex",
    "cohere": "cohere",
    "azure": "azure",
    "aws bedrock": "amazon-bedrock",
    "amazon bedrock": "amazon-bedrock",
}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$")


def provider_slug(name: str | None) -> str | None:
    if not name:
        return None
    key = " ".join(name.lower().split())
    return PROVIDERS.get(key) or re.sub(r"[^a-z0-9]+", "-", key).strip("-") or None


_LIST = re.compile(r"\s*,\s*(?:(?:or|and)\s+)?|\s+(?:or|and)\s+")


def model_ids(raw: str) -> list[str]:
    """'a, b, or c' → [a, b, c] when every part is an id; otherwise the whole text is one (named) id."""
    parts = [part for part in _LIST.split(raw.strip()) if part]
    if len(parts) > 1 and all(_ID.match(part) for part in parts):
        return list(dict.fromkeys(parts))
    return [" ".join(raw.split())]


class DeprecationsAdapter(ListingAdapter):
    name = "deprecations"
    tier = 2
    provider = None
    key_env = None
    key_required = False
    default_base_url = "https://deprecations.info"

    def headers(self, api_key):
        return {}

    def request(self, listing, cursor):
        return "/v1/deprecations.json", None

    def parse(self, body, response, listing) -> Page:
        if not isinstance(body, list):
            raise SchemaMismatch(f"expected a JSON list of notices, got {type(body).__name__}")
        observations, without_provider, notices = [], 0, 0
        for raw_id, item in entries(body, "model_id", self.name):
            notices += 1
            if not isinstance(item.get("provider"), str) or not item["provider"].strip():
                # One odd notice is skipped (like an item without an id); only a list of them is a schema change.
                logger.warning("%s: skipping the notice for %r: it names no provider", self.name, raw_id)
                without_provider += 1
                continue
            replacement = text(item.get("replacement_model"))
            fields = compact(
                {
                    "status": "deprecated",
                    "deprecation_date": date_from_text(item.get("announcement_date")),
                    "sunset_date": date_from_text(item.get("shutdown_date")),
                    "successor": replacement if replacement and _ID.match(replacement) else None,
                }
            )
            provider = provider_slug(item["provider"])
            for model_id in model_ids(raw_id):
                own = {k: v for k, v in fields.items() if not (k == "successor" and v == model_id)}
                observations.append(SourceRecord(self.name, model_id, provider, own))
        if notices and without_provider == notices:
            raise SchemaMismatch(f"none of the {notices} notices names a provider")
        return Page(observations)
