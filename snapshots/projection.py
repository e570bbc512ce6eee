"""The newest complete batch as normalised offers, for ingestion to turn into offers of the `openrouter` provider.

Each endpoint is one OpenRouter offer under OpenRouter's endpoint id (`deepseek/deepseek-v3@deepinfra/fp8`:
the model id with its `:variant` suffix, `@`, the endpoint tag); the upstream provider that serves it (`served_by`),
its quantization and its variant (whatever follows `:` in the model id: `free`, `extended`, `thinking`, ...) are
facts about that offer, never a reason to file it under the upstream provider.

OpenRouter prices are USD per token (or per request/image) as decimal strings; offers carry USD per million
tokens as Decimals, like the catalogue's mappings. A negative price (OpenRouter's "-1": variable, e.g. routers)
is no price at all.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from snapshots.figures import batch_figures
from snapshots.models import Batch, EntityKind, EntityVersion

PROVENANCE = "openrouter"
PER_MILLION = Decimal(1_000_000)
SIX_PLACES = Decimal("0.000001")
TOKEN_PRICES = {
    "price_input": "prompt",
    "price_output": "completion",
    "price_cached_input": "input_cache_read",
    "price_cache_write": "input_cache_write",
    "price_reasoning": "internal_reasoning",
}
UNIT_PRICES = {"price_request": "request", "price_image": "image", "price_web_search": "web_search"}


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and number >= 0 else None


def per_million(value) -> Decimal | None:
    """ "0.0000001179" (USD per token) → Decimal("0.117900") (USD per million tokens)."""
    number = _decimal(value)
    return None if number is None else (number * PER_MILLION).quantize(SIX_PLACES)


def offer_from(version: EntityVersion, status: int | None, batch: Batch) -> dict:
    fields, entity = version.fields, version.entity
    pricing = fields.get("pricing") or {}
    tag = entity.key.split("@", 1)[1] if "@" in entity.key else fields.get("tag", "")
    quantization = fields.get("quantization") or ""
    return {
        "provider": PROVENANCE,
        "endpoint_id": entity.key,  # stable: `<model id>@<tag>` (a repeated tag gets `+`, see snapshots.entities)
        "openrouter_model_id": entity.model_key,
        "variant": entity.model_key.partition(":")[2],
        "served_by": entity.provider_key,
        "provider_name": fields.get("provider_name", ""),
        "provider_slug": entity.provider_key,
        "tag": tag,
        "upstream_model_id": fields.get("provider_model_id"),
        **{name: per_million(pricing.get(key)) for name, key in TOKEN_PRICES.items()},
        **{name: _decimal(pricing.get(key)) for name, key in UNIT_PRICES.items()},
        "discount": pricing.get("discount"),
        "context_window": fields.get("context_length"),
        "max_output": fields.get("max_completion_tokens"),
        "max_prompt_tokens": fields.get("max_prompt_tokens"),
        "quantization": "" if quantization == "unknown" else quantization,
        "supported_parameters": fields.get("supported_parameters") or [],
        "free": entity.model_key.endswith(":free"),
        "endpoint_status": status,
        "provenance": PROVENANCE,
        "observed_at": batch.hour,
    }


def openrouter_offers(batch: Batch | None = None) -> list[dict]:
    """Every endpoint of `batch` (default: the newest complete one) as an offer; [] when there is none."""
    batch = batch or Batch.objects.newest_complete()
    if batch is None:
        return []
    versions = (
        EntityVersion.objects.alive_at(batch)
        .filter(entity__kind=EntityKind.ENDPOINT)
        .select_related("entity")
        .order_by("entity__key")
    )
    statuses = {pk: figures.status for pk, figures in batch_figures(batch).items()}  # from the column block
    return [offer_from(version, statuses.get(version.entity_id), batch) for version in versions]
