"""/api/models: listing, every filter, search, ordering, pagination and the 400s that name their parameter."""

from __future__ import annotations

from decimal import Decimal

import pytest
from model_bakery import baker

from catalog.models import Alias, Mapping, Model, Provider
from tests import recipes
from tests.api.helpers import postgres_only

pytestmark = pytest.mark.django_db

ALL = ["deepseek-r1", "gpt-4o", "gpt-4o-mini", "llama-3.3-70b-instruct"]


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


class TestList:
    def test_lists_every_model_by_slug(self, catalogue, api):
        body = api.get("/api/models").json()
        assert body["count"] == 4
        assert [row["slug"] for row in body["results"]] == ALL

    def test_trailing_slash_is_optional(self, catalogue, api):
        assert slugs(api.get("/api/models/")) == slugs(api.get("/api/models")) == ALL

    def test_row_carries_provider_count_cheapest_prices_and_links(self, catalogue, api):
        row = api.get("/api/models").json()["results"][0]
        assert row["slug"] == "deepseek-r1"
        assert row["providers_count"] == 2
        assert row["min_price_input"] == 0.14
        assert row["min_price_output"] == 0.28
        assert row["creator"] == {"slug": "deepseek", "name": "DeepSeek"}
        assert row["family"] == {"slug": "deepseek-thinking", "name": "DeepSeek Thinking"}
        assert row["aliases"] == ["deepseek-ai/DeepSeek-R1", "deepseek-reasoner", "deepseek/deepseek-r1"]
        assert row["url"] == "http://testserver/api/models/deepseek-r1"

    def test_model_nobody_serves_has_no_prices(self, catalogue, api):
        baker.make(Model, slug="lonely", name="Lonely")
        row = next(r for r in api.get("/api/models").json()["results"] if r["slug"] == "lonely")
        assert (row["providers_count"], row["min_price_input"], row["creator"]) == (0, None, None)


class TestFilters:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("provider=groq", ["llama-3.3-70b-instruct"]),
            ("provider=togetherai", ["deepseek-r1", "llama-3.3-70b-instruct"]),
            ("provider=nobody", []),
            ("family=gpt", ["gpt-4o", "gpt-4o-mini"]),
            ("creator=meta", ["llama-3.3-70b-instruct"]),
            ("status=active", ALL),
            ("status=deprecated", []),
            ("capability=reasoning", ["deepseek-r1"]),
            ("capability=tools&capability=vision", ["gpt-4o", "gpt-4o-mini"]),
            ("capability=reasoning&capability=vision", []),
            ("input_modality=image", ["gpt-4o", "gpt-4o-mini"]),
            ("input_modality=pdf", ["gpt-4o", "gpt-4o-mini"]),
            ("output_modality=text", ALL),
            ("output_modality=image", []),
            ("open_weights=true", ["deepseek-r1", "llama-3.3-70b-instruct"]),
            ("open_weights=false", ["gpt-4o", "gpt-4o-mini"]),
            ("min_context=130000", ["llama-3.3-70b-instruct"]),
            ("min_context=128000", ALL),
            ("max_price_input=0.15", ["deepseek-r1", "gpt-4o-mini"]),
            ("max_price_input=0.1", []),
            ("max_price_output=0.5", ["deepseek-r1"]),
            ("max_price_input=1&max_price_output=0.85", ["deepseek-r1", "gpt-4o-mini", "llama-3.3-70b-instruct"]),
            ("released_after=2024-12-06", ["deepseek-r1", "llama-3.3-70b-instruct"]),
            ("released_before=2024-07-18", ["gpt-4o", "gpt-4o-mini"]),
            ("released_after=2024-06-01&released_before=2024-12-31", ["gpt-4o-mini", "llama-3.3-70b-instruct"]),
            ("in_registry=true", ALL),
            ("in_registry=false", []),
            ("provider=openai&capability=vision&max_price_input=1", ["gpt-4o-mini"]),
        ],
    )
    def test_filter(self, catalogue, api, query, expected):
        assert slugs(api.get(f"/api/models?{query}")) == expected

    def test_status_and_registry_filters_find_the_odd_ones_out(self, catalogue, api):
        baker.make(Model, slug="old-timer", name="Old Timer", status="deprecated", in_registry=False)
        assert slugs(api.get("/api/models?status=deprecated")) == ["old-timer"]
        assert slugs(api.get("/api/models?in_registry=false")) == ["old-timer"]
        assert "old-timer" in slugs(api.get("/api/models"))  # in_registry defaults to both

    def test_both_price_bounds_apply_to_one_offer(self, catalogue, api):
        lopsided = baker.make(Model, slug="lopsided", name="Lopsided")
        cheap_in, cheap_out = baker.make(Provider, slug="cheap-in"), baker.make(Provider, slug="cheap-out")
        recipes.offer.make(
            provider=cheap_in,
            model=lopsided,
            provider_model_id="l",
            price_input=Decimal("0.01"),
            price_output=Decimal(9),
        )
        recipes.offer.make(
            provider=cheap_out,
            model=lopsided,
            provider_model_id="l",
            price_input=Decimal(9),
            price_output=Decimal("0.01"),
        )
        assert "lopsided" in slugs(api.get("/api/models?max_price_input=0.05"))
        assert "lopsided" in slugs(api.get("/api/models?max_price_output=0.05"))
        assert "lopsided" not in slugs(api.get("/api/models?max_price_input=0.05&max_price_output=0.05"))
        groq_only = "creator=meta&max_price_input=0.6&max_price_output=0.8"  # groq 0.59/0.79, together 0.88/0.88
        assert slugs(api.get(f"/api/models?{groq_only}")) == ["llama-3.3-70b-instruct"]


