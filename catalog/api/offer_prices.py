"""An offer's full price sheet as the API shows it: every price dimension, long-context tiers, regional uplift and
billing kind (the flat `price_input` … `price_cache_write` fields stay beside it for existing clients)."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Billing, Mapping

PRICE = {"max_digits": 14, "decimal_places": 6, "coerce_to_string": False, "allow_null": True, "read_only": True}
OFFER_PRICE_FIELDS = ["billing", "pricing", "price_tiers", "regional_uplift"]
# `pricing` keys: the column without "price_"; all USD per million tokens except these.
PER_UNIT = {
    "per_image": "USD per image",
    "per_request": "USD per request",
    "web_search": "USD per 1,000 searches",
}
PRICING_KEYS = tuple(column.removeprefix("price_") for column in Mapping.PRICE_FIELDS)


def _number(value: Decimal | str | None) -> float | None:
    return None if value is None else float(value)


@extend_schema_field(
    {
        "type": "object",
        "description": "Every price this offer states, by dimension (set ones only): USD per million tokens, except "
        + ", ".join(f"`{key}` ({unit})" for key, unit in PER_UNIT.items())
        + ".",
        "properties": {key: {"type": "number"} for key in PRICING_KEYS},
        "additionalProperties": False,
    }
)
class PricingField(serializers.DictField):
    pass


@extend_schema_field(
    {
        "type": "array",
        "description": "Long-context prices: from `above` prompt tokens on, these replace the base prices.",
        "items": {
            "type": "object",
            "properties": {
                "above": {"type": "integer"},
                "input": {"type": "number"},
                "output": {"type": "number"},
                "cached_input": {"type": "number"},
            },
            "required": ["above"],
        },
    }
)
class TiersField(serializers.ListField):
    pass


class OfferPriceFields(serializers.Serializer):
    """Declared fields (documentation) of an offer's price sheet; `offer_prices` builds it."""

    # The flat fields that predate the price sheet, kept for existing clients (USD per million tokens).
    price_input = serializers.DecimalField(**PRICE)
    price_output = serializers.DecimalField(**PRICE)
    price_cached_input = serializers.DecimalField(**PRICE)
    price_cache_write = serializers.DecimalField(**PRICE)

    billing = serializers.ChoiceField(
        choices=Billing.choices,
        read_only=True,
        help_text="How the offer is paid for. Only `per_token` and `per_request` offers compete for the cheapest "
        "price, `min_price_*` and price ordering; free tiers and subscription plans stand apart (`billing=all`).",
    )
    pricing = PricingField(read_only=True)
    price_tiers = TiersField(read_only=True)
    regional_uplift = serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        coerce_to_string=False,
        allow_null=True,
        read_only=True,
        help_text="Percent added to the prices on the provider's regional endpoints.",
    )


def offer_prices(mapping: Mapping) -> dict:
    pricing = {}
    for key, column in zip(PRICING_KEYS, Mapping.PRICE_FIELDS, strict=True):
        if (value := getattr(mapping, column)) is not None:
            pricing[key] = float(value)
    tiers = [
        {
            "above": tier["above"],
            **{key: _number(tier[key]) for key in ("input", "output", "cached_input") if key in tier},
        }
        for tier in mapping.price_tiers or []
    ]
    return {
        "billing": mapping.billing,
        "pricing": pricing,
        "price_tiers": tiers,
        "regional_uplift": _number(mapping.regional_uplift),
    }
