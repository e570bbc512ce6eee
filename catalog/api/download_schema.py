"""The OpenAPI (3.1) schema of /api/catalog.json, as catalog/download.py builds it."""

from __future__ import annotations

from catalog.download import PRICING_KEYS
from catalog.models import Billing, Lifecycle, Modality, ModelCapability, ProviderKind


def _nullable(kind: str, **extra) -> dict:
    return {"type": [kind, "null"], **extra}


STRING = {"type": "string"}
DATE = _nullable("string", format="date")
LIFECYCLE = {"type": "string", "enum": list(Lifecycle.values)}

PROVIDER = {
    "type": "object",
    "properties": {
        "slug": STRING,
        "name": STRING,
        "kind": {"type": "string", "enum": list(ProviderKind.values)},
        "website": STRING,
        "docs_url": STRING,
        "api_base_url": STRING,
        "openai_compatible": {"type": "boolean"},
    },
    "required": ["slug", "name", "kind"],
}

OFFER = {
    "type": "object",
    "properties": {
        "provider": {"type": "string", "description": "The provider's slug (see `providers`)."},
        "provider_model_id": {"type": "string", "description": "The id the provider serves it under."},
        "billing": {"type": "string", "enum": list(Billing.values)},
        "pricing": {
            "type": "object",
            "description": "Every price the offer states, by dimension (set ones only): USD per million tokens, "
            "except `per_image` (USD per image), `per_request` (USD per request) and `web_search` (USD per 1,000 "
            "searches).",
            "properties": {key: {"type": "number"} for key in PRICING_KEYS},
            "additionalProperties": False,
        },
        "price_tiers": {
            "type": "array",
            "description": "Long-context prices: from `above` prompt tokens on, these replace the base prices.",
            "items": {
                "type": "object",
                "properties": {
                    "above": {"type": "integer"},
                    "input": _nullable("number"),
                    "output": _nullable("number"),
                    "cached_input": _nullable("number"),
                },
                "required": ["above"],
            },
        },
        "regional_uplift": _nullable("number", description="Percent added on the provider's regional endpoints."),
        "prices_checked": _nullable("string", format="date-time", description="When a source last confirmed them."),
        "disputed": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Price fields some source states another value for: the shown value is not settled.",
        },
        "context_window": _nullable("integer"),
        "max_output": _nullable("integer"),
        "quantization": STRING,
        "served_by": STRING,
        "variant": STRING,
        "delivery_modes": {"type": "array", "items": STRING},
        "status": LIFECYCLE,
        "retirement_date": DATE,
        "in_registry": {"type": "boolean"},
        "needs_review": {"type": "boolean", "description": "Created by ingestion from an id nothing matched."},
    },
    "required": [
        *("provider", "provider_model_id", "billing", "pricing", "price_tiers", "prices_checked", "disputed"),
        "status",
    ],
}

MODEL = {
    "type": "object",
    "properties": {
        "slug": STRING,
        "name": STRING,
        "creator": _nullable("string", description="The creating lab's provider slug."),
        "family": _nullable("string"),
        "status": LIFECYCLE,
        "release_date": DATE,
        "deprecation_date": DATE,
        "sunset_date": DATE,
        "successor": _nullable("string", description="Slug of the model that replaces it."),
        "context_window": _nullable("integer"),
        "max_output": _nullable("integer"),
        "input_modalities": {"type": "array", "items": {"type": "string", "enum": list(Modality.values)}},
        "output_modalities": {"type": "array", "items": {"type": "string", "enum": list(Modality.values)}},
        "capabilities": {"type": "array", "items": {"type": "string", "enum": list(ModelCapability.values)}},
        "open_weights": {"type": "boolean"},
        "parameters_total": _nullable("integer"),
        "parameters_active": _nullable("integer"),
        "license": STRING,
        "knowledge_cutoff": STRING,
        "canonical_url": STRING,
        "in_registry": {"type": "boolean"},
        "aliases": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "alias": STRING,
                    "provider": _nullable("string", description="Provider it is scoped to."),
                },
                "required": ["alias", "provider"],
            },
        },
        "offers": {"type": "array", "items": OFFER, "description": "Pay-per-use first, then cheapest first."},
    },
    "required": ["slug", "name", "status", "aliases", "offers"],
}

CATALOG_SCHEMA = {
    "type": "object",
    "properties": {
        "format_version": {"type": "integer"},
        "models_count": {"type": "integer"},
        "offers_count": {"type": "integer"},
        "providers": {"type": "array", "items": PROVIDER},
        "models": {"type": "array", "items": MODEL},
    },
    "required": ["format_version", "models_count", "offers_count", "providers", "models"],
}
