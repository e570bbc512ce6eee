"""Inline SVG charts for the archive's model page: each endpoint's price per million tokens as a step line over the
batch hours, broken wherever the endpoint was not observed, over grey bands for hours without a complete batch.

No JavaScript: every step carries a `<title>` tooltip and the picture a text summary for screen readers.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html import escape

from django.utils.safestring import SafeString, mark_safe

HOUR = dt.timedelta(hours=1)
WIDTH, HEIGHT = 600, 280  # the site's chart width (web/charts.py); a little taller for phones
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 12, 34
# The site's chart palette (web/charts.py, Okabe–Ito, ≥ 3:1 on white); dashes tell repeated colours apart.
COLOURS = ("#0060a8", "#c24e00", "#00795a", "#a8327a", "#5e4fa2", "#8a6d00", "#2b2b2b", "#0087a8")
DASHES = ("", "6 3", "2 3", "10 3 2 3")
GRID, AXIS, INK, BAND = "#e4e8ec", "#7b8590", "#4f5863", "#eceff3"
TICK_HOURS = (1, 2, 3, 6, 12, 24, 48, 24 * 7, 24 * 14, 24 * 30, 24 * 91, 24 * 182, 24 * 365)
MAX_X_TICKS = 6


def per_million(value) -> Decimal | None:
    """OpenRouter's USD per token (`"0.0000001179"`) as USD per million tokens, exactly (`Decimal("0.1179")`).
    No price, a malformed one or a negative one (`"-1"`: variable, e.g. a router) is None."""
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0:
        return None
    return number.scaleb(6).normalize()


def usd(value: Decimal | None) -> str:
    """`$0.1179`, `$2`, `$150`: as exact as the source, never in exponent form."""
    return "—" if value is None else f"${value.normalize():f}"


@dataclass
class Step:
    """One observed run of one price: hours [start, end) at `price` USD per million tokens."""

    start: dt.datetime
    end: dt.datetime
    price: Decimal
    changed: bool = False  # the price differs from the endpoint's previous one: a marker is drawn at `start`


@dataclass
class Line:
    label: str
    key: str
    steps: list[Step]
    current: Decimal | None
    colour: str = ""
    dash: str = ""

    @property
    def current_text(self) -> str:
        return usd(self.current)


@dataclass
class PriceChart:
    title: str
    summary: str
    svg: SafeString
    lines: list[Line] = field(default_factory=list)
    gap_hours: int = 0
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def unobserved_hours(batches: list[dict], start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The hours in [start, end) without a complete batch (no sync, or an incomplete or failed one), ascending."""
    complete = {b["hour"] for b in batches if b["complete"]}
    hours, hour = [], start
    while hour < end:
        if hour not in complete:
            hours.append(hour)
        hour += HOUR
    return hours


def _runs(first: dt.datetime, last: dt.datetime, gaps: list[dt.datetime], seen: set[dt.datetime]):
    """[first, last] split at the gap hours in which this endpoint was not seen: (start, end) half-open pairs."""
    runs, start = [], first
    for hour in gaps[bisect.bisect_left(gaps, first) : bisect.bisect_right(gaps, last)]:
        if hour in seen:
            continue  # an incomplete batch that did fetch this endpoint: observed
        if hour > start:
            runs.append((start, hour))
        start = hour + HOUR
    if start <= last:
        runs.append((start, last + HOUR))
    return runs


def endpoint_steps(endpoint: dict, field_name: str, gaps: list[dt.datetime]) -> list[Step]:
    """The observed runs of an endpoint's price (`prompt`, `completion`, ...), version by version."""
    seen = {metric.batch.hour for metric in endpoint.get("metrics", [])}
    steps: list[Step] = []
    previous: Decimal | None = None
    for period in endpoint["prices"]:
        price = per_million(period.get(field_name))
        if price is None:
            continue
        changed = previous is not None and price != previous
        for index, (start, end) in enumerate(_runs(period["from"], period["to"], gaps, seen)):
            steps.append(Step(start, end, price, changed and index == 0))
        previous = price
    return steps


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """0 and round values (1, 2, 2.5 or 5 × 10^n apart) up to at least `top`."""
    top = top if top > 0 else 1.0
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < top - step * 1e-9:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def _tick_label(value: float) -> str:
    return usd(Decimal(repr(value)))


@dataclass(frozen=True)
class _Frame:
    start: dt.datetime
    end: dt.datetime
    top: float

    def x(self, moment: dt.datetime) -> float:
        span = max((self.end - self.start).total_seconds(), 1.0)
        return LEFT + (WIDTH - LEFT - RIGHT) * (moment - self.start).total_seconds() / span

    def y(self, value: Decimal | float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - float(value) / self.top)


def _x_ticks(start: dt.datetime, end: dt.datetime) -> tuple[list[dt.datetime], str]:
    hours = (end - start) / HOUR
    step = next((h for h in TICK_HOURS if hours / h <= MAX_X_TICKS), TICK_HOURS[-1])
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    first = epoch + HOUR * (step * math.ceil(((start - epoch) / HOUR) / step))
    ticks = []
    while first <= end:
        ticks.append(first)
        first += HOUR * step
    fmt = "%H:%M" if hours <= 24 else "%d %b %H:%M" if step < 24 else "%d %b %Y" if step >= 24 * 30 else "%d %b"
    return ticks, fmt


