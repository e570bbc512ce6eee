"""Measured or not, visibly: uptime from health checks only, no score for what was never probed, provider figures
kept as the provider's (issue 15, point 4)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Billing, Mapping, Model
from catalog.ranking import model_offer_ranking
from telemetry.ranking import OfferFigures, rank
from telemetry.rollups import floor_hour
from telemetry.selectors import provider_health, provider_rank_for_model
from telemetry.services import telemetry_rollup_range
from tests import recipes
from tests.telemetry.conftest import add_health, add_latency

pytestmark = pytest.mark.django_db


@pytest.fixture
def this_hour():
    return floor_hour(timezone.now())


@pytest.fixture
def model() -> Model:
    return recipes.model.make(slug="measured-model", name="Measured Model")


def offer(model: Model, slug: str, price: str | None = "1.00", **fields) -> Mapping:
    provider = recipes.provider.make(slug=slug, name=slug.title())
    value = Decimal(price) if price is not None else None
    return recipes.offer.make(
        model=model, provider=provider, provider_model_id=f"{slug}/m", price_input=value, price_output=value, **fields
    )


def rollup(this_hour):
    telemetry_rollup_range(start=this_hour - timedelta(days=8), end=this_hour + timedelta(hours=1))


class TestRankFormula:
    def test_an_offer_with_no_samples_has_no_score_and_sorts_after_every_measured_one(self):
        # The unmeasured offer is free and would win every component it was imputed or priced on.
        unmeasured = OfferFigures(1, price_input=0.0, price_output=0.0)
        poor = OfferFigures(2, successes=5, failures=5, price_input=50.0, price_output=50.0)
        slow = OfferFigures(3, latency_samples=2, median_ttft_ms=9000, median_total_ms=20000)
        ranked, weights = rank([unmeasured, poor, slow])
        # poor: 0.4·1 + 0.3·0.5 (imputed) + 0.2·1 + 0.1·0.5 (imputed) = 0.8
        # slow: 0.4·0.5 (imputed) + 0.3·1 + 0.2·0.5 (imputed) + 0.1·1 = 0.7
        assert [(e.candidate.key, e.measured) for e in ranked] == [(2, True), (3, True), (1, False)]
        assert [e.score for e in ranked[:2]] == [pytest.approx(0.8), pytest.approx(0.7)]
        last = ranked[-1]
        assert last.score is None and not last.measured
        assert last.provisional_reasons[0].startswith("not measured")
        # The free unmeasured price took no part in normalising: the poor offer's price is the best price seen.
        assert weights["price"] > 0
        assert {e.candidate.key: e for e in ranked}[2].components["price"]["normalised"] == 1.0

    def test_no_provisional_score_for_the_unprobed(self):
        ranked, weights = rank([OfferFigures(1, price_input=1.0, price_output=1.0)])
        assert ranked[0].score is None and weights == {}


class TestUptimeIsHealthChecksOnly:
    def test_latency_probes_do_not_count_towards_uptime(self, model, this_hour):
        mapping = offer(model, "groq")
        start = this_hour - timedelta(hours=30)
        add_health(mapping.provider, start, mapping=mapping, count=599, every=timedelta(minutes=2))
        add_health(mapping.provider, start + timedelta(minutes=1), mapping=mapping, outcome="failure", count=1)
        # Twenty failed latency probes: the old ranking added them to the health checks (619/640 = 96.72%).
        add_latency(mapping, start, ttft_ms=[300.0] * 20)
        add_latency(mapping, start + timedelta(minutes=5), outcome="failure", ttft_ms=[None] * 20, total_ms=[None] * 20)
        rollup(this_hour)
        expected = round(599 / 600, 4)
        (row,) = model_offer_ranking(model.pk)
        assert row.uptime == expected == 0.9983 and row.samples == {"uptime": 600, "latency": 20}
        (entry,) = provider_rank_for_model(model)["providers"]
        assert entry["components"]["uptime"]["samples"] == 600 and entry["uptime"] == expected
        (health,) = provider_health(mapping.provider, window="7d")["mappings"]
        assert health["uptime"] == expected and health["samples"] == 600

    def test_an_offer_probed_only_for_latency_is_measured_but_has_no_uptime(self, model, this_hour):
        mapping = offer(model, "timed")
        add_latency(mapping, this_hour - timedelta(hours=2), ttft_ms=[250.0] * 5)
        rollup(this_hour)
        (row,) = model_offer_ranking(model.pk)
        assert row.measured and row.score is not None and row.uptime is None


class TestUnmeasuredSortsLast:
    @pytest.mark.parametrize("include_plans", [False, True])
    @pytest.mark.parametrize("billing", [Billing.PER_TOKEN, Billing.FREE_TIER])
    def test_an_unmeasured_free_endpoint_never_outranks_a_measured_one(self, model, this_hour, billing, include_plans):
        measured = offer(model, "measured-host", "30.00")  # expensive, and fails a third of its checks
        start = this_hour - timedelta(hours=10)
        add_health(measured.provider, start, mapping=measured, count=20)
        add_health(measured.provider, start + timedelta(minutes=1), mapping=measured, outcome="failure", count=10)
        add_latency(measured, start, ttft_ms=[4000.0] * 3, total_ms=[9000.0] * 3)
        free = offer(model, "aaa-free", "0", variant="free", billing=billing)
        # Its provider's API is perfectly healthy: that is the provider's figure, not the free endpoint's.
        add_health(free.provider, start, count=100)
        rollup(this_hour)
        rows = model_offer_ranking(model.pk, include_plans=include_plans)
        assert [(r.provider.slug, r.measured) for r in rows] == [("measured-host", True), ("aaa-free", False)]
        assert rows[0].score is not None and rows[1].score is None and rows[1].uptime is None
        assert rows[1].provider_uptime == {"scope": "provider_api", "uptime": 1.0, "samples": 100, "window": "7d"}

    def test_unmeasured_offers_keep_the_price_order_among_themselves(self, model):
        offer(model, "dear", "5.00")
        offer(model, "cheap", "1.00")
        rows = model_offer_ranking(model.pk)
        assert [(r.provider.slug, r.score, r.measured) for r in rows] == [("cheap", None, False), ("dear", None, False)]
        assert rows[0].cheapest
