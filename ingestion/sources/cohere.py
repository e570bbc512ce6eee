"""Cohere `GET /v1/models`: page tokens (`page_size`, `page_token` → `next_page_token`).

Authoritative for: context window (`context_length`), deprecation (`is_deprecated`, or `deprecated` in older
answers), embeddings (an `embed` endpoint) and, from `features`: tools, vision, structured output (JSON mode or
schema) and reasoning. Release dates and names are not in the listing. Fine-tuned models are an account's own.
"""

from __future__ import annotations

from ingestion.sources.base import ListingAdapter, Page, SourceRecord, compact, entries, expect, positive_int

FEATURES = {
    "tools": "tools",
    "strict_tools": "tools",
    "vision": "vision",
    "json_mode": "structured_output",
    "json_schema": "structured_output",
    "reasoning": "reasoning",
}


class CohereAdapter(ListingAdapter):
    name = "cohere"
    tier = 1
    provider = "cohere"
    key_env = "CO_API_KEY"
    default_base_url = "https://api.cohere.com"
    page_size = 20  # the API's default; ranges 1..1000

    def request(self, listing, cursor):
        params = {"page_size": self.page_size}
        if cursor:
            params["page_token"] = cursor
        return "/v1/models", params

    def parse(self, body, response, listing) -> Page:
        items = expect(body, "models", list)
        token = body.get("next_page_token")
        observations = [
            self._observe(model_id, item)
            for model_id, item in entries(items, "name", self.name)
            if item.get("finetuned") is not True
        ]
        return Page(observations, token if isinstance(token, str) and token else None)

    def _observe(self, model_id: str, item: dict) -> SourceRecord:
        features = item.get("features") if isinstance(item.get("features"), list) else []
        endpoints = item.get("endpoints") if isinstance(item.get("endpoints"), list) else []
        capabilities = {FEATURES[f] for f in features if f in FEATURES}
        if "embed" in endpoints:
            capabilities.add("embeddings")
        deprecated = item.get("is_deprecated", item.get("deprecated"))
        fields = {
            "context_window": positive_int(item.get("context_length")),
            "capabilities": sorted(capabilities),
            "status": "deprecated" if deprecated is True else None,
        }
        return SourceRecord(self.name, model_id, self.provider, compact(fields))
