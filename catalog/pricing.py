"""Prices compared across offers: the blended price per million tokens every ranking and listing uses."""

from __future__ import annotations

from decimal import Decimal

# Blended price per million tokens: a typical chat workload reads three tokens for every one it writes.
BLEND_INPUT, BLEND_OUTPUT = 3, 1


def blended_price(price_input: Decimal | None, price_output: Decimal | None) -> Decimal | None:
    """Per million tokens, input weighted 3:1 over output (a typical chat workload); Decimal or float in and out."""
    if price_input is None or price_output is None:
        return None
    return (price_input * BLEND_INPUT + price_output * BLEND_OUTPUT) / (BLEND_INPUT + BLEND_OUTPUT)
