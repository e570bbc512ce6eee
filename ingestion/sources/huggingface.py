"""Hugging Face Hub `GET /api/models?author=…`: one listing per lab, paginated by `Link: <…>; rel="next"`.

Authoritative (tier 3) for open-weight metadata: canonical URL, parameter counts (safetensors metadata, else read
from the name: `-70B`, `-235B-A22B`, `-17B-16E`), licence (`license:` tag, else the card's `license`), the date
the repository was created, and that the weights are open. Nothing else is observed: tags and pipeline types say
too little about a model's catalogue capabilities to be trusted as such.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ingestion.sources.base import (
    ListingAdapter,
    Page,
    SchemaMismatch,
    SourceRecord,
    compact,
    date_from_text,
    entries,
    positive_int,
    text,
)

AUTHORS = ("meta-llama", "mistralai", "CohereForAI", "google", "Qwen", "deepseek-ai")
EXPAND = ("createdAt", "tags", "safetensors", "cardData", "pipeline_tag", "library_name")
WEIGHT_TAGS = frozenset({"safetensors", "gguf", "pytorch", "transformers", "onnx", "mlx"})
_SCALE = {"M": 10**6, "B": 10**9, "T": 10**12}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([MBT])$", re.IGNORECASE)
_ACTIVE = re.compile(r"^A(\d+(?:\.\d+)?)([MBT])$", re.IGNORECASE)
_EXPERTS = re.compile(r"^\d+E$", re.IGNORECASE)
_MIXTURE = re.compile(r"^\d+x\d+(?:\.\d+)?[MBT]$", re.IGNORECASE)


def _count(number: str, unit: str) -> int:
    return int(Decimal(number) * _SCALE[unit.upper()])


def parameters_from_name(model_id: str) -> dict[str, int]:
    """Parameter counts a model's name states. `Qwen3-235B-A22B` → total and active; `Llama-4-Scout-17B-16E` →
    active only (17B is per token across 16 experts); `Mixtral-8x7B` → nothing (8×7B is not its total, 46.7B)."""
    tokens = re.split(r"[-_]", model_id.rsplit("/", 1)[-1])
    found: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if _MIXTURE.match(token):
            return {}
        if match := _ACTIVE.match(token):
            found["parameters_active"] = _count(*match.groups())
        elif (match := _SIZE.match(token)) and "parameters_total" not in found:
            following = tokens[index + 1] if index + 1 < len(tokens) else ""
            key = "parameters_active" if _EXPERTS.match(following) else "parameters_total"
            found.setdefault(key, _count(*match.groups()))
    return found


def licence(item: dict) -> str | None:
    tags = item.get("tags") if isinstance(item.get("tags"), list) else []
    value = next((t.split(":", 1)[1] for t in tags if isinstance(t, str) and t.startswith("license:")), None)
    card = item.get("cardData") if isinstance(item.get("cardData"), dict) else {}
    if not value:
        value = card.get("license") if isinstance(card.get("license"), str) else None
    if value == "other" and isinstance(card.get("license_name"), str):
        value = card["license_name"]  # "other" plus a named licence, e.g. llama3.3
    return text(value)


class HuggingFaceAdapter(ListingAdapter):
    name = "huggingface"
    tier = 3
    provider = None
    key_env = "HF_TOKEN"
    key_required = False  # a token raises rate limits; public listings need none
    default_base_url = "https://huggingface.co"
    page_size = 100
    authors = AUTHORS

    def headers(self, api_key):
        return {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def cursors(self):
        yield from self.authors

    def request(self, author, cursor):
        if cursor:
            return cursor, None  # the Link header's URL already carries every parameter
        params = [("author", author), ("limit", str(self.page_size))]
        params += [("expand[]", key) for key in EXPAND]
        return "/api/models", params

    def parse(self, body, response, author) -> Page:
        if not isinstance(body, list):
            raise SchemaMismatch(f"expected a JSON list of models, got {type(body).__name__}")
        observations = [self._observe(model_id, item) for model_id, item in entries(body, "id", self.name)]
        following = response.links.get("next", {}).get("url")
        return Page(observations, following or None)

    def _observe(self, model_id: str, item: dict) -> SourceRecord:
        safetensors = item.get("safetensors") if isinstance(item.get("safetensors"), dict) else {}
        tags = {t for t in item.get("tags", []) if isinstance(t, str)} if isinstance(item.get("tags"), list) else set()
        counts = parameters_from_name(model_id)
        if total := positive_int(safetensors.get("total")):
            counts["parameters_total"] = total
        fields = {
            "release_date": date_from_text(item.get("createdAt")),
            "canonical_url": f"https://huggingface.co/{model_id}",
            "license": licence(item),
            "open_weights": True if (safetensors or tags & WEIGHT_TAGS) else None,
            **counts,
        }
        return SourceRecord(self.name, model_id, None, compact(fields))
