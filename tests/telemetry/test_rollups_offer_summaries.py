"""Per-offer summaries (issue 19, item 3): ranking and compare read one row per offer and answer exactly as the
aggregation of the hourly roll-ups did, through probes landing, partial windows, unmeasured offers and expiry."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Mapping, Model, Provider
from telemetry.classification import Outcome
from telemetry.models import OfferSummary
from telemetry.offer_summaries import (
    offer_summaries_refresh,
    offer_summaries_refresh_stale,
    ranking_window_start,
)
from telemetry.probes import HEALTH, LATENCY, ProbeResult, ProbeTarget
from telemetry.rollups import floor_hour
from telemetry.selectors import compare_telemetry, provider_rank_for_model
from telemetry.services import telemetry_record_results, telemetry_rollup_range
from telemetry.tasks import refresh_summaries
from tests import recipes
from tests.telemetry.conftest import add_health, add_latency

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
RANKED_QUERIES = 4  # the model (by slug or alias, then the row), its offers, their summaries
COMPARE_QUERIES = 3  # the model, its offers, their summaries


@pytest.fixture
def model() -> Model:
    return recipes.model.make(slug="summary-model", name="Summary Model")


def offer(model: Model, slug: str, price: str = "1.00") -> Mapping:
    provider = recipes.provider.make(slug=slug, name=slug.title())
    return recipes.offer.make(
        model=model,
        provider=provider,
        provider_model_id=f"{slug}/m",
        price_input=Decimal(price),
        price_output=Decimal(price) * 4,
    )


def history(mapping: Mapping, start: datetime, end: datetime, rng: random.Random, *, failure_rate: float, ttft: float):
    """Half-hourly health checks and hourly latency probes of one offer in [start, end), shaped like real ones:
    lognormal TTFT around the offer's own median, an occasional failure."""
    at = start
    while at < end:
        add_health(
            mapping.provider, at, mapping=mapping, outcome="failure" if rng.random() < failure_rate else "success"
        )
        add_health(mapping.provider, at + timedelta(minutes=30), mapping=mapping)
        first = ttft * rng.lognormvariate(0, 0.4)
        add_latency(mapping, at + timedelta(minutes=7), ttft_ms=first, total_ms=first + rng.uniform(300, 2500))
        at += HOUR


@pytest.fixture
def offers(model) -> dict[str, Mapping]:
    """Seven offers of one model, each a case the ranking has to get right, with 9 days of probes rolled up."""
    rng = random.Random(19)
    now = timezone.now()
    since = ranking_window_start(now)
    this_hour = floor_hour(now)
    made = {name: offer(model, name, price) for name, price in [
        ("steady", "0.60"), ("recent", "0.20"), ("silent", "0.05"), ("throttled", "0.30"),
        ("latency-only", "0.90"), ("expired", "0.10"), ("edge", "0.40"),
    ]}  # fmt: skip
    history(made["steady"], now - timedelta(days=9), now - HOUR, rng, failure_rate=0.01, ttft=250)
    history(made["recent"], now - timedelta(days=2), now - HOUR, rng, failure_rate=0.2, ttft=900)  # partial window
    # silent: never probed itself, but its provider's API is checked (a figure of the provider, not of the offer).
    add_health(made["silent"].provider, now - timedelta(days=3), count=200, every=timedelta(minutes=10))
    # throttled: only 429s, which count for nothing: unmeasured, uptime null.
    add_health(
        made["throttled"].provider, now - timedelta(days=1), mapping=made["throttled"], outcome="excluded", count=30
    )
    add_latency(made["latency-only"], now - timedelta(days=4), ttft_ms=[400.0, 420.0, 380.0, 2000.0])
    # expired: probed only before the window began.
    history(made["expired"], since - timedelta(days=2), since - HOUR, rng, failure_rate=0.0, ttft=100)
    # edge: probes in the hour just before the window (next to leave) and in the window's first hours.
    history(made["edge"], since - HOUR, since + 3 * HOUR, rng, failure_rate=0.5, ttft=600)
    telemetry_rollup_range(start=now - timedelta(days=10), end=this_hour + HOUR)
    return made


