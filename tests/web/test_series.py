"""web.series: uptime and latency percentiles per bucket from the roll-ups, one query each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Mapping, Provider
from telemetry.models import HourlyHealth, HourlyLatency
from telemetry.percentiles import histogram_merge, histogram_of, histogram_percentiles
from telemetry.rollups import floor_hour
from web import series

pytestmark = pytest.mark.django_db


class TestWindow:
    def test_unknown_windows_fall_back_to_a_week(self):
        assert series.window_get("nonsense").key == "7d"

    def test_hourly_up_to_a_week_then_daily(self):
        now = timezone.now()
        assert series.window_get("24h", now).step == timedelta(hours=1)
        assert series.window_get("7d", now).since == floor_hour(now) - timedelta(hours=167)
        month = series.window_get("30d", now)
        assert month.daily and month.since.hour == 0


class TestUptime:
    def test_provider_api_uptime_per_hour(self, telemetry):
        groq = Provider.objects.get(slug="groq")
        points = series.uptime_series(series.window_get("24h"), provider_id=groq.pk)
        rows = HourlyHealth.objects.filter(provider=groq, mapping__isnull=True).order_by("-hour")[:24]
        expected = {r.hour: r.successes / (r.successes + r.failures) for r in rows}
        assert {p.start: p.uptime for p in points} == expected

    def test_an_offer_counts_its_latency_probes(self, telemetry):
        mapping = Mapping.objects.get(provider__slug="groq")
        points = series.uptime_series(series.window_get("7d"), provider_id=mapping.provider_id, mapping_id=mapping.pk)
        latency = HourlyLatency.objects.filter(mapping=mapping)
        assert sum(p.successes for p in points) == sum(r.successes for r in latency)
        assert sum(p.failures for p in points) == sum(r.failures for r in latency)


class TestLatency:
    def test_percentiles_per_hour_match_the_merged_histograms(self, telemetry):
        together = Provider.objects.get(slug="togetherai")
        with CaptureQueriesContext(connection) as queries:
            result = series.latency_series(series.window_get("7d"), provider_id=together.pk)
        assert len(queries) == 1
        by_hour: dict = {}
        for row in HourlyLatency.objects.filter(provider=together):
            by_hour[row.hour] = histogram_merge([by_hour.get(row.hour, {}), row.ttft_histogram])
        assert len(result["ttft"]) == len(by_hour) == 48
        for point in result["ttft"]:
            expected = histogram_percentiles(by_hour[point.start], [0.5, 0.9, 0.99])
            assert point.percentiles == {"p50": expected[0.5], "p90": expected[0.9], "p99": expected[0.99]}
            assert point.samples == sum(by_hour[point.start].values())

    def test_one_offer_and_daily_buckets(self, catalogue):
        mapping = Mapping.objects.get(provider__slug="groq")
        hour = floor_hour(timezone.now()) - timedelta(days=2)
        HourlyLatency.objects.create(
            provider_id=mapping.provider_id,
            mapping=mapping,
            hour=hour,
            successes=3,
            ttft_histogram=histogram_of([100, 200, 300]),
            total_histogram=histogram_of([900, 1000, 1100]),
        )
        from telemetry.rollups import floor_day, rollup_latency_day

        rollup_latency_day(floor_day(hour))
        hourly = series.latency_series(series.window_get("7d"), provider_id=mapping.provider_id, mapping_id=mapping.pk)
        daily = series.latency_series(series.window_get("30d"), provider_id=mapping.provider_id, mapping_id=mapping.pk)
        assert [p.start for p in hourly["ttft"]] == [hour]
        assert [p.start for p in daily["total"]] == [floor_day(hour)]
        assert daily["ttft"][0].percentiles["p50"] == pytest.approx(200, rel=0.03)
