"""An offer's prices as models.dev states them (`cost.*`, every dimension and long-context tiers), and the billing
rule that tells pay-per-use offers from free tiers and plans."""

from __future__ import annotations

import math
import re

# models.dev spells cached prices three ways; the first spelling present wins.
_PRICES = (
    ("input", "input"),
    ("output", "output"),
    ("cache_read", "cached_input"),
    ("cached_input", "cached_input"),
    ("cache_input", "cached_input"),
    ("cache_write", "cache_write"),
    ("cached_write", "cache_write"),
)
# Dimensions beyond input/output/cache, as models.dev names them. Its `cost.image` (two Poe listings) is left out: it
# does not say whether it is per image or per million image tokens. `cost.citation` has no column.
_EXTRA_PRICES = (
    ("reasoning", "reasoning"),
    ("input_audio", "audio_input"),
    ("output_audio", "audio_output"),
    ("request", "per_request"),
)
_PRICE_ORDER = (
    *("input", "output", "cached_input", "cache_write", "cache_write_1h", "reasoning", "audio_input", "audio_output"),
    *("image_input", "image_output", "per_image", "per_request", "web_search", "batch_input", "batch_output"),
)
_TIER_PRICES = (("input", "input"), ("output", "output"), ("cache_read", "cached_input"))

# Billing, from evidence about the provider or the id, never from a $0 price alone (a $0 price with no evidence is
# `unknown`). Plans: the provider is a subscription (coding / token plans, GitLab Duo seats, GitHub Copilot), so every
# offer it lists is paid through the plan. Free tiers: the provider's $0 listings are its free, rate-limited tier
# (GitHub Models, NVIDIA's build.nvidia.com endpoints, ModelScope's API-Inference quota, iFlow), and an id marked
# `:free` / `-free` is an aggregator's free variant.
_PLAN_SLUG = re.compile(r"(coding-plan|token-plan|-for-coding)")
PLAN_PROVIDERS = frozenset({"gitlab", "github-copilot"})
FREE_TIER_PROVIDERS = frozenset({"github-models", "nvidia", "modelscope", "iflowcn"})
_FREE_ID = re.compile(r"[:-]free$")
# Prices keep the database's six decimal places; a feed's float noise (0.049999999999999996) is rounded away, but a
# price the rounding would change by more than 0.1% (1e-07 would become a free 0) is left out rather than altered.
_PRICE_PLACES = 6
_PRICE_TOLERANCE = 1e-3


def stored_price(value: float | int) -> float | int | None:
    """The price as the registry states it (six decimal places), or None when rounding would change it."""
    if not math.isfinite(value):
        return None
    rounded = round(value, _PRICE_PLACES)
    if abs(rounded - value) > value * _PRICE_TOLERANCE:
        return None
    return rounded


def _cost(value) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        price = stored_price(value)
        return None if price is None else float(price)
    return None


def offer_pricing(cost: dict) -> dict:
    """`pricing:` of a registry offer from models.dev's `[cost]`, in the registry's key order."""
    prices: dict = {}
    for source, target in _PRICES:
        value = cost.get(source)
        if target not in prices and isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            if (price := stored_price(value)) is not None:
                prices[target] = price
    for source, target in _EXTRA_PRICES:
        if (price := _cost(cost.get(source))) is not None:
            prices[target] = price
    return {key: prices[key] for key in _PRICE_ORDER if key in prices}


def offer_tiers(tiers) -> list[dict]:
    """models.dev's `[[cost.tiers]]` (context size → prices) as registry tiers, ascending by threshold."""
    found = {}
    for tier in tiers if isinstance(tiers, list) else []:
        size = (tier.get("tier") or {}).get("size") if isinstance(tier, dict) else None
        if not isinstance(size, int) or size < 1 or (tier["tier"].get("type") or "context") != "context":
            continue
        prices = {target: p for source, target in _TIER_PRICES if (p := _cost(tier.get(source))) is not None}
        if prices:
            found[size] = {"above": size, **prices}
    return [found[size] for size in sorted(found)]


def offer_billing(provider: str, model_id: str, pricing: dict) -> str:
    """How an offer is paid for, by the rule above: provider evidence, then id evidence, else per token or unknown."""
    if provider in PLAN_PROVIDERS or _PLAN_SLUG.search(provider):
        return "subscription"
    zero = pricing.get("input") == 0 and pricing.get("output") == 0
    if not zero:
        return "per_token"
    if provider in FREE_TIER_PROVIDERS or _FREE_ID.search(model_id):
        return "free_tier"
    return "unknown"