def both_ways(model: Model) -> tuple[dict, dict]:
    return provider_rank_for_model(model, from_summaries=False), provider_rank_for_model(model)


def by_slug(ranking: dict) -> dict[str, dict]:
    return {entry["provider"]["id"]: entry for entry in ranking["providers"]}


class TestSameAnswersAsTheRollups:
    def test_the_ranking_read_from_summaries_equals_the_one_aggregated_from_rollups(self, model, offers):
        before, after = both_ways(model)
        assert after == before  # scores, order, components, uptime figures, samples, provider figures, window
        rows = by_slug(after)
        measured = [e["measured"] for e in after["providers"]]
        assert measured == sorted(measured, reverse=True)  # every unmeasured offer after every measured one
        for unmeasured in ("silent", "throttled", "expired"):
            assert rows[unmeasured]["measured"] is False
            assert rows[unmeasured]["score"] is None and rows[unmeasured]["uptime"] is None
        assert rows["silent"]["provider_uptime"]["scope"] == "provider_api"  # the provider's, labelled
        assert rows["latency-only"]["measured"] and rows["latency-only"]["uptime"] is None
        assert 0 < rows["recent"]["uptime"] < rows["steady"]["uptime"] <= 1
        assert rows["recent"]["samples"]["uptime"] < rows["steady"]["samples"]["uptime"]  # partial window

    def test_every_offer_and_provider_api_has_a_current_row_and_is_read_without_the_rollups(
        self, model, offers, django_assert_num_queries
    ):
        since = ranking_window_start()
        current = OfferSummary.objects.filter(window_start=since)
        assert set(current.exclude(mapping=None).values_list("mapping_id", flat=True)) >= {
            m.pk for m in offers.values()
        }
        assert current.filter(mapping=None).count() == Provider.objects.count()
        steady = current.get(mapping=offers["steady"])
        assert steady.last_probed_at is not None and steady.median_ttft_ms is not None
        # The mappings, then one query for the summaries: no roll-up is aggregated.
        with django_assert_num_queries(2):
            provider_rank_for_model(model)

    def test_compare_telemetry_agrees_with_the_ranking(self, model, offers):
        figures = compare_telemetry([m.pk for m in offers.values()])
        ranking = by_slug(provider_rank_for_model(model))
        for slug, mapping in offers.items():
            assert figures[mapping.pk]["score"] == ranking[slug]["score"]
            assert figures[mapping.pk]["uptime"] == ranking[slug]["uptime"]


def probe_batch(offers: dict[str, Mapping], at: datetime) -> list[ProbeResult]:
    """One round's results: a health check of every offer and provider API and a latency probe of every offer."""
    results = []
    for name, mapping in offers.items():
        provider_target = ProbeTarget(kind=HEALTH, provider_id=mapping.provider_id, mapping_id=None, label=name)
        health = ProbeTarget(kind=HEALTH, provider_id=mapping.provider_id, mapping_id=mapping.pk, label=name)
        latency = ProbeTarget(kind=LATENCY, provider_id=mapping.provider_id, mapping_id=mapping.pk, label=name)
        failed = name == "steady"
        results += [
            ProbeResult(
                target=provider_target, checked_at=at, outcome=Outcome.SUCCESS, status_code=200, response_ms=50
            ),
            ProbeResult(
                target=health, checked_at=at, outcome=Outcome.FAILURE if failed else Outcome.SUCCESS, response_ms=60
            ),
            ProbeResult(target=latency, checked_at=at, outcome=Outcome.SUCCESS, ttft_ms=333.0, response_ms=1200.0),
        ]
    return results


class TestProbesLanding:
    def test_a_landed_batch_updates_the_summaries_and_the_answers_stay_equal(self, model, offers):
        silent = offers["silent"]
        assert by_slug(provider_rank_for_model(model))["silent"]["measured"] is False
        at = timezone.now()
        steady_before = OfferSummary.objects.get(mapping=offers["steady"])
        telemetry_record_results(results=probe_batch(offers, at))
        before, after = both_ways(model)
        assert after == before
        rows = by_slug(after)
        assert rows["silent"]["measured"] is True and rows["silent"]["uptime"] == 1.0  # its first own probe
        steady = OfferSummary.objects.get(mapping=offers["steady"])
        assert steady.failures == steady_before.failures + 1
        assert OfferSummary.objects.get(mapping=silent).last_probed_at == at
        assert OfferSummary.objects.get(mapping=None, provider=silent.provider).last_probed_at == at

    @pytest.mark.parametrize("size", [2, 7])
    def test_one_upsert_for_the_offers_and_one_for_the_provider_apis_whatever_the_batch_size(self, model, offers, size):
        batch = probe_batch(dict(list(offers.items())[:size]), timezone.now())
        with CaptureQueriesContext(connection) as queries:
            telemetry_record_results(results=batch)
        upserts = [
            q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "telemetry_offersummary"')
        ]
        assert len(upserts) == 2

    def test_an_older_batch_never_moves_the_last_probe_time_back(self, model, offers):
        at = timezone.now()
        telemetry_record_results(results=probe_batch(offers, at))
        telemetry_record_results(results=probe_batch(offers, at - timedelta(minutes=20)))
        assert OfferSummary.objects.get(mapping=offers["steady"]).last_probed_at == at


class TestWindowExpiry:
    def test_rows_of_an_older_window_are_not_read_and_the_refresh_brings_them_current(self, model, offers):
        an_hour_ago = timezone.now() - HOUR
        offer_summaries_refresh(now=an_hour_ago)  # as if the window moved since the last refresh
        stale = OfferSummary.objects.get(mapping=offers["edge"])
        assert stale.window_start == ranking_window_start() - HOUR
        before, after = both_ways(model)
        assert after == before  # stale rows are recomputed from the roll-ups when read, never shown

        written = refresh_summaries()  # the scheduled task
        assert written == Mapping.objects.count() + Provider.objects.count()
        assert offer_summaries_refresh_stale() == 0  # nothing left to do until the next hour
        current = OfferSummary.objects.get(mapping=offers["edge"])
        assert current.window_start == ranking_window_start()
        # The hour before the window held probes of `edge`: they left its figures with the refresh.
        assert current.successes + current.failures < stale.successes + stale.failures
        before, after = both_ways(model)
        assert after == before

    def test_a_new_offer_without_a_row_reads_as_unmeasured_and_gets_one_at_the_refresh(self, model, offers):
        newcomer = offer(model, "newcomer", "0.01")
        assert by_slug(provider_rank_for_model(model))["newcomer"]["score"] is None
        offer_summaries_refresh_stale()
        row = OfferSummary.objects.get(mapping=newcomer)
        assert (row.successes, row.failures, row.latency_samples, row.median_ttft_ms) == (0, 0, 0, None)
        before, after = both_ways(model)
        assert after == before


@pytest.fixture
def many_offers(request, model) -> list[Mapping]:
    """`request.param` offers of the model, each probed through the write path, so every summary is current."""
    made = [offer(model, f"prov-{i:02d}", f"0.{i + 10}") for i in range(request.param)]
    telemetry_record_results(results=probe_batch({m.provider.slug: m for m in made}, timezone.now()))
    return made


class TestConstantQueries:
    """Ranking and compare cost the same number of queries for 3 providers as for 12: one summary row per offer."""

    @pytest.fixture(autouse=True)
    def uncached(self, settings):
        settings.API_CACHE_ENABLED = False
        settings.API_THROTTLE_RATE = "100000/min"

    @pytest.mark.parametrize("many_offers", [3, 12], indirect=True)
    def test_ranked_endpoint(self, client, model, many_offers, django_assert_num_queries):
        with django_assert_num_queries(RANKED_QUERIES):
            response = client.get(f"/api/telemetry/ranked/{model.slug}")
        assert response.status_code == 200
        assert len(response.json()["providers"]) == len(many_offers)
        assert all(entry["measured"] for entry in response.json()["providers"])

    @pytest.mark.parametrize("many_offers", [3, 12], indirect=True)
    def test_compare_endpoint(self, client, model, many_offers, django_assert_num_queries):
        with django_assert_num_queries(COMPARE_QUERIES):
            response = client.get(f"/api/models/{model.slug}/compare")
        assert response.status_code == 200
        rows = response.json()["results"]
        assert len(rows) == len(many_offers) and all(row["score"] is not None for row in rows)
