"""xAI `GET /v1/models` (every model, with its creation time) enriched by `GET /v1/language-models`.

Authoritative for: which ids exist at xAI, release date (`created`), and for chat models: input and output
modalities, the aliases a model answers to, and a context window where `max_prompt_length` is given. Prices in
`/v1/language-models` are not observations (catalogue prices live on mappings, set elsewhere).
"""

from __future__ import annotations

from ingestion.sources.base import (
    MODALITIES,
    ListingAdapter,
    Page,
    SourceError,
    SourceRecord,
    compact,
    date_from_epoch,
    entries,
    expect,
    ordered,
    positive_int,
)


class XAIAdapter(ListingAdapter):
    name = "xai"
    tier = 1
    provider = "xai"
    key_env = "XAI_API_KEY"
    default_base_url = "https://api.x.ai"

    def fetch(self, *, client, base_url=None, api_key=None, progress=None) -> list[SourceRecord]:
        http = self.open(client, base_url, api_key)
        listed = self.read(http, "/v1/models", None, api_key, self._parse_models)
        observations = {o.external_id: o for o in listed.observations}
        if progress:
            progress(len(observations))
        try:
            details = self.read(http, "/v1/language-models", None, api_key, self._parse_language_models, 2)
        except SourceError as exc:
            exc.partial = list(observations.values())
            raise
        for detail in details.observations:
            base = observations.get(detail.external_id)
            fields = {**(base.fields if base else {}), **detail.fields}
            observations[detail.external_id] = SourceRecord(
                self.name, detail.external_id, self.provider, fields, detail.aliases
            )
        if progress:
            progress(len(observations))
        return list(observations.values())

    def _parse_models(self, body, response) -> Page:
        observations = []
        for model_id, item in entries(expect(body, "data", list), "id", self.name):
            fields = compact({"release_date": date_from_epoch(item.get("created"))})
            observations.append(SourceRecord(self.name, model_id, self.provider, fields))
        return Page(observations)

    def _parse_language_models(self, body, response) -> Page:
        items = expect(body, "models", list)
        observations = []
        for model_id, item in entries(items, "id", self.name):
            inputs = ordered(_strings(item.get("input_modalities")), MODALITIES)
            fields = {
                "release_date": date_from_epoch(item.get("created")),
                "input_modalities": inputs,
                "output_modalities": ordered(_strings(item.get("output_modalities")), MODALITIES),
                "capabilities": ["vision"] if inputs and "image" in inputs else None,
                "context_window": positive_int(item.get("max_prompt_length")),
            }
            aliases = tuple(dict.fromkeys(a for a in _strings(item.get("aliases")) if a != model_id))
            observations.append(SourceRecord(self.name, model_id, self.provider, compact(fields), aliases))
        return Page(observations)


def _strings(value) -> list[str]:
    return [v.strip() for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []
