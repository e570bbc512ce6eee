"""Google Gemini API `GET /v1beta/models`: page tokens (`pageSize`, `pageToken` → `nextPageToken`).

Authoritative for: display name, description, context window (`inputTokenLimit`), max output
(`outputTokenLimit`), thinking support (`thinking`), sampling-temperature support (`maxTemperature`), embeddings
(`embedContent` among `supportedGenerationMethods`) and preview status, which Google states in the model id
(`…-preview…`, `…-exp…`). No release dates: `version` is a version label, not a date.
The key goes in the `x-goog-api-key` header rather than `key=`, so it never appears in a URL or a log line.
"""

from __future__ import annotations

import re

from ingestion.sources.base import ListingAdapter, Page, SourceRecord, compact, entries, expect, positive_int, text

_PREVIEW = re.compile(r"(?:^|-)(?:preview|exp)(?:-|$)")


class GoogleAdapter(ListingAdapter):
    name = "google"
    tier = 1
    provider = "google"
    key_env = "GEMINI_API_KEY"
    default_base_url = "https://generativelanguage.googleapis.com"
    page_size = 50  # the API's default page size; at most 1000

    def headers(self, api_key):
        return {"x-goog-api-key": api_key}

    def request(self, listing, cursor):
        params = {"pageSize": self.page_size}
        if cursor:
            params["pageToken"] = cursor
        return "/v1beta/models", params

    def parse(self, body, response, listing) -> Page:
        items = expect(body, "models", list)
        token = body.get("nextPageToken")
        observations = [self._observe(name, item) for name, item in entries(items, "name", self.name)]
        return Page(observations, token if isinstance(token, str) and token else None)

    def _observe(self, resource_name: str, item: dict) -> SourceRecord:
        model_id = resource_name.removeprefix("models/")
        methods = item.get("supportedGenerationMethods")
        methods = methods if isinstance(methods, list) else []
        capabilities = []
        if item.get("thinking") is True:
            capabilities.append("reasoning")
        if "maxTemperature" in item or "temperature" in item:
            capabilities.append("temperature")
        if "embedContent" in methods:
            capabilities.append("embeddings")
        fields = {
            "name": text(item.get("displayName")),
            "description": text(item.get("description")),
            "context_window": positive_int(item.get("inputTokenLimit")),
            "max_output": positive_int(item.get("outputTokenLimit")),
            "capabilities": sorted(capabilities),
            "status": "preview" if _PREVIEW.search(model_id) else None,
        }
        return SourceRecord(self.name, model_id, self.provider, compact(fields))
