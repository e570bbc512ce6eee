"""Checks of single values that JSON Schema cannot express: exact integers, real dates, prices the database keeps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

PRICE_DECIMAL_PLACES = 6  # catalog.Mapping price columns are numeric(14, 6)
PRICE_QUANTUM = Decimal(1).scaleb(-PRICE_DECIMAL_PLACES)

_MODEL_INTEGERS = ("context_window", "max_output", "parameters_total", "parameters_active")
_MODEL_DATES = ("release_date", "deprecation_date", "sunset_date")
_OFFER_INTEGERS = ("context_window", "max_output")

Found = tuple[tuple, str]  # (JSON-Schema-style path, message)


def price_decimal(value: int | float) -> Decimal:
    """A price as the number its author wrote: a float's shortest round-tripping repr (0.59, not 0.589999…)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _integer(value, path: tuple) -> Iterator[Found]:
    # YAML reads 7.0e10 as a float; JSON Schema calls it an integer, the database column would not take it as one.
    if isinstance(value, float):
        yield path, f"{value!r} is not a whole number: write it as digits, without a decimal point or exponent"


def _date(value, path: tuple) -> Iterator[Found]:
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        yield path, f"{value!r} is not a date of the calendar"


def _price(value, path: tuple) -> Iterator[Found]:
    exact = price_decimal(value)
    stored = exact.quantize(PRICE_QUANTUM)
    if stored != exact:
        yield (
            path,
            f"{value!r} has more than {PRICE_DECIMAL_PLACES} decimal places: the database would store "
            f"{stored.normalize():f}, a different price; round it in the file",
        )


def model_value_problems(data: dict) -> Iterator[Found]:
    for name in _MODEL_INTEGERS:
        if name in data:
            yield from _integer(data[name], (name,))
    for name in _MODEL_DATES:
        if name in data:
            yield from _date(data[name], (name,))
    cutoff = data.get("knowledge_cutoff")
    if cutoff and len(cutoff) == 10:
        yield from _date(cutoff, ("knowledge_cutoff",))
    for index, entry in enumerate(data.get("aliases", [])):
        if isinstance(entry, dict) and "retirement_date" in entry:
            yield from _date(entry["retirement_date"], ("aliases", index, "retirement_date"))


def mapping_value_problems(data: dict) -> Iterator[Found]:
    for index, offer in enumerate(data["offers"]):
        for name in _OFFER_INTEGERS:
            if name in offer:
                yield from _integer(offer[name], ("offers", index, name))
        if "retirement_date" in offer:
            yield from _date(offer["retirement_date"], ("offers", index, "retirement_date"))
        for key, value in offer.get("pricing", {}).items():
            yield from _price(value, ("offers", index, "pricing", key))


CHECKS = {"model": model_value_problems, "mapping": mapping_value_problems}


def value_problems(kind: str, data: dict) -> list[Found]:
    """Every value problem of one schema-valid document, each with the path of the value."""
    check = CHECKS.get(kind)
    return list(check(data)) if check else []
