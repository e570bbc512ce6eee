"""Search reads model names (issue 15): on the bundled registry, version and size queries put the intended model
first in the API, on the /search page and in the search box's suggestions, with the same answers on both databases."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.identity.tokens import identity
from catalog.models import Mapping, Model
from catalog.search import model_search, parse_query, ranked_ids
from modelgraph.api import cache as api_cache
from registry.loading import registry_load

FIRST = [
    ("llama 3.3 70b", "llama-3.3-70b-instruct"),
    ("llama 70b", "llama-3.3-70b-instruct"),  # the home page's placeholder: Llama 70B models, the most offered first
    ("gpt 4.1 mini", "gpt-4.1-mini"),
    ("claude sonnet 4.5", "claude-sonnet-4-5"),
]


@pytest.fixture(scope="module")
def bundled(django_db_setup, django_db_blocker):
    """The bundled registry (registry/data) loaded once for the module, rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        registry_load(path=settings.REGISTRY_DIR)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def catalogue(bundled, db, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    settings.WEB_CACHE_ENABLED = False
    api_cache.forget_state()
    yield
    api_cache.forget_state()


def api_slugs(client, term: str, **params) -> list[str]:
    response = client.get("/api/models", {"search": term, "page_size": 200, **params})
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def page_slugs(client, term: str) -> list[str]:
    page = client.get("/search", {"q": term}).content.decode()
    return re.findall(r'<a class="title" href="/models/([^"]+)"', page)


def suggestion_slugs(client, term: str) -> list[str]:
    return [row["slug"] for row in client.get("/search", {"q": term, "format": "json"}).json()["results"]]


def qwen3_235b(slug: str) -> bool:
    return slug.startswith("qwen3-235b-a22b")


@pytest.mark.parametrize("surface", [api_slugs, page_slugs, suggestion_slugs])
class TestIntendedModelFirst:
    @pytest.mark.parametrize(("term", "first"), FIRST)
    def test_version_and_size_queries(self, catalogue, client, surface, term, first):
        assert surface(client, term)[0] == first

    def test_qwen3_235b(self, catalogue, client, surface):
        found = surface(client, "qwen3 235b")
        assert found and qwen3_235b(found[0]), found

    def test_llama_3_3_above_every_llama_3_2(self, catalogue, client, surface):
        found = surface(client, "llama 3.3")
        assert found[0] == "llama-3.3-70b-instruct"
        assert not [slug for slug in found if "3.2" in slug]  # 3.2 is not 3.3: never an answer


class TestNumbersMustMatch:
    @pytest.mark.parametrize("term", ["llama 3.3 70b", "llama 70b", "qwen3 235b", "gpt 4.1 mini", "claude sonnet 4.5"])
    def test_every_result_has_the_querys_numbers(self, catalogue, client, term):
        wanted = identity(term)
        found = api_slugs(client, term)
        assert found
        for model in Model.objects.filter(slug__in=found).prefetch_related("aliases"):
            spellings = [model.slug, model.name, *(alias.alias for alias in model.aliases.all())]
            assert any(
                wanted.sizes <= identity(name).sizes
                and all(any(v == w or v.startswith(w + ".") for v in identity(name).versions) for w in wanted.versions)
                for name in spellings
            ), model.slug

    def test_a_model_without_70b_never_answers_llama_70b(self, catalogue, client):
        found = api_slugs(client, "llama 70b")
        assert "llama-3.1-8b-instruct" not in found and "llama-3.1-405b-instruct" not in found
        assert {"llama-3.3-70b-instruct", "llama-3.1-70b-instruct", "llama-3-70b-instruct"} <= set(found)

    def test_an_exact_token_ranks_above_a_variant_the_query_did_not_ask_for(self, catalogue, client):
        found = api_slugs(client, "gpt 4.1")
        assert found[0] == "gpt-4.1" and found.index("gpt-4.1") < found.index("gpt-4.1-mini")

    def test_popularity_breaks_ties_among_equal_matches(self, catalogue, client):
        found = api_slugs(client, "llama 70b")
        plain = [slug for slug in found if re.fullmatch(r"llama-3(\.\d)?-70b-instruct", slug)]
        offers = {slug: Mapping.objects.filter(model__slug=slug).count() for slug in plain}
        assert plain == sorted(plain, key=lambda slug: (-offers[slug], slug))
        assert offers[plain[0]] > offers[plain[-1]]  # a real tie-break, not an accident of slugs

    def test_a_misspelt_word_still_finds_its_model_below_exact_words(self, catalogue, client):
        assert api_slugs(client, "gpt-4o-minni")[0] == "gpt-4o-mini"


class TestPagingAndQueries:
    def test_results_page(self, catalogue, client):
        everything = api_slugs(client, "llama")
        assert len(everything) > 6
        pages, page = [], 1
        while True:
            body = client.get("/api/models", {"search": "llama", "page_size": 5, "page": page}).json()
            assert body["count"] == len(everything)
            pages += [row["slug"] for row in body["results"]]
            if not body["next"]:
                break
            page += 1
        assert pages == everything

    def test_explicit_ordering_still_wins(self, catalogue, client):
        found = api_slugs(client, "llama 70b", ordering="name")
        names = list(Model.objects.filter(slug__in=found).values_list("slug", "name"))
        assert [slug for slug, _ in sorted(names, key=lambda row: (row[1], row[0]))] == found

    def test_the_search_runs_three_queries_whatever_the_term(self, catalogue):
        counts = {}
        for term in [
            "llama",
            "llama 3.3 70b",
            "qwen3 235b",
            "claude sonnet 4.5",
            "mini",
            "zzzzqqq",
            "!!!",
            "llama 3.9",
        ]:
            with CaptureQueriesContext(connection) as queries:
                found = list(model_search(Model.objects.all(), term)[:20])
            assert bool(found) == (term not in ("zzzzqqq", "!!!", "llama 3.9")), term
            counts[term] = len(queries)
        assert set(counts.values()) == {3}, counts


class TestRankingIsDecidedInPython:
    """The database only proposes candidates; the order is the same whatever order they arrive in."""

    def test_candidate_order_does_not_matter(self):
        query = parse_query("llama 70b")
        candidates = [
            (1, "llama-3.1-70b-instruct", "Llama 3.1 70B Instruct", 20),
            (2, "llama-3.3-70b-instruct", "Llama 3.3 70B Instruct", 40),
            (3, "hermes-3-llama-3.1-70b", "Hermes 3 70B", 90),
            (4, "llama-3.1-8b-instruct", "Llama 3.1 8B Instruct", 99),
        ]
        first = ranked_ids(query, candidates, {})
        assert [pk for pk, _ in first] == [2, 1, 3]
        assert ranked_ids(query, candidates[::-1], {}) == first

    def test_an_alias_can_carry_the_match(self):
        query = parse_query("versatile")
        candidates = [(1, "llama-3.3-70b-instruct", "Llama 3.3 70B Instruct", 5), (2, "gpt-4o", "GPT-4o", 50)]
        assert ranked_ids(query, candidates, {1: ["llama-3.3-70b-versatile"]}) == [(1, 0)]