def _grid(frame: _Frame, ticks: list[float]) -> list[str]:
    bottom = HEIGHT - BOTTOM
    parts = [f'<g class="grid" fill="{INK}" font-size="12" font-family="system-ui, sans-serif">']
    for tick in ticks:
        y = frame.y(tick)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_tick_label(tick))}</text>')
    x_ticks, fmt = _x_ticks(frame.start, frame.end)
    for moment in x_ticks:
        x = frame.x(moment)
        anchor = "end" if x > WIDTH - RIGHT - 40 else "start" if x < LEFT + 40 else "middle"
        label = escape(moment.strftime(fmt))
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="{AXIS}"/>')
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="{anchor}">{label}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{bottom}" y2="{bottom}" stroke="{AXIS}"/></g>')
    return parts


def _bands(frame: _Frame, gaps: list[dt.datetime]) -> list[str]:
    """One grey band per run of consecutive hours without a complete batch."""
    parts = ['<g class="gaps">']
    index = 0
    while index < len(gaps):
        first = last = gaps[index]
        while index + 1 < len(gaps) and gaps[index + 1] == last + HOUR:
            index += 1
            last = gaps[index]
        x0, x1 = frame.x(first), frame.x(last + HOUR)
        hours = int((last + HOUR - first) / HOUR)
        tip = f"{first:%d %b %H:00}–{last + HOUR:%H:00} UTC: no complete snapshot ({hours} h)"
        parts.append(
            f'<rect x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 1):.1f}" height="{HEIGHT - TOP - BOTTOM}" '
            f'fill="{BAND}"><title>{escape(tip)}</title></rect>'
        )
        index += 1
    parts.append("</g>")
    return parts


def _series(frame: _Frame, line: Line, title: str) -> list[str]:
    """The line as one path: `L` along a run and up or down a price change, `M` (a break) across a gap."""
    moves, tips, dots = [], [], []
    pen: dt.datetime | None = None
    for step in line.steps:
        x0, x1, y = frame.x(step.start), frame.x(step.end), frame.y(step.price)
        moves.append(f"{'L' if pen == step.start else 'M'}{x0:.1f},{y:.1f} L{x1:.1f},{y:.1f}")
        pen = step.end
        when = f"{step.start:%d %b %Y %H:00}–{step.end:%d %b %H:00} UTC"
        tip = f"{line.label}: {usd(step.price)} per million tokens ({title.lower()}), {when}"
        tips.append(
            f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="transparent" stroke-width="10">'
            f"<title>{escape(tip)}</title></line>"
        )
        if step.changed:
            dots.append(f'<circle class="change" cx="{x0:.1f}" cy="{y:.1f}" r="4" stroke="#fff" stroke-width="1.5"/>')
    dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
    return [
        f'<g class="series" stroke="{line.colour}" fill="{line.colour}" data-endpoint="{escape(line.key)}">',
        f'<path d="{" ".join(moves)}" fill="none" stroke-width="2.5"{dash}/>',
        *dots,
        *tips,
        "</g>",
    ]


def price_chart(
    endpoints: list[dict], batches: list[dict], field_name: str = "prompt", *, title: str = "Input price"
) -> PriceChart | None:
    """The chart of every endpoint's `field_name` price, or None when no endpoint ever had that price."""
    lines = []
    starts = [period["from"] for endpoint in endpoints for period in endpoint["prices"]]
    ends = [period["to"] + HOUR for endpoint in endpoints for period in endpoint["prices"]]
    if not starts:
        return None
    gaps = unobserved_hours(batches, min(starts), max(ends))
    for endpoint in endpoints:
        steps = endpoint_steps(endpoint, field_name, gaps)
        if steps:
            key = endpoint["entity"].key
            current = per_million((endpoint["prices"][-1] or {}).get(field_name)) if endpoint["prices"] else None
            lines.append(Line(key.split("@", 1)[-1], key, steps, current))
    if not lines:
        return None
    for index, line in enumerate(lines):
        line.colour = COLOURS[index % len(COLOURS)]
        line.dash = DASHES[(index // len(COLOURS)) % len(DASHES)]
    start = min(step.start for line in lines for step in line.steps)
    end = max(step.end for line in lines for step in line.steps)
    gaps = [hour for hour in gaps if start <= hour < end]
    top = max(step.price for line in lines for step in line.steps)
    ticks = nice_ticks(float(top))
    frame = _Frame(start, end, ticks[-1])
    chart_id = f"chart-{field_name}"
    full_title = f"{title} per million tokens"
    summary = (
        f"{full_title} of {len(lines)} endpoint{'s' if len(lines) != 1 else ''}, {start:%d %b %Y %H:00} to "
        f"{end:%d %b %Y %H:00} UTC; {len(gaps)} hour{'s' if len(gaps) != 1 else ''} without a complete snapshot. "
        + " ".join(f"{line.label}: now {usd(line.current)}." for line in lines)
    )
    parts = [
        f'<svg class="chart snapshot-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(full_title)}</title><desc id="{chart_id}-d">{escape(summary)}</desc>',
        *_bands(frame, gaps),
        *_grid(frame, ticks),
    ]
    for line in lines:
        parts.extend(_series(frame, line, title))
    parts.append("</svg>")
    return PriceChart(full_title, summary, mark_safe("".join(parts)), lines, len(gaps), start, end)
