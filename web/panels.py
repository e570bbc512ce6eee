"""Telemetry panels of the provider page and the dashboard: the series read once and drawn as charts."""

from __future__ import annotations

from telemetry.selectors import provider_latency
from web import series
from web.charts import Chart, Series, line_chart

# p50 solid, p90 dashed, p99 dotted: told apart without colour too.
PERCENTILE_STYLE = {"p50": ("#0060a8", ""), "p90": ("#c24e00", "6 3"), "p99": ("#a8327a", "2 3")}


def uptime_chart(points: list[series.UptimePoint], window: series.Window, *, title: str, chart_id: str) -> Chart:
    line = Series("Uptime", _percentages(points))
    return _chart(title, [line], window, unit="%", chart_id=chart_id, y_floor=None, y_ceiling=100.0)


def _percentages(points: list[series.UptimePoint]) -> list[tuple]:
    return [(p.start, p.uptime * 100 if p.uptime is not None else None) for p in points]


def latency_charts(
    latency: dict[str, list[series.LatencyPoint]], window: series.Window, *, subject: str, chart_id: str
) -> list[Chart]:
    charts = []
    for name, title in (("ttft", "Time to first token"), ("total", "Total response time")):
        lines = [
            Series(quantile, [(p.start, p.percentiles[quantile]) for p in latency[name]], colour, dash)
            for quantile, (colour, dash) in PERCENTILE_STYLE.items()
        ]
        charts.append(_chart(f"{title} of {subject}", lines, window, unit="ms", chart_id=f"{chart_id}-{name}"))
    return charts


def _chart(title: str, lines: list[Series], window: series.Window, **options) -> Chart:
    every = "day" if window.daily else "hour"
    return line_chart(
        title=title,
        series=lines,
        start=window.since,
        end=window.until,
        step=window.step,
        describe=f"per {every} over the {window.label}",
        **options,
    )


def subject_panels(
    window: series.Window, *, provider, mapping=None, latency: dict | None = None, chart_id: str = "t"
) -> dict:
    """Uptime, TTFT and total-time charts of a provider's API and offers, or of one offer (model@provider), and the
    window's figures beside them. `latency` is provider_latency() of the window when the caller already has it."""
    mapping_id = mapping.pk if mapping is not None else None
    subject = f"{mapping.model.name} at {provider.name}" if mapping is not None else provider.name
    uptime_of = subject if mapping is not None else f"{provider.name}'s API"
    points = series.uptime_series(window, provider_id=provider.pk, mapping_id=mapping_id)
    percentiles = series.latency_series(window, provider_id=provider.pk, mapping_id=mapping_id)
    latency = latency if latency is not None else provider_latency(provider, window=window.key)
    if mapping is not None:
        latency = next((row for row in latency["mappings"] if row["mapping_id"] == mapping_id), None)
    successes, failures = sum(p.successes for p in points), sum(p.failures for p in points)
    return {
        "subject": subject,
        "uptime": uptime_chart(points, window, title=f"Uptime of {uptime_of}", chart_id=f"{chart_id}-uptime"),
        "latency": latency_charts(percentiles, window, subject=subject, chart_id=chart_id),
        "summary": {
            "uptime": successes / (successes + failures) if successes + failures else None,
            "checks": successes + failures,
            "failures": failures,
            "latency": latency,
        },
    }


def offer_telemetry(health: dict, latency: dict) -> dict[int, dict]:
    """Per offer of a provider: uptime from its own health checks only (`telemetry.uptime`, the figure the model page
    and the API show for the same window; latency probes never count) and latency percentiles. An offer with
    neither is `measured: False`."""
    figures: dict[int, dict] = {}
    for row in latency["mappings"]:
        figures[row["mapping_id"]] = {"uptime": None, "latency": row, "measured": bool(row["samples"])}
    for row in health["mappings"]:
        entry = figures.setdefault(row["mapping_id"], {"uptime": None, "latency": None, "measured": False})
        entry["uptime"] = row["uptime"]
        entry["measured"] = entry["measured"] or bool(row["samples"])
    return figures


def overview_panel(window: series.Window, *, lines: int = 6) -> dict:
    """Every probed provider's API uptime, and a chart of the least reliable few (the ones worth a look)."""
    providers = series.provider_overview(window)
    worst = sorted((p for p in providers if p["uptime"] is not None), key=lambda p: (p["uptime"], p["name"]))
    worst = worst[:lines]
    daily = series.overview_window(window)
    by_provider = series.overview_uptime_series(daily, [p["provider_id"] for p in worst])
    chart_lines = [Series(p["name"], _percentages(by_provider[p["provider_id"]])) for p in worst]
    chart = _chart(
        "Uptime of the least reliable providers",
        chart_lines,
        daily,
        unit="%",
        chart_id="overview",
        y_floor=None,
        y_ceiling=100.0,
        width=1000,
    )
    return {"providers": providers, "chart": chart}
