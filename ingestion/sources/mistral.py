"""Mistral `GET /v1/models`: one unpaginated list in which every alias is also an entry of its own.

Authoritative for: context window (`max_context_length`), description, aliases, deprecation date and replacement
model, and from `capabilities`: function calling (tools), vision and audio input. `name` is observed only when it
says more than the id. `created` is not observed: Mistral stamps every entry with the time of the request, so it
is not a release date.
"""

from __future__ import annotations

from ingestion.sources.base import (
    ListingAdapter,
    Page,
    SourceRecord,
    compact,
    date_from_text,
    entries,
    expect,
    positive_int,
    text,
)


class MistralAdapter(ListingAdapter):
    name = "mistral"
    tier = 1
    provider = "mistral"
    key_env = "MISTRAL_API_KEY"
    default_base_url = "https://api.mistral.ai"

    def request(self, listing, cursor):
        return "/v1/models", None

    def parse(self, body, response, listing) -> Page:
        items = expect(body, "data", list)
        return Page([self._observe(model_id, item) for model_id, item in entries(items, "id", self.name)])

    def _observe(self, model_id: str, item: dict) -> SourceRecord:
        name = text(item.get("name"))
        fields = {
            "name": name if name and name != model_id else None,
            "description": text(item.get("description")),
            "context_window": positive_int(item.get("max_context_length")),
        }
        capabilities = item.get("capabilities")
        if isinstance(capabilities, dict):
            flags = {key for key, value in capabilities.items() if value is True}
            fields["capabilities"] = sorted(
                {"function_calling": "tools", "vision": "vision", "audio": "audio"}[flag]
                for flag in flags & {"function_calling", "vision", "audio"}
            )
            if flags & {"completion_chat", "completion_fim"}:
                # A chat or FIM model reads text; vision and audio input are stated flags.
                extra = ({"image"} if "vision" in flags else set()) | ({"audio"} if "audio" in flags else set())
                fields["input_modalities"] = sorted({"text"} | extra)
        deprecation = date_from_text(item.get("deprecation"))
        if deprecation:
            fields["deprecation_date"] = deprecation
            fields["status"] = "deprecated"
            fields["successor"] = text(item.get("deprecation_replacement_model"))
        raw_aliases = item.get("aliases") if isinstance(item.get("aliases"), list) else []
        aliases = tuple(dict.fromkeys(a.strip() for a in raw_aliases if isinstance(a, str) and a.strip() != model_id))
        return SourceRecord(self.name, model_id, self.provider, compact(fields), tuple(a for a in aliases if a))