class TestSearch:
    @pytest.mark.parametrize(
        ("term", "first"),
        [
            ("deepseek", "deepseek-r1"),
            ("GPT-4o mini", "gpt-4o-mini"),
            ("gpt-4o", "gpt-4o"),
            ("llama", "llama-3.3-70b-instruct"),
            ("versatile", "llama-3.3-70b-instruct"),  # only an alias says it
            ("Llama-3.3-70B-Instruct-Turbo", "llama-3.3-70b-instruct"),
            ("deepseek-reasoner", "deepseek-r1"),
            pytest.param("gpt-4o-minni", "gpt-4o-mini", marks=postgres_only),  # a typo: trigram similarity
        ],
    )
    def test_search_ranks_the_best_match_first(self, catalogue, api, term, first):
        assert slugs(api.get("/api/models", {"search": term}))[0] == first

    def test_search_excludes_what_does_not_match(self, catalogue, api):
        assert slugs(api.get("/api/models?search=zzzzqqq")) == []
        assert set(slugs(api.get("/api/models?search=deepseek"))) == {"deepseek-r1"}

    def test_explicit_ordering_wins_over_rank(self, catalogue, api):
        assert slugs(api.get("/api/models?search=gpt&ordering=-name")) == ["gpt-4o-mini", "gpt-4o"]

    def test_blank_search_lists_everything(self, catalogue, api):
        assert slugs(api.get("/api/models?search=%20%20")) == ALL


class TestOrdering:
    @pytest.mark.parametrize(
        ("ordering", "expected"),
        [
            ("name", ["deepseek-r1", "gpt-4o", "gpt-4o-mini", "llama-3.3-70b-instruct"]),
            ("-release_date", ["deepseek-r1", "llama-3.3-70b-instruct", "gpt-4o-mini", "gpt-4o"]),
            ("release_date", ["gpt-4o", "gpt-4o-mini", "llama-3.3-70b-instruct", "deepseek-r1"]),
            ("-context_window", ["llama-3.3-70b-instruct", "deepseek-r1", "gpt-4o", "gpt-4o-mini"]),
            ("price", ["deepseek-r1", "gpt-4o-mini", "llama-3.3-70b-instruct", "gpt-4o"]),
            ("-price", ["gpt-4o", "llama-3.3-70b-instruct", "gpt-4o-mini", "deepseek-r1"]),
            ("open_weights", None),
        ],
    )
    def test_ordering(self, catalogue, api, ordering, expected):
        response = api.get(f"/api/models?ordering={ordering}")
        if expected is None:
            assert response.status_code == 400
        else:
            assert slugs(response) == expected

    def test_models_without_price_or_date_sort_last_both_ways(self, catalogue, api):
        baker.make(Model, slug="aaa-unpriced", name="AAA")
        assert slugs(api.get("/api/models?ordering=price"))[-1] == "aaa-unpriced"
        assert slugs(api.get("/api/models?ordering=-price"))[-1] == "aaa-unpriced"
        assert slugs(api.get("/api/models?ordering=-release_date"))[-1] == "aaa-unpriced"


