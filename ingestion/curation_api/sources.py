"""Source names as the seed documents write them (`POST /api/v1/admin/ingest/openai-api`) → our source names."""

from __future__ import annotations

# An explicit table, never a guess: each seed form and the source it names.
SEED_SOURCE_NAMES = {
    "openai-api": "openai",
    "anthropic-api": "anthropic",
    "google-api": "google",
    "gemini-api": "google",
    "mistral-api": "mistral",
    "cohere-api": "cohere",
    "xai-api": "xai",
    "deprecations.info": "deprecations",
    "deprecations-info": "deprecations",
    "hugging-face": "huggingface",
    "huggingface-hub": "huggingface",
    "hf-hub": "huggingface",
    "openrouter-api": "openrouter",
}


def source_name(name: str) -> str:
    """Our name for a source named either way (unknown names pass through, for the caller's 404)."""
    return SEED_SOURCE_NAMES.get(name.lower(), name)
