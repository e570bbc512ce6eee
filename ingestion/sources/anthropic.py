"""Anthropic `GET /v1/models`: cursor-paginated (`has_more`, `last_id` → `after_id`), newest first.

Authoritative for: display name, release date (`created_at`), context window (`max_input_tokens`), max output
(`max_tokens`) and, from `capabilities`, image/PDF input, extended thinking and structured outputs. Older API
versions return only id/display_name/created_at; absent keys are simply not observed.
"""

from __future__ import annotations

from ingestion.sources.base import (
    ListingAdapter,
    Page,
    SchemaMismatch,
    SourceRecord,
    compact,
    date_from_text,
    entries,
    expect,
    positive_int,
    text,
)

API_VERSION = "2023-06-01"


def _supported(capabilities: dict, key: str) -> bool | None:
    value = capabilities.get(key)
    if isinstance(value, dict) and isinstance(value.get("supported"), bool):
        return value["supported"]
    return None


class AnthropicAdapter(ListingAdapter):
    name = "anthropic"
    tier = 1
    provider = "anthropic"
    key_env = "ANTHROPIC_API_KEY"
    default_base_url = "https://api.anthropic.com"
    page_size = 20  # the API's default; ranges 1..1000

    def headers(self, api_key):
        return {"x-api-key": api_key, "anthropic-version": API_VERSION}

    def request(self, listing, cursor):
        params = {"limit": self.page_size}
        if cursor:
            params["after_id"] = cursor
        return "/v1/models", params

    def parse(self, body, response, listing) -> Page:
        items = expect(body, "data", list)
        has_more = expect(body, "has_more", bool)
        observations = [self._observe(model_id, item) for model_id, item in entries(items, "id", self.name)]
        next_cursor = None
        if has_more:
            next_cursor = text(body.get("last_id"))
            if not next_cursor:
                raise SchemaMismatch("has_more is true but last_id is missing")
        return Page(observations, next_cursor)

    def _observe(self, model_id: str, item: dict) -> SourceRecord:
        capabilities = item.get("capabilities") if isinstance(item.get("capabilities"), dict) else None
        fields = {
            "name": text(item.get("display_name")),
            "release_date": date_from_text(item.get("created_at")),
            "context_window": positive_int(item.get("max_input_tokens")),
            "max_output": positive_int(item.get("max_tokens")),
        }
        if capabilities is not None:
            image, pdf = _supported(capabilities, "image_input"), _supported(capabilities, "pdf_input")
            states = {
                "vision": image,
                "reasoning": _supported(capabilities, "thinking"),
                "structured_output": _supported(capabilities, "structured_outputs"),
            }
            fields["capabilities"] = sorted(name for name, on in states.items() if on)
            # Every Claude model reads text; image and PDF input are stated per model.
            fields["input_modalities"] = ["text", *(["image"] if image else []), *(["pdf"] if pdf else [])]
        return SourceRecord(self.name, model_id, self.provider, compact(fields))
