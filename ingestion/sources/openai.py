"""OpenAI `GET /v1/models`: the ids OpenAI serves and when each was created.

Authoritative for: which ids exist at OpenAI, and their release date (`created`). The listing states nothing else
(no names, limits or capabilities), so nothing else is observed. A `shutdown_date`, where the listing carries one,
is OpenAI's own sunset date. Fine-tuned models (`ft:…`) are an account's private artefacts, not catalogue models.
"""

from __future__ import annotations

from ingestion.sources.base import (
    ListingAdapter,
    Page,
    SourceRecord,
    compact,
    date_from_epoch,
    date_from_text,
    entries,
    expect,
)


class OpenAIAdapter(ListingAdapter):
    name = "openai"
    tier = 1
    provider = "openai"
    key_env = "OPENAI_API_KEY"
    default_base_url = "https://api.openai.com"

    def request(self, listing, cursor):
        return "/v1/models", None  # one page: the endpoint is not paginated

    def parse(self, body, response, listing) -> Page:
        observations = []
        for model_id, item in entries(expect(body, "data", list), "id", self.name):
            if model_id.startswith("ft:"):
                continue
            sunset = date_from_text(item.get("shutdown_date"))
            fields = compact(
                {
                    "release_date": date_from_epoch(item.get("created")),
                    "sunset_date": sunset,
                    "status": "deprecated" if sunset else None,
                }
            )
            observations.append(SourceRecord(self.name, model_id, self.provider, fields))
        return Page(observations)
