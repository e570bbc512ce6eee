"""Writes: results recorded in bulk, hourly roll-ups recomputed idempotently, 30-day retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from model_bakery import baker

from catalog.models import Mapping, Provider
from telemetry.classification import ErrorClass, Outcome
from telemetry.models import DailyLatency, HealthCheck, HourlyHealth, HourlyLatency, LatencySample
from telemetry.percentiles import bucket_of
from telemetry.probes import HEALTH, LATENCY, ProbeResult, ProbeTarget
from telemetry.rollups import floor_day, floor_hour, hour_spans
from telemetry.services import telemetry_purge, telemetry_record_results, telemetry_rollup, telemetry_rollup_range
from tests.telemetry.conftest import NOW, add_health, add_latency

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


@pytest.fixture
def provider() -> Provider:
    return baker.make(Provider, slug="acme")


@pytest.fixture
def mapping(provider) -> Mapping:
    return baker.make(Mapping, provider=provider, provider_model_id="acme/m1")


class TestHealthRollup:
    def test_counts_per_hour_per_provider_and_per_mapping(self, provider, mapping):
        hour = floor_hour(NOW)
        add_health(provider, hour, count=10, response_ms=100.0)
        add_health(provider, hour + timedelta(minutes=50), outcome="failure")
        add_health(provider, hour + timedelta(minutes=55), outcome="excluded")
        add_health(provider, hour, mapping=mapping, count=3)
        telemetry_rollup(kind=HEALTH, hours=[hour])
        own = HourlyHealth.objects.get(provider=provider, mapping=None)
        assert (own.hour, own.successes, own.failures, own.excluded) == (hour, 10, 1, 1)
        assert own.response_ms_sum == 1000.0 and own.response_ms_count == 10
        assert HourlyHealth.objects.get(mapping=mapping).successes == 3

    def test_rolling_up_twice_changes_nothing(self, provider, mapping):
        hour = floor_hour(NOW)
        add_health(provider, hour, count=12)
        add_health(provider, hour, mapping=mapping, count=12)
        telemetry_rollup(kind=HEALTH, hours=[hour])
        first = sorted(HourlyHealth.objects.values_list("provider", "mapping", "hour", "successes"), key=str)
        telemetry_rollup(kind=HEALTH, hours=[hour, hour])
        assert sorted(HourlyHealth.objects.values_list("provider", "mapping", "hour", "successes"), key=str) == first
        assert HourlyHealth.objects.count() == 2

    def test_a_late_check_updates_its_hour(self, provider):
        hour = floor_hour(NOW)
        add_health(provider, hour, count=2)
        telemetry_rollup(kind=HEALTH, hours=[hour])
        add_health(provider, hour + timedelta(minutes=30), outcome="failure")
        telemetry_rollup(kind=HEALTH, hours=[hour])
        row = HourlyHealth.objects.get()
        assert (row.successes, row.failures) == (2, 1)

    def test_checks_either_side_of_an_hour_boundary_land_in_two_hours(self, provider):
        hour = floor_hour(NOW)
        add_health(provider, hour - timedelta(minutes=5), count=2)  # :55 and :00
        telemetry_rollup_range(start=hour - HOUR, end=hour + HOUR)
        assert list(HourlyHealth.objects.order_by("hour").values_list("hour", "successes")) == [
            (hour - HOUR, 1),
            (hour, 1),
        ]


class TestLatencyRollup:
    def test_sums_and_histograms_of_successes_only(self, mapping):
        hour = floor_hour(NOW)
        add_latency(mapping, hour, ttft_ms=[200.0, 300.0, 300.0], total_ms=[800.0, 900.0, 1000.0])
        add_latency(mapping, hour + timedelta(minutes=50), outcome="failure", ttft_ms=5000.0, total_ms=9000.0)
        telemetry_rollup(kind=LATENCY, hours=[hour])
        row = HourlyLatency.objects.get()
        assert (row.successes, row.failures, row.ttft_count, row.total_count) == (3, 1, 3, 3)
        assert (row.ttft_ms_sum, row.total_ms_sum, row.output_tokens_sum) == (800.0, 2700.0, 48)
        assert row.ttft_histogram == {str(bucket_of(200.0)): 1, str(bucket_of(300.0)): 2}
        assert sum(row.total_histogram.values()) == 3
        assert row.provider_id == mapping.provider_id

    def test_rolling_up_twice_changes_nothing(self, mapping):
        hour = floor_hour(NOW)
        add_latency(mapping, hour, ttft_ms=[250.0, 260.0])
        telemetry_rollup(kind=LATENCY, hours=[hour])
        telemetry_rollup(kind=LATENCY, hours=[hour])
        assert HourlyLatency.objects.get().ttft_count == 2

    def test_hours_are_merged_into_their_day(self, mapping):
        day = floor_day(NOW)
        add_latency(mapping, day + timedelta(hours=1), ttft_ms=[200.0, 300.0], total_ms=[800.0, 900.0])
        add_latency(mapping, day + timedelta(hours=20), ttft_ms=[300.0], total_ms=[1000.0])
        add_latency(mapping, day + timedelta(hours=25), ttft_ms=[999.0], total_ms=[1999.0])  # the next day
        telemetry_rollup_range(start=day, end=day + timedelta(days=2))
        today, tomorrow = DailyLatency.objects.order_by("day")
        assert (today.day, today.ttft_count, today.ttft_ms_sum, today.total_count) == (day, 3, 800.0, 3)
        assert today.ttft_histogram == {str(bucket_of(200.0)): 1, str(bucket_of(300.0)): 2}
        assert tomorrow.ttft_count == 1
        telemetry_rollup(kind=LATENCY, hours=[day + timedelta(hours=1)])  # idempotent
        assert DailyLatency.objects.get(day=day).ttft_count == 3

    def test_hour_spans_are_contiguous_and_bounded(self):
        hour = floor_hour(NOW)
        hours = [hour, hour + HOUR, hour + 5 * HOUR] + [hour + (10 + i) * HOUR for i in range(30)]
        spans = hour_spans(hours, max_hours=24)
        assert spans[0] == (hour, hour + 2 * HOUR) and spans[1] == (hour + 5 * HOUR, hour + 6 * HOUR)
        assert spans[2] == (hour + 10 * HOUR, hour + 34 * HOUR) and spans[3] == (hour + 34 * HOUR, hour + 40 * HOUR)


class TestRecordResults:
    def test_results_are_stored_and_their_hours_rolled_up(self, provider, mapping):
        now = timezone.now()
        health = ProbeTarget(kind=HEALTH, provider_id=provider.pk, mapping_id=None, label="acme")
        latency = ProbeTarget(kind=LATENCY, provider_id=provider.pk, mapping_id=mapping.pk, label="acme/m1")
        hours = telemetry_record_results(
            results=[
                ProbeResult(target=health, checked_at=now, outcome=Outcome.SUCCESS, status_code=200, response_ms=40),
                ProbeResult(target=latency, checked_at=now, outcome=Outcome.SUCCESS, ttft_ms=120, response_ms=400),
                ProbeResult(
                    target=latency, checked_at=now, outcome=Outcome.NOT_CONFIGURED, error_class=ErrorClass.NO_KEY
                ),
            ]
        )
        assert hours == {floor_hour(now)}
        assert HealthCheck.objects.get().response_ms == 40
        assert LatencySample.objects.filter(outcome="success").get().total_ms == 400
        row = HourlyLatency.objects.get()
        assert (row.successes, row.failures, row.ttft_count) == (1, 0, 1)
        assert LatencySample.objects.count() == 1  # the not-configured result is not stored
        assert HourlyHealth.objects.get().successes == 1


class TestRetention:
    def test_purge_deletes_raw_rows_and_rollups_older_than_thirty_days(self, provider, mapping):
        now = floor_hour(timezone.now()) + timedelta(minutes=30)
        old, kept = now - timedelta(days=31), now - timedelta(days=29)
        add_health(provider, old)
        add_health(provider, kept)
        add_latency(mapping, old)
        add_latency(mapping, kept)
        telemetry_rollup_range(start=old, end=now)
        deleted = telemetry_purge(now=now)
        assert deleted == {
            "health_checks": 1,
            "latency_samples": 1,
            "hourly_health": 1,
            "hourly_latency": 1,
            "daily_latency": 1,
        }
        assert list(HealthCheck.objects.values_list("checked_at", flat=True)) == [kept]
        assert list(LatencySample.objects.values_list("checked_at", flat=True)) == [kept]
        assert list(HourlyHealth.objects.values_list("hour", flat=True)) == [floor_hour(kept)]
        assert list(HourlyLatency.objects.values_list("hour", flat=True)) == [floor_hour(kept)]
        assert list(DailyLatency.objects.values_list("day", flat=True)) == [floor_day(kept)]

    def test_purge_is_scheduled_daily_with_the_probes(self):
        from telemetry.schedules import SCHEDULES

        by_name = {spec["name"]: spec for spec in SCHEDULES}
        assert by_name["telemetry-probe-health"]["minutes"] == 5
        assert by_name["telemetry-probe-latency"]["minutes"] == 15
        assert by_name["telemetry-purge"]["schedule_type"] == "D"
