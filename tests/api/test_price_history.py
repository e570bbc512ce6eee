"""The dated price history in the API: a model's offers as of a day, one offer's periods, price changes across the
catalogue (filters, pagination, constant query counts), and each offer's verification."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from catalog.models import Mapping, Model, PriceRecord
from tests.api.helpers import make_offers, query_count

pytestmark = pytest.mark.django_db


def moment(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


def periods(
    mapping: Mapping, *steps: tuple[str, dict], source: str = "litellm", replace: bool = True
) -> list[PriceRecord]:
    """Contiguous price periods of `mapping`, one per (start day, prices); the last is current. They replace the
    periods it had (the one the registry load opened) unless `replace` is false."""
    if replace:
        PriceRecord.objects.filter(mapping=mapping).delete()
    records = []
    for i, (start, prices) in enumerate(steps):
        end = moment(steps[i + 1][0]) if i + 1 < len(steps) else None
        records.append(
            PriceRecord.objects.create(
                mapping=mapping, valid_from=moment(start), valid_to=end, source=source, prices=prices
            )
        )
    return records


@pytest.fixture
def offer(catalogue) -> Mapping:
    mapping = Mapping.objects.get(provider__slug="openai", provider_model_id="gpt-4o")
    periods(
        mapping,
        ("2026-01-08", {"price_input": "5", "price_output": "15"}),
        ("2026-05-01", {"price_input": "2.5", "price_output": "10"}),
    )
    return mapping


class TestOffersAsOf:
    def test_prices_are_the_period_in_force_at_the_end_of_the_day(self, offer, api):
        before = api.get("/api/models/gpt-4o/providers?at=2026-04-30").json()["results"]
        on = api.get("/api/models/gpt-4o/providers?at=2026-05-01").json()["results"]
        assert [(o["provider_model_id"], o["price_input"], o["price_output"]) for o in before] == [
            ("gpt-4o", 5.0, 15.0)
        ]
        assert [(o["price_input"], o["price_period"]["valid_from"]) for o in on] == [(2.5, "2026-05-01T00:00:00+00:00")]
        assert on[0]["price_period"]["valid_to"] is None and on[0]["price_period"]["source"] == "litellm"
        assert before[0]["pricing"] == {"input": 5.0, "output": 15.0}  # the cached-input price was not recorded then

    def test_offers_without_a_record_then_are_left_out(self, offer, api):
        make_offers(offer.model, 2)
        assert api.get("/api/models/gpt-4o/providers?at=2025-12-31").json()["results"] == []
        assert len(api.get("/api/models/gpt-4o/providers?at=2026-05-01").json()["results"]) == 1
        current = api.get("/api/models/gpt-4o/providers").json()["results"]
        assert len(current) == 3 and all("price_period" not in o for o in current)

    @pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2026-05-01T00:00", "", "9999-12-31"])
    def test_a_bad_date_is_a_400_naming_at(self, offer, api, value):
        response = api.get(f"/api/models/gpt-4o/providers?at={value}")
        assert response.status_code == 400 and "at" in response.json()["errors"]


class TestOfferHistory:
    def test_every_period_oldest_first(self, offer, api):
        body = api.get("/api/offers/openai/gpt-4o/history").json()
        assert body["offer"]["model"]["slug"] == "gpt-4o" and body["offer"]["provider"]["slug"] == "openai"
        assert [
            (p["valid_from"][:10], p["valid_to"] and p["valid_to"][:10], p["prices"]["price_input"])
            for p in body["periods"]
        ] == [
            ("2026-01-08", "2026-05-01", "5"),
            ("2026-05-01", None, "2.5"),
        ]

    def test_an_id_with_slashes_and_an_unknown_offer(self, catalogue, api):
        mapping = make_offers(Model.objects.get(slug="gpt-4o"), 1)[0]
        assert api.get(f"/api/offers/{mapping.provider.slug}/{mapping.provider_model_id}/history/").status_code == 200
        assert api.get("/api/offers/openai/no-such-model/history").status_code == 404


class TestPriceChanges:
    def test_each_change_old_to_new_with_its_date_and_source(self, offer, api):
        [change] = api.get("/api/price-changes").json()["results"]
        assert change["offer"]["provider_model_id"] == "gpt-4o" and change["source"] == "litellm"
        assert change["valid_from"].startswith("2026-05-01")
        assert change["changes"] == [
            {"field": "price_input", "old": "5", "new": "2.5"},
            {"field": "price_output", "old": "15", "new": "10"},
        ]

    @pytest.mark.parametrize(
        ("query", "found"),
        [
            ("since=2026-05-01", 1),
            ("since=2026-05-02", 0),
            ("until=2026-05-01", 1),
            ("until=2026-04-30", 0),
            ("provider=openai", 1),
            ("provider=groq", 0),
            ("model=gpt-4o", 1),
            ("model=gpt-4o-mini", 0),
            ("since=0001-01-01&until=9999-12-31", 1),
        ],
    )
    def test_filters(self, offer, api, query, found):
        assert api.get(f"/api/price-changes?{query}").json()["count"] == found

    @pytest.mark.parametrize("query", ["since=soon", "until=2026-02-30", "since="])
    def test_a_bad_filter_is_a_400_naming_it(self, offer, api, query):
        response = api.get(f"/api/price-changes?{query}")
        assert response.status_code == 400 and query.partition("=")[0] in response.json()["errors"]

    def test_query_count_is_the_same_for_1_and_30_changes(self, catalogue, api, settings):
        settings.API_CACHE_ENABLED = False
        offers = make_offers(Model.objects.get(slug="gpt-4o"), 30)
        for offer in offers[:1]:
            periods(offer, ("2026-01-01", {"price_input": "1"}), ("2026-02-01", {"price_input": "2"}))
        one, response = query_count(api, "/api/price-changes?page_size=50")
        assert response.json()["count"] == 1
        for offer in offers[1:]:
            periods(offer, ("2026-01-01", {"price_input": "1"}), ("2026-02-01", {"price_input": "2"}))
        thirty, response = query_count(api, "/api/price-changes?page_size=50")
        assert response.json()["count"] == 30 and len(response.json()["results"]) == 30
        assert one == thirty

    def test_a_new_period_is_served_after_the_offer_write_that_comes_with_it(
        self, offer, api, django_capture_on_commit_callbacks
    ):
        assert api.get("/api/price-changes").json()["count"] == 1
        with django_capture_on_commit_callbacks(execute=True):
            current = offer.price_history.get(valid_to=None)
            current.valid_to = moment("2026-06-01")
            current.save()
            periods(offer, ("2026-06-01", {"price_input": "2"}), replace=False)
            offer.price_input = 2
            offer.save()
        assert api.get("/api/price-changes").json()["count"] == 2


class TestVerification:
    def test_offers_show_prices_checked_and_per_price_verification(self, catalogue, api):
        checked = timezone.now().replace(microsecond=0)
        Mapping.objects.filter(provider__slug="openai", provider_model_id="gpt-4o").update(
            prices_checked=checked,
            provenance={
                "price_input": {"source": "registry", "verified_by": ["litellm", "genai-prices"], "disputed": False},
                "price_output": {"source": "registry", "verified_by": [], "disputed": True, "values": {"litellm": "9"}},
            },
        )
        [offer] = [
            o for o in api.get("/api/models/gpt-4o/providers").json()["results"] if o["provider"]["slug"] == "openai"
        ]
        assert offer["prices_checked"] == checked.isoformat()
        assert offer["verification"] == {
            "price_input": {"source": "registry", "verified_by": ["genai-prices", "litellm"], "disputed": False},
            "price_output": {"source": "registry", "verified_by": [], "disputed": True},
        }

    def test_an_unconfirmed_offer_says_so(self, catalogue, api):
        offers = api.get("/api/models/gpt-4o/providers").json()["results"]
        assert offers and all(o["prices_checked"] is None for o in offers)  # the small registry dates no prices
        entries = [entry for o in offers for entry in o["verification"].values()]
        assert entries and all(e == {"source": "registry", "verified_by": [], "disputed": False} for e in entries)


class TestQueryCounts:
    def test_offers_as_of_a_day_and_an_offer_history_cost_the_same_for_1_and_30_rows(self, catalogue, api, settings):
        settings.API_CACHE_ENABLED = False
        model = Model.objects.get(slug="gpt-4o")
        offers = make_offers(model, 30)
        periods(offers[0], *[(f"2026-01-{day:02d}", {"price_input": str(day)}) for day in (1, 2)])
        one = query_count(api, "/api/models/gpt-4o/providers?at=2026-03-01&page_size=50")[0]
        one_history = query_count(api, f"/api/offers/{offers[0].provider.slug}/{offers[0].provider_model_id}/history")[
            0
        ]
        for offer in offers[1:]:
            periods(offer, *[(f"2026-01-{day:02d}", {"price_input": str(day)}) for day in (1, 2)])
        PriceRecord.objects.filter(mapping=offers[0], valid_to=None).update(valid_to=moment("2026-02-01"))
        periods(offers[0], *[(f"2026-02-{day:02d}", {"price_input": str(day)}) for day in range(1, 29)], replace=False)
        thirty, response = query_count(api, "/api/models/gpt-4o/providers?at=2026-03-01&page_size=50")
        assert len(response.json()["results"]) == 30 and one == thirty
        history_url = f"/api/offers/{offers[0].provider.slug}/{offers[0].provider_model_id}/history"
        many_history, response = query_count(api, history_url)
        assert len(response.json()["periods"]) == 30 and one_history == many_history
