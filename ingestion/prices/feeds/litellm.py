"""LiteLLM's `model_prices_and_context_window.json`: per-token prices of ~3,000 provider/model keys, one JSON object.

Prices are USD per token (stated here per million); `*_above_<N>k_tokens` keys are long-context tiers; per-request,
per-image and web-search prices keep their own units (web search: the medium search-context price per query, times
1,000). The hourly mirror adds a top-level `last_updated` string, which dates every row of the file (valid_from).
Known feed errors are copied as stated, never corrected here: e.g. the wandb rows are 100,000 times too high (0.015
USD per token); cross-source verification flags them.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from ingestion.prices.feeds.base import MILLION, THOUSAND, DocumentFeed, money, tier_rows, when
from ingestion.prices.statements import PriceStatement
from ingestion.sources.base import SchemaMismatch

SOURCE = "litellm"
# litellm_provider → (our provider slug, the key prefix LiteLLM puts before the provider's own id). Only providers
# we list are named; every other litellm_provider states prices with provider=None (listed as unmatched).
PROVIDERS: dict[str, tuple[str, str]] = {
    "openai": ("openai", ""),
    "text-completion-openai": ("openai", ""),
    "anthropic": ("anthropic", ""),
    "gemini": ("google", "gemini/"),
    "vertex_ai-language-models": ("google-vertex", "vertex_ai/"),
    "vertex_ai-anthropic_models": ("google-vertex-anthropic", "vertex_ai/"),
    "bedrock": ("amazon-bedrock", "bedrock/"),
    "bedrock_converse": ("amazon-bedrock", "bedrock/"),
    "azure": ("azure", "azure/"),
    "mistral": ("mistral", "mistral/"),
    "codestral": ("mistral", "codestral/"),
    "deepseek": ("deepseek", "deepseek/"),
    "xai": ("xai", "xai/"),
    "groq": ("groq", "groq/"),
    "cerebras": ("cerebras", "cerebras/"),
    "together_ai": ("togetherai", "together_ai/"),
    "fireworks_ai": ("fireworks-ai", "fireworks_ai/"),
    "deepinfra": ("deepinfra", "deepinfra/"),
    "openrouter": ("openrouter", "openrouter/"),
    "novita": ("novita-ai", "novita/"),
    "perplexity": ("perplexity", "perplexity/"),
    "cohere": ("cohere", ""),
    "cohere_chat": ("cohere", ""),
    "nebius": ("nebius", "nebius/"),
    "scaleway": ("scaleway", "scaleway/"),
    "ovhcloud": ("ovhcloud", "ovhcloud/"),
    "github_copilot": ("github-copilot", "github_copilot/"),
    "cloudflare": ("cloudflare-workers-ai", "cloudflare/"),
    "databricks": ("databricks", "databricks/"),
    "moonshot": ("moonshotai", "moonshot/"),
    "zai": ("zai", "zai/"),
    "minimax": ("minimax", "minimax/"),
    "baseten": ("baseten", "baseten/"),
    "vercel_ai_gateway": ("vercel", "vercel_ai_gateway/"),
    "wandb": ("wandb", "wandb/"),
    "dashscope": ("alibaba", "dashscope/"),
    "snowflake": ("snowflake-cortex", "snowflake/"),
    "ai21": ("ai21", ""),
    "gmi": ("gmicloud", "gmi/"),
    "nvidia_nim": ("nvidia", "nvidia_nim/"),
    "friendliai": ("friendli", "friendliai/"),
    "meta_llama": ("llama", "meta_llama/"),
    "morph": ("morph", "morph/"),
    "v0": ("v0", "v0/"),
    "inception": ("inception", "inception/"),
    "sarvam": ("sarvam", "sarvam/"),
}
TEXT_MODES = frozenset({"chat", "completion", "responses"})  # rows of other modes carry a "mode:<mode>" note

PER_MILLION_TOKENS = {
    "input_cost_per_token": "price_input",
    "output_cost_per_token": "price_output",
    "cache_read_input_token_cost": "price_cached_input",
    "cache_creation_input_token_cost": "price_cache_write",
    "cache_creation_input_token_cost_above_1hr": "price_cache_write_1h",
    "output_cost_per_reasoning_token": "price_reasoning",
    "input_cost_per_audio_token": "price_audio_input",
    "output_cost_per_audio_token": "price_audio_output",
    "input_cost_per_image_token": "price_image_input",
    "output_cost_per_image_token": "price_image_output",
    "input_cost_per_token_batches": "price_batch_input",
    "output_cost_per_token_batches": "price_batch_output",
}
AS_STATED = {"output_cost_per_image": "price_per_image", "input_cost_per_request": "price_per_request"}
TIERED = re.compile(
    r"^(?P<base>input_cost_per_token|output_cost_per_token|cache_read_input_token_cost)_above_(?P<k>\d+)k_tokens$"
)
TIER_KEYS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cached_input",
}


def litellm_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A row's prices in catalogue terms (only what it states)."""
    fields: dict[str, Any] = {}
    for key, name in PER_MILLION_TOKENS.items():
        if (price := money(row.get(key), scale=MILLION)) is not None:
            fields[name] = price
    for key, name in AS_STATED.items():
        if (price := money(row.get(key))) is not None:
            fields[name] = price
    search = row.get("search_context_cost_per_query")
    if isinstance(search, dict) and (price := money(search.get("search_context_size_medium"), scale=THOUSAND)):
        fields["price_web_search"] = price
    tiers: dict[int, dict[str, Decimal]] = {}
    for key, value in row.items():
        if (found := TIERED.match(key)) and (price := money(value, scale=MILLION)) is not None:
            tiers.setdefault(int(found["k"]) * 1000, {})[TIER_KEYS[found["base"]]] = price
    if rows := tier_rows(tiers):
        fields["price_tiers"] = rows
    if "price_per_request" in fields and not {"price_input", "price_output"} & fields.keys():
        fields["billing"] = "per_request"
    return fields


