"""The model page's price-history chart: each offer's input price per period as a step line (inline SVG, no
JavaScript), drawn with the axes and frame of web/charts.py; a tooltip on each step says the period's prices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from html import escape

from django.utils.safestring import mark_safe

from catalog.history import model_price_periods
from catalog.models import PriceRecord
from web.charts import COLOURS, DASHES, HEIGHT, WIDTH, Chart, Series, _Frame, _grid, nice_ticks

MAX_OFFERS = 8  # more lines than colours and dashes tell apart: the offers whose prices moved most are drawn


def _usd(value: float, precise: bool = False) -> str:
    """`$0.28`, `$1.7`, `$10`: prices to the cent or finer, as the sources state them (`precise` is the axis API's)."""
    return f"${value:,.6f}".rstrip("0").rstrip(".")


def _price(record: PriceRecord, field: str) -> float | None:
    try:
        raw = record.prices.get(field)
        return None if raw is None else float(Decimal(str(raw)))
    except (InvalidOperation, ValueError):
        return None


def _tip(label: str, record: PriceRecord, end: dt.datetime | None) -> str:
    prices = ", ".join(
        f"{name} {_usd(value, precise=True)}"
        for name, field in (("input", "price_input"), ("output", "price_output"))
        if (value := _price(record, field)) is not None
    )
    until = f"to {end:%d %b %Y}" if end else "to now"
    return f"{label}: {prices} per million tokens, {record.valid_from:%d %b %Y} {until} ({record.source})"


def _has_history(records: list[PriceRecord]) -> bool:
    """More than the one period a registry load opens: a change, or a dated source's word."""
    return len(records) > 1 or any(record.source != "registry" for record in records)


def model_price_history_chart(model_pk: int, model_name: str, *, now: dt.datetime) -> Chart | None:
    """The chart of a model's offers' recorded input prices, or None when no offer has a price history."""
    by_offer: dict[tuple[str, str], list[PriceRecord]] = {}
    for record in model_price_periods(model_pk):
        offer = record.mapping
        by_offer.setdefault((offer.provider.name, offer.provider_model_id), []).append(record)
    drawn = [
        (f"{provider} · {offer_id}", records)
        for (provider, offer_id), records in sorted(by_offer.items(), key=lambda item: -len(item[1]))
        if any(_price(r, "price_input") is not None for r in records) and _has_history(records)
    ][:MAX_OFFERS]
    if not drawn:
        return None
    start = min(r.valid_from for _, records in drawn for r in records)
    end = max([now, *(r.valid_to for _, records in drawn for r in records if r.valid_to)])
    values = [v for _, records in drawn for r in records if (v := _price(r, "price_input")) is not None]
    ticks = nice_ticks(0.0, max(values) or 1.0)
    frame = _Frame(start, end, ticks[0], ticks[-1])
    title = f"{model_name}: input price per million tokens over time"
    summary = f"{title}, {len(drawn)} offer{'s' if len(drawn) != 1 else ''} with a recorded history."
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="prices-t prices-d" '
        'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="prices-t">{escape(title)}</title><desc id="prices-d">{escape(summary)}</desc>',
        *_grid(frame, ticks, _usd),
    ]
    legend = []
    for index, (label, records) in enumerate(drawn):
        colour, dash = COLOURS[index % len(COLOURS)], DASHES[index % len(DASHES)]
        legend.append(Series(label, [], colour, dash))
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        steps, tips = [], []
        for record in records:
            value = _price(record, "price_input")
            if value is None:
                continue
            until = record.valid_to or end
            x0, x1, y = frame.x(record.valid_from), frame.x(until), frame.y(value)
            steps.append(f"{'L' if steps else 'M'}{x0:.1f},{y:.1f} L{x1:.1f},{y:.1f}")
            tips.append(
                f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="transparent" stroke-width="10">'
                f"<title>{escape(_tip(label, record, record.valid_to))}</title></line>"
            )
        parts.append(f'<g class="series" stroke="{colour}"><path d="{" ".join(steps)}" fill="none" stroke-width="2"')
        parts.append(f"{dashed}/>{''.join(tips)}</g>")
    parts.append("</svg>")
    return Chart(title, summary, mark_safe("".join(parts)), legend)
