"""web.charts: readable ticks, gaps where nothing was measured, tooltips and accessible names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from web.charts import Series, line_chart, nice_ticks

START = datetime(2026, 3, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def chart(points, **options):
    defaults = {"title": "TTFT of X", "start": START, "end": START + 23 * HOUR, "step": HOUR, "unit": "ms"}
    return line_chart(series=[Series("p50", points)], **{**defaults, **options})


class TestNiceTicks:
    def test_round_steps_cover_the_range(self):
        assert nice_ticks(0, 412) == [0, 100, 200, 300, 400, 500]
        assert nice_ticks(97.3, 100) == [97.0, 98.0, 99.0, 100.0]
        assert nice_ticks(120, 3400) == [0, 1000, 2000, 3000, 4000]

    def test_a_flat_range_still_has_ticks(self):
        assert len(nice_ticks(5, 5)) >= 2


class TestLineChart:
    def test_no_measurement_is_an_empty_chart_not_a_broken_one(self):
        empty = chart([(START, None), (START + HOUR, None)])
        assert empty.empty and str(empty.svg) == ""
        assert "no measurements" in empty.summary

    def test_a_missing_hour_breaks_the_line(self):
        points = [(START, 100.0), (START + HOUR, 120.0), (START + 3 * HOUR, 90.0), (START + 4 * HOUR, 95.0)]
        svg = str(chart(points).svg)
        paths = [part for part in svg.split("<path ")[1:]]
        assert len(paths) == 2
        assert paths[0].count("L") == 1 and paths[1].count("L") == 1

    def test_every_bucket_has_a_tooltip_with_each_series_value(self):
        svg = str(chart([(START, 100.0), (START + HOUR, 2500.0)]).svg)
        assert "<title>10 Mar 00:00 UTC: p50 100 ms</title>" in svg
        assert "<title>10 Mar 01:00 UTC: p50 2.50 s</title>" in svg

    def test_accessible_name_and_description(self):
        result = chart([(START, 100.0), (START + HOUR, 300.0)], chart_id="c1")
        svg = str(result.svg)
        assert 'role="img"' in svg and 'aria-labelledby="c1-t c1-d"' in svg
        assert '<title id="c1-t">TTFT of X</title>' in svg
        assert "latest 300 ms, lowest 100 ms, highest 300 ms" in result.summary

    def test_labels_are_escaped(self):
        svg = str(
            line_chart(
                title="<b>",
                series=[Series("a<script>", [(START, 1.0)])],
                start=START,
                end=START + HOUR,
                step=HOUR,
                unit="ms",
            ).svg
        )
        assert "<script>" not in svg and "<b>" not in svg

    def test_uptime_axis_starts_near_the_data_and_ends_at_100(self):
        svg = str(chart([(START, 99.2), (START + HOUR, 100.0)], unit="%", y_floor=None, y_ceiling=100.0).svg)
        assert ">100%<" in svg and ">99.2%<" in svg and ">0%<" not in svg
