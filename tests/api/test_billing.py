"""Billing: "cheapest", "from $…" and price order compare pay-per-use offers; `billing=all` brings plans back."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from catalog.models import PAY_PER_USE, Mapping
from catalog.ranking import model_offer_ranking
from ingestion.models import OfferObservation
from ingestion.services import ingestion_run_all
from registry.loading import registry_load

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.replay.fixtures"]

# A $0 subscription plan and a $0 free tier serving gpt-4o beside OpenAI's own paid offer.
PLANS = {
    "groq/gpt-4o.yaml": """\
model: gpt-4o
offers:
- provider_model_id: openai/gpt-4o-plan
  pricing:
    input: 0.0
    output: 0.0
  billing: subscription
- provider_model_id: openai/gpt-4o-free
  pricing:
    input: 0.0
    output: 0.0
  tiers:
  - above: 64000
    input: 0.5
    output: 2.0
  regional_uplift: 10.0
  billing: free_tier
""",
}


@pytest.fixture
def with_plans(catalogue: Path) -> Path:
    for name, text in PLANS.items():
        (catalogue / "mappings" / name).write_text(text)
    registry_load(path=catalogue)
    return catalogue


def _row(api, slug: str, query: str = "") -> dict:
    body = api.get(f"/api/models?search={slug}&page_size=50{query}").json()
    return next(row for row in body["results"] if row["slug"] == slug)


class TestCheapest:
    def test_a_zero_plan_never_takes_cheapest(self, with_plans, api):
        rows = api.get("/api/models/gpt-4o/compare").json()["results"]
        cheapest = [row for row in rows if row["cheapest"]]
        assert [(row["provider"]["slug"], row["provider_model_id"]) for row in cheapest] == [("openai", "gpt-4o")]

    def test_compare_with_billing_all_lets_a_plan_take_cheapest(self, with_plans, api):
        rows = api.get("/api/models/gpt-4o/compare", {"billing": "all"}).json()["results"]
        cheapest = {row["provider_model_id"] for row in rows if row["cheapest"]}
        assert cheapest and cheapest <= {"openai/gpt-4o-plan", "openai/gpt-4o-free"}
        # …and the default answer (a different cache entry) still keeps plans out of it.
        rows = api.get("/api/models/gpt-4o/compare").json()["results"]
        assert {row["provider_model_id"] for row in rows if row["cheapest"]} == {"gpt-4o"}

    def test_compare_refuses_an_unknown_billing_scope_naming_it(self, with_plans, api):
        response = api.get("/api/models/gpt-4o/compare", {"billing": "plans"})
        assert response.status_code == 400 and "billing" in response.json()["errors"]

    def test_providers_list_plans_after_priced_offers_unless_billing_all(self, with_plans, api):
        listed = [row["provider_model_id"] for row in api.get("/api/models/gpt-4o/providers").json()["results"]]
        assert listed[0] == "gpt-4o" and set(listed[1:]) == {"openai/gpt-4o-free", "openai/gpt-4o-plan"}
        mixed = [
            row["provider_model_id"] for row in api.get("/api/models/gpt-4o/providers?billing=all").json()["results"]
        ]
        assert mixed[-1] == "gpt-4o" and set(mixed) == set(listed)  # $0 stated prices first when asked
        assert api.get("/api/models/gpt-4o/providers?billing=free").status_code == 400

    def test_plans_rank_after_priced_offers(self, with_plans):
        model_id = Mapping.objects.get(provider_model_id="gpt-4o").model_id
        ranked = [row.mapping.provider_model_id for row in model_offer_ranking(model_id)]
        assert ranked[0] == "gpt-4o" and set(ranked[1:]) == {"openai/gpt-4o-free", "openai/gpt-4o-plan"}

    def test_include_plans_lets_a_plan_take_cheapest(self, with_plans):
        model_id = Mapping.objects.get(provider_model_id="gpt-4o").model_id
        cheapest = [row for row in model_offer_ranking(model_id, include_plans=True) if row.cheapest]
        assert cheapest[0].mapping.billing != "per_token"


class TestModelList:
    def test_from_price_is_the_cheapest_pay_per_use_offer(self, with_plans, api):
        row = _row(api, "gpt-4o")
        assert (row["min_price_input"], row["min_price_output"]) == (2.5, 10.0)

    def test_billing_all_includes_free_tiers_and_plans(self, with_plans, api):
        row = _row(api, "gpt-4o", "&billing=all")
        assert (row["min_price_input"], row["min_price_output"]) == (0.0, 0.0)

    def test_price_bounds_skip_plans_unless_asked(self, with_plans, api):
        ids = lambda query: {r["slug"] for r in api.get(f"/api/models?max_price_input=0.01{query}").json()["results"]}  # noqa: E731
        assert "gpt-4o" not in ids("")
        assert "gpt-4o" in ids("&billing=all")

    def test_an_unknown_billing_scope_is_a_400(self, with_plans, api):
        assert api.get("/api/models?billing=plans").status_code == 400

    def test_the_models_page_offers_the_filter(self, with_plans, client):
        page = client.get("/models?billing=all").content.decode()
        assert 'name="billing"' in page and '<option value="all" selected>' in page


class TestOfferBody:
    def test_providers_show_every_dimension_billing_tiers_and_uplift(self, with_plans, api):
        rows = api.get("/api/models/gpt-4o/providers").json()["results"]
        assert rows[0]["provider_model_id"] == "gpt-4o"  # pay-per-use first, plans after
        free = next(row for row in rows if row["provider_model_id"] == "openai/gpt-4o-free")
        assert free["billing"] == "free_tier"
        assert free["pricing"] == {"input": 0.0, "output": 0.0}
        assert free["price_tiers"] == [{"above": 64000, "input": 0.5, "output": 2.0}]
        assert free["regional_uplift"] == 10.0
        paid = rows[0]
        assert paid["pricing"] == {"input": 2.5, "output": 10.0, "cached_input": 1.25}
        assert paid["price_input"] == 2.5  # the flat fields stay for existing clients
        assert (paid["billing"], paid["price_tiers"], paid["regional_uplift"]) == ("per_token", [], None)

    def test_the_model_page_marks_plans_and_shows_extra_dimensions(self, with_plans, client):
        page = client.get("/models/gpt-4o").content.decode()
        assert "Subscription plan" in page and "Free tier" in page
        assert "above 64K" in page and "regional +10%" in page


class TestBundledRegistry:
    """Issue 14's measurement: on the bundled data, $0 plans no longer win "cheapest" or open the price-sorted list."""

    def test_cheapest_is_pay_per_use_and_the_price_sort_opens_with_a_price(self, api):
        registry_load(path=settings.REGISTRY_DIR)
        for slug in ("gpt-4o", "claude-opus-4-5", "llama-3.3-70b-instruct"):
            rows = api.get(f"/api/models/{slug}/compare?page_size=200").json()["results"]
            cheapest = [row for row in rows if row["cheapest"]]
            assert len(cheapest) == 1, slug
            offer = Mapping.objects.get(
                provider__slug=cheapest[0]["provider"]["slug"], provider_model_id=cheapest[0]["provider_model_id"]
            )
            assert offer.billing in PAY_PER_USE, (slug, offer)
            assert cheapest[0]["price_input"] > 0, slug
        first = api.get("/api/models?ordering=price&page_size=5").json()["results"][0]
        opening = Mapping.objects.filter(model__slug=first["slug"], price_input=first["min_price_input"])
        assert opening.filter(billing__in=PAY_PER_USE).exists(), first  # its "from $" is a price per use
        plans = api.get("/api/models?ordering=price&page_size=5&billing=all").json()["results"][0]
        assert plans["min_price_input"] == 0.0

    def test_after_one_offline_feed_cycle_cheapest_stays_pay_per_use_and_every_offer_is_dated(
        self, api, replay_server, fixtures_dir, settings
    ):
        """The acceptance on the bundled data: load it, run every price feed once from the replay server (the real
        files' slices), and ask again."""
        prices = fixtures_dir / "prices"
        files = {
            "litellm": (
                "/model_prices_and_context_window.json",
                "litellm/model_prices_and_context_window_2026-07-24.json",
            ),
            "genai-prices": ("/prices/data.json", "genai-prices/data.json"),
            "models.dev": ("/api.json", "models.dev/api.json"),
        }
        for feed, (path, file) in files.items():
            replay_server.route("GET", f"/{feed}{path}", file=prices / file)
        settings.INGESTION_BASE_URLS = {feed: f"{replay_server.url}/{feed}" for feed in files}
        registry_load(path=settings.REGISTRY_DIR)
        runs = ingestion_run_all(sources=list(files))
        assert [run.status for run in runs] == ["success"] * 3
        assert OfferObservation.objects.exists()
        for slug in ("gpt-4o", "claude-opus-4-5", "llama-3.3-70b-instruct"):
            rows = api.get(f"/api/models/{slug}/compare?page_size=200").json()["results"]
            [cheapest] = [row for row in rows if row["cheapest"]]
            offer = Mapping.objects.get(
                provider__slug=cheapest["provider"]["slug"], provider_model_id=cheapest["provider_model_id"]
            )
            assert offer.billing in PAY_PER_USE and cheapest["price_input"] > 0, slug
            offers = api.get(f"/api/models/{slug}/providers?page_size=200").json()["results"]
            assert offers and all(o["prices_checked"] for o in offers), slug
        assert not Mapping.objects.filter(prices_checked__isnull=True).exists()
        confirmed = Mapping.objects.filter(provenance__price_input__verified_by__contains=["models.dev"])
        assert confirmed.filter(prices_checked__gte=runs[0].started_at).exists()  # a feed's confirmation dates it