def statements_from_document(
    body: Any, observed_at: datetime, *, valid_from: datetime | None = None
) -> list[PriceStatement]:
    """One copy of the price file as statements (the feed's parse; the price-history seeding reads dated copies).
    `valid_from` dates every row; by default the file's own `last_updated` does (None when it has none)."""
    if (
        not isinstance(body, dict)
        or "sample_spec" not in body
        and not any(isinstance(row, dict) and "litellm_provider" in row for row in body.values())
    ):
        raise SchemaMismatch("expected an object of model keys with litellm_provider entries")
    valid_from = valid_from or when(body.get("last_updated"))
    statements = []
    for key, row in body.items():
        if key in ("sample_spec", "last_updated") or not isinstance(row, dict):
            continue
        litellm_provider = str(row.get("litellm_provider") or "")
        fields = litellm_fields(row)
        if not litellm_provider or not fields:
            continue
        provider, _ = PROVIDERS.get(litellm_provider, (None, ""))
        mode = str(row.get("mode") or "chat")
        notes = () if mode in TEXT_MODES else (f"mode:{mode}",)
        statements.append(
            PriceStatement(SOURCE, litellm_provider, key, fields, observed_at, provider, valid_from, notes)
        )
    return statements


class LiteLLMFeed(DocumentFeed):
    name = SOURCE
    default_base_url = "https://raw.githubusercontent.com/BerriAI/litellm/main"
    path = "/model_prices_and_context_window.json"

    def parse(self, body: Any, observed_at: datetime) -> list[PriceStatement]:
        return statements_from_document(body, observed_at)


def litellm_offer_id(statement: PriceStatement) -> str:
    """The provider's own id inside a LiteLLM key: the key without LiteLLM's provider prefix."""
    _, prefix = PROVIDERS.get(statement.provider_key, (None, ""))
    key = statement.model_key
    return key[len(prefix) :] if prefix and key.startswith(prefix) else key