class TestPagination:
    def test_pages_and_links(self, catalogue, api):
        first = api.get("/api/models?page_size=3").json()
        assert first["count"] == 4 and len(first["results"]) == 3 and first["previous"] is None
        assert first["next"] == "http://testserver/api/models?page=2&page_size=3"
        second = api.get(first["next"]).json()
        assert [r["slug"] for r in second["results"]] == ["llama-3.3-70b-instruct"] and second["next"] is None
        assert slugs(api.get("/api/models?page_size=3&page=last")) == ["llama-3.3-70b-instruct"]

    def test_page_beyond_the_last_is_404_saying_so(self, catalogue, api):
        response = api.get("/api/models?page=3&page_size=2")
        assert response.status_code == 404
        assert response.json() == {"detail": "Page 3 does not exist: the last page is 2."}

    def test_empty_result_has_one_empty_page(self, catalogue, api):
        assert api.get("/api/models?provider=nobody").json() == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }


class TestBadParameters:
    @pytest.mark.parametrize(
        ("query", "parameter"),
        [
            ("min_context=abc", "min_context"),
            ("min_context=-1", "min_context"),
            ("min_context=99999999999", "min_context"),
            ("status=bogus", "status"),
            ("released_after=2024-13-01", "released_after"),
            ("released_before=yesterday", "released_before"),
            ("ordering=nonsense", "ordering"),
            ("ordering=name,nonsense", "ordering"),
            ("capability=telepathy", "capability"),
            ("input_modality=smell", "input_modality"),
            ("output_modality=", "output_modality"),  # given but empty: not a modality (issue 11)
            ("released_before=", "released_before"),
            ("page=", "page"),
            ("page_size=", "page_size"),
            ("open_weights=maybe", "open_weights"),
            ("in_registry=1", "in_registry"),
            ("max_price_input=abc", "max_price_input"),
            ("max_price_input=-1", "max_price_input"),
            ("max_price_output=nan", "max_price_output"),
            ("max_price_output=Infinity", "max_price_output"),
            ("page=0", "page"),
            ("page=abc", "page"),
            ("page=-2", "page"),
            ("page_size=0", "page_size"),
            ("page_size=201", "page_size"),
            ("page_size=ten", "page_size"),
            ("search=" + "x" * 201, "search"),
            ("search=a%00b", "search"),
        ],
    )
    def test_bad_value_is_400_naming_the_parameter(self, catalogue, api, query, parameter):
        response = api.get(f"/api/models?{query}")
        assert response.status_code == 400, response.content
        body = response.json()
        assert parameter in body["errors"]
        assert f"'{parameter}'" in body["detail"]

    @pytest.mark.parametrize("price", ["1e999999", "1000000.5", "5e20", "0.0000001", "1e-400"])
    def test_any_finite_non_negative_price_is_accepted(self, catalogue, api, price):
        """The document says `number, minimum 0` (issue 11): prices are compared at the stored precision."""
        assert api.get(f"/api/models?max_price_input={price}").status_code == 200

    def test_unknown_parameters_are_ignored(self, catalogue, api):
        assert slugs(api.get("/api/models?colour=blue")) == ALL


def test_served_by_counts_each_model_once_per_provider(catalogue, api):
    groq = Provider.objects.get(slug="groq")
    llama = Model.objects.get(slug="llama-3.3-70b-instruct")
    baker.make(Mapping, provider=groq, model=llama, provider_model_id="llama-3.3-70b-specdec", price_input=Decimal(1))
    baker.make(Alias, alias="llama-3.3-70b-specdec", model=llama)
    assert slugs(api.get("/api/models?provider=groq")) == ["llama-3.3-70b-instruct"]
    row = next(r for r in api.get("/api/models").json()["results"] if r["slug"] == "llama-3.3-70b-instruct")
    assert row["providers_count"] == 2
