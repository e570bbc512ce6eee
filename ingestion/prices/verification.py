"""Cross-checking offer prices: when two sources agree on a value, and which value most independent sources state."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

# Two prices agree when they differ by at most 1% of the larger one, or by at most $0.000001 (per million tokens).
# Why these bounds:
# - $0.000001 is one unit of what we store (Mapping prices have 6 decimal places): feeds that publish USD per token
#   as floats (LiteLLM: 3e-06) turn into 2.9999999999999996 per million, and that noise must not read as a dispute.
# - 1% absorbs a feed rounding to its own precision (0.075 shown as 0.0750 or 0.07501) and currency-rounding of
#   small prices, while every real repricing seen in the realdata sources moves a price by 5% or more (cuts of
#   10-50%, Bedrock regional ids +10%, LiteLLM's wandb ×100,000) — so those always count as disagreements.
RELATIVE_TOLERANCE = Decimal("0.01")
ABSOLUTE_TOLERANCE = Decimal("0.000001")
STORED_PLACES = Decimal("0.000001")


def price_decimal(value: Any) -> Decimal | None:
    """A stated price as a Decimal (from a Decimal, a number or a decimal string), None when it is not a price."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def price_text(value: Any) -> str | None:
    """The stored form of a price: rounded to the 6 places we keep, trailing zeros dropped ("3", "0.075")."""
    number = price_decimal(value)
    if number is None:
        return None
    rounded = number.quantize(STORED_PLACES).normalize()
    return format(rounded, "f") if rounded != 0 else "0"


def normal_value(field: str, value: Any) -> Any:
    """A stated value in the JSON form kept in observations: prices as decimal strings, tiers as lists of them."""
    if field == "price_tiers":
        return [
            {key: (item if key == "above" else price_text(item)) for key, item in sorted(tier.items())}
            for tier in (value or [])
        ]
    if field == "billing":
        return str(value) if value else None
    return price_text(value)


def prices_agree(a: Any, b: Any) -> bool:
    """True when two prices are the same within the tolerance above (both unset also agree)."""
    left, right = price_decimal(a), price_decimal(b)
    if left is None or right is None:
        return left is None and right is None
    difference = abs(left - right)
    return difference <= ABSOLUTE_TOLERANCE or difference <= RELATIVE_TOLERANCE * max(abs(left), abs(right))


def values_agree(field: str, a: Any, b: Any) -> bool:
    """Agreement for any resolved offer field: tiers agree threshold by threshold, billing kinds must be equal."""
    if field == "billing":
        return a == b
    if field == "price_tiers":
        left, right = a or [], b or []
        if len(left) != len(right):
            return False
        for x, y in zip(left, right, strict=True):
            if x.get("above") != y.get("above") or set(x) != set(y):
                return False
            if not all(prices_agree(x[key], y[key]) for key in x if key != "above"):
                return False
        return True
    return prices_agree(a, b)


def agreeing_sources(field: str, value: Any, stated: dict[str, Any]) -> list[str]:
    """The sources (sorted) whose stated value agrees with `value`."""
    return sorted(source for source, other in stated.items() if values_agree(field, value, other))


def feeds_consensus(field: str, stated: dict[str, Any], current: Any) -> tuple[Any, list[str]] | None:
    """The value most independent feeds agree on, with those feeds; None when there is no single such value.

    Each stated value gathers the feeds agreeing with it; the largest group wins. When two groups are equally large
    and disagree, nothing wins unless one of them agrees with the current value: the current value is then kept
    (returned with its group), because a tie is no evidence for a change.
    """
    if not stated:
        return None
    groups = []
    for source in sorted(stated):
        members = agreeing_sources(field, stated[source], stated)
        groups.append((len(members), source, members))
    best = max(size for size, _, _ in groups)
    leaders = [(source, members) for size, source, members in groups if size == best]
    distinct: list[tuple[str, list[str]]] = []
    for source, members in leaders:
        if not any(values_agree(field, stated[source], stated[other]) for other, _ in distinct):
            distinct.append((source, members))
    if len(distinct) == 1:
        source, members = distinct[0]
        return stated[source], members
    for source, members in distinct:
        if values_agree(field, stated[source], current):
            return stated[source], members
    return None
