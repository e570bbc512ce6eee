"""Reads from the roll-ups: uptime with gaps, windows, percentiles, the ranking of a model's offers."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from model_bakery import baker

from catalog.models import Mapping, Model, Provider
from telemetry.percentiles import bucket_of, bucket_value, exact_percentile
from telemetry.rollups import floor_hour
from telemetry.selectors import compare_telemetry, provider_health, provider_latency, provider_rank_for_model
from telemetry.services import telemetry_rollup_range
from tests import recipes
from tests.telemetry.conftest import add_health, add_latency

pytestmark = pytest.mark.django_db

RAW_TABLES = ("telemetry_healthcheck", "telemetry_latencysample")


@pytest.fixture
def this_hour():
    return floor_hour(timezone.now())


@pytest.fixture
def provider(probed) -> Provider:
    return baker.make(Provider, slug="acme", name="Acme", **probed)


def offer(provider, model, pid="m", price_in="1.00", price_out="2.00") -> Mapping:
    prices = {
        "price_input": Decimal(price_in) if price_in else None,
        "price_output": Decimal(price_out) if price_out else None,
    }
    return recipes.offer.make(provider=provider, model=model, provider_model_id=pid, **prices)


def rollup_all(this_hour):
    telemetry_rollup_range(start=this_hour - timedelta(days=31), end=this_hour + timedelta(hours=1))


def raw_queries(context) -> list[str]:
    return [q["sql"] for q in context.captured_queries if any(table in q["sql"] for table in RAW_TABLES)]


class TestProviderHealth:
    def test_uptime_counts_only_probes_that_happened(self, provider, this_hour):
        # Hours 1-2 ago: 24 checks, 2 failed; then nothing for 3 hours (unknown, not down); 6 h ago: 12 fine.
        add_health(provider, this_hour - timedelta(hours=2), count=22)
        add_health(provider, this_hour - timedelta(hours=1), outcome="failure", count=2)
        add_health(provider, this_hour - timedelta(hours=6), count=12)
        add_health(provider, this_hour - timedelta(hours=6), outcome="excluded", count=5)
        rollup_all(this_hour)
        health = provider_health(provider, window="24h")
        assert (health["successes"], health["failures"], health["excluded"]) == (34, 2, 5)
        assert health["samples"] == 36 and health["uptime"] == round(34 / 36, 4)  # rounded once, for every surface
        assert 0 < health["uptime_lower_bound"] < health["uptime"]
        assert len(health["series"]) == 3  # hours without a probe are absent, not zero

    def test_window_selects_whole_hours(self, provider, this_hour):
        add_health(provider, this_hour - timedelta(days=3), count=3)
        add_health(provider, this_hour - timedelta(days=20), outcome="failure", count=4)
        rollup_all(this_hour)
        assert provider_health(provider, window="24h")["samples"] == 0
        assert provider_health(provider, window="7d")["samples"] == 3
        assert provider_health(provider, window="30d")["samples"] == 7

    def test_without_probes_uptime_and_status_are_unknown(self, provider):
        health = provider_health(provider, window="7d")
        assert health["uptime"] is None and health["uptime_lower_bound"] is None and health["status"] == "unknown"

    def test_status_follows_the_latest_check_while_it_is_current(self, provider):
        add_health(provider, timezone.now() - timedelta(minutes=3), outcome="failure")
        assert provider_health(provider)["status"] == "down"
        add_health(provider, timezone.now() - timedelta(minutes=1))
        assert provider_health(provider)["status"] == "up"

    def test_a_provider_without_key_or_endpoint_is_not_configured(self, provider, monkeypatch):
        add_health(provider, timezone.now() - timedelta(minutes=1))
        monkeypatch.delenv("FAKE_PROVIDER_API_KEY")
        health = provider_health(provider)
        assert (health["status"], health["not_configured_reason"]) == ("not_configured", "no_key")
        Provider.objects.filter(pk=provider.pk).update(openai_compatible=False)
        provider.refresh_from_db()
        assert provider_health(provider)["not_configured_reason"] == "no_endpoint"

    def test_a_stale_latest_check_means_unknown(self, provider):
        add_health(provider, timezone.now() - timedelta(hours=1))
        assert provider_health(provider)["status"] == "unknown"

    def test_per_offer_health_is_listed(self, provider, this_hour):
        mapping = offer(provider, baker.make(Model, slug="m1"), pid="acme/m1")
        add_health(provider, this_hour, mapping=mapping, count=4)
        rollup_all(this_hour)
        (entry,) = provider_health(provider)["mappings"]
        assert (entry["provider_model_id"], entry["model"], entry["successes"], entry["uptime"]) == (
            "acme/m1",
            "m1",
            4,
            1,
        )


class TestProviderLatency:
    def test_percentiles_over_the_window_match_exact_ones_within_five_percent(self, provider, this_hour):
        mapping = offer(provider, baker.make(Model, slug="m1"))
        rng = random.Random(7)
        ttfts = [300 * rng.lognormvariate(0, 0.6) for _ in range(4 * 24 * 7)]
        totals = [t + 500 * rng.lognormvariate(0, 0.4) for t in ttfts]
        add_latency(mapping, this_hour - timedelta(days=7) + timedelta(hours=1), ttft_ms=ttfts, total_ms=totals)
        add_latency(mapping, this_hour - timedelta(hours=3), outcome="failure", ttft_ms=90_000.0, total_ms=99_000.0)
        rollup_all(this_hour)
        with CaptureQueriesContext(connection) as context:
            latency = provider_latency(provider, window="7d")
        assert raw_queries(context) == []
        assert latency["samples"] == len(ttfts) and latency["failures"] == 1
        for name, values in (("ttft_ms", ttfts), ("total_ms", totals)):
            for q in (0.5, 0.9, 0.99):
                exact = exact_percentile(values, q)
                assert abs(latency[name][f"p{round(q * 100)}"] - exact) / exact <= 0.05
        assert latency["mappings"][0]["ttft_ms"] == latency["ttft_ms"]
        assert latency["tokens_per_second"] > 0 and len(latency["series"]) == 7 * 24

    def test_no_samples_means_no_percentiles(self, provider):
        latency = provider_latency(provider, window="1h")
        assert latency["samples"] == 0 and latency["ttft_ms"] == {"p50": None, "p90": None, "p99": None, "mean": None}


class TestRanking:
    @pytest.fixture
    def model(self):
        return baker.make(Model, slug="llama", name="Llama")

    def test_offers_are_ranked_from_rollups_with_components_and_samples(self, model, this_hour):
        fast = offer(baker.make(Provider, slug="fast"), model, price_in="0.60", price_out="2.40")
        cheap = offer(baker.make(Provider, slug="cheap"), model, price_in="0.20", price_out="0.60")
        start = this_hour - timedelta(days=6)
        for mapping, ttft, total, failures in ((fast, 300.0, 1200.0, 16), (cheap, 600.0, 900.0, 0)):
            add_health(mapping.provider, start, mapping=mapping, count=2016 - failures, every=timedelta(minutes=4))
            add_health(mapping.provider, start, mapping=mapping, outcome="failure", count=failures)
            add_latency(mapping, start, ttft_ms=[ttft] * 672, total_ms=[total] * 672, every=timedelta(minutes=10))
        rollup_all(this_hour)
        with CaptureQueriesContext(connection) as context:
            ranking = provider_rank_for_model(model)
        assert raw_queries(context) == []
        first, second = ranking["providers"]
        # Medians come back as bucket midpoints (within 2.5%), the rest is the worked example's arithmetic.
        assert first["provider"]["id"] == "cheap" and second["provider"]["id"] == "fast"
        assert second["components"]["ttft"]["raw"] == pytest.approx(bucket_value(bucket_of(300.0)), abs=1e-3)
        assert second["components"]["uptime"]["samples"] == 2016 and second["samples"]["latency"] == 672
        assert second["components"]["uptime"]["lower_bound"] == pytest.approx(0.987146, abs=1e-4)
        assert first["score"] == pytest.approx(0.85, abs=0.01) and second["score"] == pytest.approx(0.8375, abs=0.01)
        assert not first["provisional"] and ranking["dropped_components"] == []

    def test_offer_without_its_own_probes_is_not_measured_and_never_borrows_its_provider_health(self, model, this_hour):
        mapping = offer(baker.make(Provider, slug="quiet"), model)
        add_health(mapping.provider, this_hour - timedelta(hours=5), count=60)
        rollup_all(this_hour)
        (entry,) = provider_rank_for_model(model)["providers"]
        assert entry["uptime_source"] == "none" and entry["samples"] == {"uptime": 0, "latency": 0}
        assert entry["score"] is None and entry["uptime"] is None and entry["measured"] is False
        assert entry["provisional_reasons"][0].startswith("not measured")
        # The provider's API health is there, labelled as the provider's, never as the offer's uptime.
        assert entry["provider_uptime"] == {"scope": "provider_api", "uptime": 1.0, "samples": 60, "window": "7d"}

    def test_without_any_probe_nothing_is_scored_and_price_orders(self, model):
        offer(baker.make(Provider, slug="b"), model, price_in="2", price_out="2")
        offer(baker.make(Provider, slug="a"), model, price_in="1", price_out="1")
        ranking = provider_rank_for_model(model)
        assert ranking["dropped_components"] == ["uptime", "ttft", "price", "total_time"]
        assert ranking["weights"] == {}
        assert [(e["provider"]["id"], e["score"], e["measured"]) for e in ranking["providers"]] == [
            ("a", None, False),
            ("b", None, False),
        ]

    def test_compare_telemetry_gives_the_fields_the_compare_endpoint_shows(self, model, this_hour):
        mapping = offer(baker.make(Provider, slug="a"), model)
        add_latency(mapping, this_hour - timedelta(hours=2), ttft_ms=[250.0] * 4, total_ms=[700.0] * 4)
        rollup_all(this_hour)
        telemetry = compare_telemetry([mapping.pk])
        assert set(telemetry) == {mapping.pk}
        entry = telemetry[mapping.pk]
        # No health check of its own: measured by its latency probes, but no uptime (they are not health checks).
        assert entry["uptime"] is None and entry["provisional"] and entry["samples"] == {"uptime": 0, "latency": 4}
        assert entry["measured"] and entry["provider_uptime"] is None and entry["window"] == "7d"
        assert entry["median_ttft_ms"] == pytest.approx(250, rel=0.025)
        assert entry["median_total_ms"] == pytest.approx(700, rel=0.025)
        assert entry["score"] == pytest.approx(1.0)
        assert compare_telemetry([]) == {}
