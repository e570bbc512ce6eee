"""The model page's price-history chart: each offer's input price per period as a step line (inline SVG, no
JavaScript), drawn with the axes and frame of web/charts.py; a tooltip on each step says the period's prices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Period:
    """One recorded price period of an offer, as the chart draws it."""

    valid_from: dt.datetime
    valid_to: dt.datetime | None
    source: str
    price_input: float | None
    price_output: float | None


# (legend label, its periods by date): the offers the chart draws, most periods first.
Drawn = list[tuple[str, list[Period]]]


def _price(record: PriceRecord, field: str) -> float | None:
    try:
        raw = record.prices.get(field)
        return None if raw is None else float(Decimal(str(raw)))
    except (InvalidOperation, ValueError):
        return None


def _tip(label: str, period: Period, end: dt.datetime | None) -> str:
    prices = ", ".join(
        f"{name} {_usd(value, precise=True)}"
        for name, value in (("input", period.price_input), ("output", period.price_output))
        if value is not None
    )
    until = f"to {end:%d %b %Y}" if end else "to now"
    return f"{label}: {prices} per million tokens, {period.valid_from:%d %b %Y} {until} ({period.source})"


def _has_history(periods: list[Period]) -> bool:
    """More than the one period a registry load opens: a change, or a dated source's word."""
    return len(periods) > 1 or any(period.source != "registry" for period in periods)


def drawn_offers(model_pk: int) -> Drawn:
    """The offers of a model whose input price has a recorded history, at most MAX_OFFERS, read from the price
    periods (one query). Plain values: the model page keeps them with its other catalogue parts."""
    by_offer: dict[tuple[str, str], list[Period]] = {}
    for record in model_price_periods(model_pk):
        offer = record.mapping
        period = Period(
            record.valid_from,
            record.valid_to,
            record.source,
            _price(record, "price_input"),
            _price(record, "price_output"),
        )
        by_offer.setdefault((offer.provider.name, offer.provider_model_id), []).append(period)
    return [
        (f"{provider} · {offer_id}", periods)
        for (provider, offer_id), periods in sorted(by_offer.items(), key=lambda item: -len(item[1]))
        if any(p.price_input is not None for p in periods) and _has_history(periods)
    ][:MAX_OFFERS]


def model_price_history_chart(drawn: Drawn, model_name: str, *, now: dt.datetime) -> Chart | None:
    """The chart of a model's offers' recorded input prices (`drawn_offers`), or None when no offer has a price
    history."""
    if not drawn:
        return None
    start = min(p.valid_from for _, periods in drawn for p in periods)
    end = max([now, *(p.valid_to for _, periods in drawn for p in periods if p.valid_to)])
    values = [p.price_input for _, periods in drawn for p in periods if p.price_input is not None]
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
    for index, (label, periods) in enumerate(drawn):
        colour, dash = COLOURS[index % len(COLOURS)], DASHES[index % len(DASHES)]
        legend.append(Series(label, [], colour, dash))
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        steps, tips = [], []
        for period in periods:
            if period.price_input is None:
                continue
            until = period.valid_to or end
            x0, x1, y = frame.x(period.valid_from), frame.x(until), frame.y(period.price_input)
            steps.append(f"{'L' if steps else 'M'}{x0:.1f},{y:.1f} L{x1:.1f},{y:.1f}")
            tips.append(
                f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="transparent" stroke-width="10">'
                f"<title>{escape(_tip(label, period, period.valid_to))}</title></line>"
            )
        parts.append(f'<g class="series" stroke="{colour}"><path d="{" ".join(steps)}" fill="none" stroke-width="2"')
        parts.append(f"{dashed}/>{''.join(tips)}</g>")
    parts.append("</svg>")
    return Chart(title, summary, mark_safe("".join(parts)), legend)
