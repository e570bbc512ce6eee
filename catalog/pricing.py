"""Prices compared across offers: the blended price per million tokens every ranking and listing uses."""

from __future__ import annotations

from decimal import Decimal

from catalog.models import PAY_PER_USE, Mapping

# Blended price per million tokens: a typical chat workload reads three tokens for every one it writes.
BLEND_INPUT, BLEND_OUTPUT = 3, 1


def blended_price(price_input: Decimal | None, price_output: Decimal | None) -> Decimal | None:
    """Per million tokens, input weighted 3:1 over output (a typical chat workload); Decimal or float in and out."""
    if price_input is None or price_output is None:
        return None
    return (price_input * BLEND_INPUT + price_output * BLEND_OUTPUT) / (BLEND_INPUT + BLEND_OUTPUT)


def compared_prices(mapping: Mapping) -> tuple[Decimal | None, Decimal | None]:
    """The input and output prices an offer competes with for "cheapest", price order and the price part of a score:
    its own when it is paid per use (per token or per request), none for free tiers and plans, whose $0 is not a price
    per use."""
    if mapping.billing not in PAY_PER_USE:
        return None, None
    return mapping.price_input, mapping.price_output
