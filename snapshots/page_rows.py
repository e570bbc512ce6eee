"""Rows of the archive's model page: price periods and change events with token prices per million tokens.

OpenRouter states token prices in USD per token (`"0.0000001179"`); the page shows USD per million tokens
(`$0.1179`), exactly, and keeps the value as received in a `<data>` element for machines. Unit prices (per
request, per image, per web search) are shown as they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from snapshots.charts import per_million, usd
from snapshots.page_data import endpoint_anchor

TOKEN_PRICES = {
    "prompt": "input",
    "completion": "output",
    "input_cache_read": "cache read",
    "input_cache_write": "cache write",
    "internal_reasoning": "reasoning",
}
UNIT_PRICES = {"request": "per request", "image": "per image", "web_search": "per web search"}
UPTIME_HOURS = 48  # the hour strip of each endpoint: the last two days of batches


@dataclass(frozen=True)
class Price:
    """One price as shown (`$0.1179`, `per million tokens`) and as received (`0.0000001179`)."""

    shown: str
    raw: str
    per_million: bool

    def __str__(self) -> str:
        return self.shown


def price(value, *, token: bool = True) -> Price | None:
    """A token price per million tokens, a unit price as it is; None when there is none. `"-1"` is variable."""
    if value in (None, ""):
        return None
    raw = str(value)
    if token:
        number = per_million(raw)
        return Price(usd(number) if number is not None else "variable", raw, True)
    try:
        number = Decimal(raw)
    except ArithmeticError:
        return Price(raw, raw, False)
    return Price(usd(number) if number.is_finite() and number >= 0 else "variable", raw, False)


def period_rows(endpoint: dict) -> list[dict]:
    """Each price period of an endpoint, newest first, with input, output and cache-read prices per million."""
    return [
        {
            "from": period["from"],
            "to": period["to"],
            "input": price(period.get("prompt")),
            "output": price(period.get("completion")),
            "context_length": period.get("context_length"),
        }
        for period in reversed(endpoint["prices"])
    ]


def uptime_cells(metrics: list, batches: list[dict], *, hours: int = UPTIME_HOURS) -> list[dict]:
    """The last `hours` batch hours of an endpoint: its 30-minute uptime then, or nothing (not observed)."""
    by_hour = {metric.batch.hour: metric.uptime_last_30m for metric in metrics}
    if not batches:
        return []
    first, last = batches[0]["hour"], batches[-1]["hour"]  # the batches since the model was first seen
    cells = []
    for back in range(hours - 1, -1, -1):
        hour = last - dt.timedelta(hours=back)
        if hour < first:
            continue
        uptime = by_hour.get(hour)
        state = "none" if uptime is None else "good" if uptime >= 99 else "fair" if uptime >= 90 else "bad"
        cells.append({"hour": hour, "uptime": uptime, "state": state})
    return cells


def endpoint_sections(endpoints: list[dict], batches: list[dict]) -> list[dict]:
    return [
        {
            "entity": endpoint["entity"],
            "anchor": endpoint_anchor(endpoint["entity"].key),
            "tag": endpoint["entity"].key.split("@", 1)[-1],
            "periods": period_rows(endpoint),
            "uptime": uptime_cells(endpoint["metrics"], batches),
        }
        for endpoint in endpoints
    ]


def event_value(field: str, value):
    """An event's before/after as shown: prices converted, other values as received."""
    if field.startswith("pricing."):
        name = field.split(".", 1)[1]
        if name in TOKEN_PRICES:
            return price(value)
        if name in UNIT_PRICES:
            return price(value, token=False)
    return value


def event_rows(events: list) -> list[dict]:
    return [
        {
            "event": event,
            "subject": event.entity.key.split("@", 1)[1] if "@" in event.entity.key else "model",
            "label": _field_label(event.field),
            "before": event_value(event.field, event.before),
            "after": event_value(event.field, event.after),
        }
        for event in events
    ]


def _field_label(field: str) -> str:
    if field.startswith("pricing."):
        name = field.split(".", 1)[1]
        if name in TOKEN_PRICES:
            return f"{TOKEN_PRICES[name]} price"
        if name in UNIT_PRICES:
            return f"price {UNIT_PRICES[name]}"
    return field
