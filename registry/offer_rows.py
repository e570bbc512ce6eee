"""An offer row as a registry load writes it: what the file states about its prices (in column terms), and the shown
values resolved against curators' pins and the price sources (ingestion.prices)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from django.utils import timezone

from catalog.models import PRICE_COLUMNS, Billing, Mapping
from ingestion.prices.registry_load import (
    offer_pinned_facts,
    offers_shown_over_registry,
    registry_price_provenance,
)

# The registry's `pricing:` keys and the offer columns that keep them (the key is the column without "price_").
PRICE_KEYS = {column.removeprefix("price_"): column for column in PRICE_COLUMNS}
TIER_KEYS = ("input", "output", "cached_input")


def day_start(value: str | None) -> dt.datetime | None:
    """A registry day (`prices_checked: 2026-07-02`) as the moment the offer column keeps: its start, in UTC."""
    return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=dt.UTC) if value else None


PRICE_QUANTUM = Decimal("0.000001")  # the database keeps six decimal places


@lru_cache(maxsize=8192, typed=True)  # prices repeat across offers; a load converts 170,000 of them
def _price(value) -> Decimal | None:
    # Quantised as the database stores it, so an unchanged reload compares equal (0.049999999999999996 → 0.05).
    return None if value is None else Decimal(str(value)).quantize(PRICE_QUANTUM)


def _price_text(value) -> str:
    """A stated price as JSON keeps it: the stored decimal, without trailing zeros ("2.5", "0")."""
    price = _price(value)
    assert price is not None, "a stated price is never null"
    return format(price.normalize(), "f")


def offer_price_values(offer: dict) -> dict:
    """What one registry offer states about its prices, in column terms with decimal strings (registry_values)."""
    pricing = offer.get("pricing", {})
    stated: dict = {PRICE_KEYS[key]: _price_text(value) for key, value in pricing.items()}
    if offer.get("tiers"):
        stated["price_tiers"] = [
            {"above": tier["above"], **{key: _price_text(tier[key]) for key in TIER_KEYS if key in tier}}
            for tier in offer["tiers"]
        ]
    if offer.get("regional_uplift") is not None:
        stated["regional_uplift"] = format(Decimal(str(offer["regional_uplift"])).normalize(), "f")
    if offer.get("billing"):
        stated["billing"] = offer["billing"]
    return stated


def offer_price_row(stated: dict) -> dict:
    """Row values of an offer's price columns from what the registry states (unstated prices are empty)."""
    uplift = stated.get("regional_uplift")
    return {
        **{column: _price(stated.get(column)) for column in PRICE_COLUMNS},
        "price_tiers": stated.get("price_tiers", []),
        "regional_uplift": Decimal(uplift).quantize(Decimal("0.001")) if uplift is not None else None,
        "billing": stated.get("billing", Billing.PER_TOKEN),
    }


def offer_rows_resolve(mapping_rows: dict) -> None:
    """Fill each offer's shown prices and their provenance: what the file states, except where a curator's pin or a
    source's price wins (ingestion.prices: a pin, or a price the registry does not state) — so a load never undoes a
    pin or a price a feed filled in. `prices_checked` only moves forward: the registry's day, or a later
    confirmation by a source."""
    now = timezone.now()
    existing = {
        (provider_id, provider_model_id): (pk, checked, provenance)
        for pk, provider_id, provider_model_id, checked, provenance in Mapping.objects.values_list(
            "pk", "provider_id", "provider_model_id", "prices_checked", "provenance"
        ).iterator(chunk_size=5000)
    }
    stated = {existing[key][0]: row["registry_values"] for key, row in mapping_rows.items() if key in existing}
    shown = offers_shown_over_registry(registry_values=stated, now=now)
    pinned_facts = offer_pinned_facts(mapping_ids=set(stated))
    for key, row in mapping_rows.items():
        pk, checked, provenance = existing.get(key, (None, None, None))
        if pk is not None and pk in shown:
            row.update(shown[pk])
        else:
            row["provenance"] = registry_price_provenance(row["registry_values"], provenance, now)
        row.update(pinned_facts.get(pk, {}) if pk is not None else {})
        row["prices_checked"] = max((moment for moment in (row["prices_checked"], checked) if moment), default=None)
