"""Server-side SVG line charts (no JavaScript): axes with readable ticks, gaps where nothing was measured,
a `<title>` tooltip on every point, and `role="img"` with a text summary for screen readers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 600, 240
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 12, 34
# Okabe–Ito colours (distinguishable with colour blindness), each ≥ 3:1 against white; dashes tell them apart too.
COLOURS = ("#0060a8", "#c24e00", "#00795a", "#a8327a", "#5e4fa2", "#8a6d00", "#2b2b2b", "#0087a8")
DASHES = ("", "6 3", "2 3", "10 3 2 3")
X_STEPS = [timedelta(hours=h) for h in (1, 2, 3, 6, 12)] + [timedelta(days=d) for d in (1, 2, 5, 7, 14)]
MAX_X_TICKS = 8
MAX_DOTS = 48  # up to two days of hourly points get a dot each; longer series are lines only


@dataclass
class Series:
    label: str
    points: list[tuple[datetime, float | None]]
    colour: str = ""
    dash: str = ""


@dataclass
class Chart:
    title: str
    summary: str
    svg: SafeString
    legend: list[Series] = field(default_factory=list)
    empty: bool = False


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 × 10^n apart) covering [low, high]."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step + 1e-9) * step
    ticks = [round(first, 10)]
    while ticks[-1] < high - step * 1e-6:
        ticks.append(round(first + len(ticks) * step, 10))
    return ticks


def _x_ticks(start: datetime, end: datetime, most: int = MAX_X_TICKS) -> tuple[list[datetime], str]:
    span = end - start
    step = next((s for s in X_STEPS if span / s <= most), X_STEPS[-1])
    if step < timedelta(days=1):
        first = start.replace(minute=0, second=0, microsecond=0)
        hours = step.total_seconds() // 3600
        while first < start or first.hour % hours:
            first += timedelta(hours=1)
        fmt = "%H:%M" if span <= timedelta(days=1) else "%d %b %H:%M"
    else:
        first = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if first < start:
            first += timedelta(days=1)
        fmt = "%d %b"
    ticks = []
    while first <= end:
        ticks.append(first)
        first += step
    return ticks, fmt


def _segments(points: list[tuple[datetime, float | None]], step: timedelta) -> list[list[tuple[datetime, float]]]:
    """Split a series where a bucket is missing or empty: a gap in the line means nothing was measured."""
    segments: list[list[tuple[datetime, float]]] = []
    previous = None
    for moment, value in points:
        if value is None:
            previous = None
            continue
        if previous is None or moment - previous > step * 1.5:
            segments.append([])
        segments[-1].append((moment, value))
        previous = moment
    return segments


def line_chart(
    *,
    title: str,
    series: list[Series],
    start: datetime,
    end: datetime,
    step: timedelta,
    unit: str,
    y_floor: float | None = 0.0,
    y_ceiling: float | None = None,
    describe: str = "",
    chart_id: str = "chart",
    width: int = WIDTH,
) -> Chart:
    """A chart of `series` over [start, end] (bucket starts), values in `unit` ("%" or "ms")."""
    for index, line in enumerate(series):
        line.colour = line.colour or COLOURS[index % len(COLOURS)]
        line.dash = line.dash or DASHES[index % len(DASHES)]
    values = [v for line in series for _, v in line.points if v is not None]
    if not values:
        return Chart(title, f"{title}: no measurements in this window.", mark_safe(""), series, empty=True)
    low = min(values) if y_floor is None else min(y_floor, min(values))
    high = max(values) if y_ceiling is None else max(y_ceiling, max(values))
    if high <= low:  # a flat line (every hour 100% up): give it some room below
        low = high - 1
    ticks = nice_ticks(low, high)
    frame = _Frame(start, end, ticks[0], ticks[-1], width)
    label_of = _formatter(unit)
    summary = _summary(title, series, label_of, describe)
    css_class = "chart wide" if width > WIDTH else "chart"
    parts = [
        f'<svg class="{css_class}" viewBox="0 0 {width} {HEIGHT}" role="img" aria-labelledby="{chart_id}-t '
        f'{chart_id}-d" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(summary)}</desc>',
        *_grid(frame, ticks, label_of),
    ]
    for line in series:
        dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
        parts.append(f'<g class="series" stroke="{line.colour}" fill="{line.colour}">')
        for segment in _segments(line.points, step):
            path = " ".join(f"{'L' if i else 'M'}{frame.x(m):.1f},{frame.y(v):.1f}" for i, (m, v) in enumerate(segment))
            parts.append(f'<path d="{path}" fill="none" stroke-width="2"{dash}/>')
            if len(line.points) <= MAX_DOTS:
                parts.extend(f'<circle cx="{frame.x(m):.1f}" cy="{frame.y(v):.1f}" r="2.5"/>' for m, v in segment)
        parts.append("</g>")
    parts.extend(_hover_columns(frame, series, step, label_of))
    parts.append("</svg>")
    return Chart(title, summary, mark_safe("".join(parts)), series)


def _hover_columns(frame: _Frame, series: list[Series], step: timedelta, label_of) -> list[str]:
    """One invisible column per bucket whose tooltip lists every series' value then: one `<title>` per time,
    not one per point, keeps a week of hourly data small."""
    values: dict[datetime, list[str]] = {}
    for line in series:
        for moment, value in line.points:
            if value is not None:
                values.setdefault(moment, []).append(f"{line.label} {label_of(value, precise=True)}")
    moments = sorted(values)
    when = "%d %b" if step >= timedelta(days=1) else "%d %b %H:00"
    half = (frame.x(frame.start + step) - frame.x(frame.start)) / 2
    parts = ['<g class="hover" fill="transparent">']
    for moment in moments:
        left = max(LEFT, frame.x(moment) - half)
        width = min(frame.width - RIGHT, frame.x(moment) + half) - left
        tip = escape(f"{moment.strftime(when)} UTC: {', '.join(values[moment])}")
        parts.append(
            f'<rect x="{left:.1f}" y="{TOP}" width="{width:.1f}" height="{HEIGHT - TOP - BOTTOM}">'
            f"<title>{tip}</title></rect>"
        )
    parts.append("</g>")
    return parts


@dataclass(frozen=True)
class _Frame:
    """Data coordinates → SVG coordinates inside the plot area."""

    start: datetime
    end: datetime
    y_low: float
    y_high: float
    width: int = WIDTH

    def x(self, moment: datetime) -> float:
        span = max((self.end - self.start).total_seconds(), 1.0)
        return LEFT + (self.width - LEFT - RIGHT) * (moment - self.start).total_seconds() / span

    def y(self, value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - (value - self.y_low) / (self.y_high - self.y_low))


GRID, AXIS, INK = "#e4e8ec", "#7b8590", "#4f5863"


def _grid(frame: _Frame, ticks: list[float], label_of) -> list[str]:
    """Gridlines, ticks and labels, styled by attributes so the picture stands without the stylesheet."""
    bottom = HEIGHT - BOTTOM
    parts = [f'<g class="grid" fill="{INK}" font-size="12" font-family="system-ui, sans-serif">']
    for tick in ticks:
        y = frame.y(tick)
        parts.append(f'<line x1="{LEFT}" x2="{frame.width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label_of(tick))}</text>')
    x_ticks, x_format = _x_ticks(frame.start, frame.end, MAX_X_TICKS * frame.width // WIDTH)
    for tick in x_ticks:
        x = frame.x(tick)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="{AXIS}"/>')
        # Labels at the ends are anchored inwards so they are not cut off by the edge of the picture.
        anchor = "end" if x > frame.width - RIGHT - 24 else "start" if x < LEFT + 24 else "middle"
        label = escape(tick.strftime(x_format))
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="{anchor}">{label}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{frame.width - RIGHT}" y1="{bottom}" y2="{bottom}" stroke="{AXIS}"/></g>')
    return parts


def _formatter(unit: str):
    def label(value: float, precise: bool = False) -> str:
        if unit == "%":
            return f"{value:.2f}%" if precise else f"{value:g}%"
        if value >= 1000:
            return f"{value / 1000:.2f} s" if precise else f"{value / 1000:g} s"
        return f"{value:.0f} ms"

    return label


def _summary(title: str, series: list[Series], label_of, describe: str) -> str:
    parts = [f"{title}{' ' + describe if describe else ''}."]
    for line in series:
        measured = [v for _, v in line.points if v is not None]
        if measured:
            parts.append(
                f"{line.label}: latest {label_of(measured[-1], precise=True)}, lowest {label_of(min(measured), True)}, "
                f"highest {label_of(max(measured), True)}."
            )
    return " ".join(parts)
