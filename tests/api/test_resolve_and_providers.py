"""/api/resolve (any name → the canonical model, how and how sure) and /api/providers."""

from __future__ import annotations

import pytest
from model_bakery import baker

from catalog.models import Alias, Model
from catalog.resolution import model_resolve_name
from tests.api.helpers import postgres_only

pytestmark = pytest.mark.django_db


@pytest.fixture
def more_models(catalogue):
    sonnet = baker.make(Model, slug="claude-3-5-sonnet", name="Claude 3.5 Sonnet")
    baker.make(Alias, alias="claude-3-5-sonnet-20241022", model=sonnet)
    baker.make(Model, slug="deepseek-v3", name="DeepSeek-V3")


class TestResolve:
    @pytest.mark.parametrize(
        ("name", "slug", "match", "confidence"),
        [
            ("gpt-4o", "gpt-4o", "exact_slug", 1.0),
            ("gpt-4o-2024-08-06", "gpt-4o", "exact_alias", 1.0),
            ("openai/gpt-4o", "gpt-4o", "exact_alias", 1.0),
            ("deepseek-ai/DeepSeek-R1", "deepseek-r1", "exact_alias", 1.0),
            ("GPT-4O", "gpt-4o", "exact_slug", 1.0),
            ("DEEPSEEK-AI/deepseek-r1", "deepseek-r1", "exact_alias", 1.0),
            ("gpt-4o-2024-11-20", "gpt-4o", "normalised", 0.9),
            ("gpt-4o-latest", "gpt-4o", "normalised", 0.9),
            ("Claude 3.5 Sonnet", "claude-3-5-sonnet", "normalised", 0.9),
            ("claude-3.5-sonnet", "claude-3-5-sonnet", "normalised", 0.9),
            ("anthropic/claude-3-5-sonnet-latest", "claude-3-5-sonnet", "normalised", 0.9),
            ("claude-3-5-sonnet@20240620", "claude-3-5-sonnet", "normalised", 0.9),
            ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet", "normalised", 0.8),
            ("deepseek-ai/DeepSeek-V3", "deepseek-v3", "normalised", 0.9),
            ("meta-llama/llama-3.3-70b-instruct:free", "llama-3.3-70b-instruct", "normalised", 0.9),
            ("accounts/fireworks/models/llama-v3p3-70b-instruct", "llama-3.3-70b-instruct", "normalised", 0.9),
            ("openrouter/openai/gpt-4o-mini:beta", "gpt-4o-mini", "normalised", 0.9),
            ("gpt4o", "gpt-4o", "normalised", 0.9),
        ],
    )
    def test_resolves(self, more_models, api, name, slug, match, confidence):
        response = api.get("/api/resolve", {"name": name})
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["model"]["slug"], body["match"], body["confidence"]) == (slug, match, confidence)
        assert body["query"] == name
        assert body["model"]["url"] == f"http://testserver/api/models/{slug}"

    def test_fuzzy_match_gives_a_similarity_and_the_runners_up(self, more_models, api):
        body = api.get("/api/resolve", {"name": "llama-3.3-70b-instruc"}).json()
        assert body["model"]["slug"] == "llama-3.3-70b-instruct" and body["match"] == "fuzzy"
        assert 0.5 <= body["confidence"] < 0.9
        assert all(c["confidence"] <= body["confidence"] for c in body["candidates"])

    def test_nothing_fits_is_404_with_near_matches(self, more_models, api):
        response = api.get("/api/resolve", {"name": "claude-3-7-sonnet"})  # close, but another version
        assert response.status_code == 404
        body = response.json()
        assert body["detail"] == "No model goes by 'claude-3-7-sonnet'."
        assert body["near_matches"] and body["near_matches"][0]["slug"] == "claude-3-5-sonnet"
        assert all(0 < c["confidence"] < 0.5 for c in body["near_matches"])

    @pytest.mark.parametrize("name", ["sonnet-3.5", "Sonnet 3.5"])
    def test_fuzzy_accepts_names_that_agree_on_every_token(self, more_models, api, name):
        body = api.get("/api/resolve", {"name": name}).json()
        assert (body["model"]["slug"], body["match"]) == ("claude-3-5-sonnet", "fuzzy")

    # "claude sonnet" names no version: which Sonnet is not ours to guess (it used to answer claude-3-5-sonnet)
    @pytest.mark.parametrize("name", ["deepseek-v2.5", "gpt-5", "claude-3-opus", "claude sonnet"])
    def test_fuzzy_never_answers_with_another_version(self, more_models, api, name):
        assert api.get("/api/resolve", {"name": name}).status_code == 404

    def test_nothing_alike_has_no_near_matches(self, more_models, api):
        assert api.get("/api/resolve", {"name": "zzzzqqqq"}).json()["near_matches"] == []

    @pytest.mark.parametrize("query", ["", "?name=", "?name=%20", "?name=" + "x" * 301, "?name=a%00b"])
    def test_bad_name_is_400(self, catalogue, api, query):
        response = api.get(f"/api/resolve{query}")
        assert response.status_code == 400 and "name" in response.json()["errors"]

    @postgres_only
    def test_resolution_is_a_few_queries(self, more_models, django_assert_max_num_queries):
        model_resolve_name("zzzz")  # builds the resolution index of this catalogue (three queries, once per change)
        # Inside a transaction (this test's) one fingerprint query vouches for the index; outside one, none
        # (tests/catalog/test_resolution_index.py).
        with django_assert_max_num_queries(1):
            assert model_resolve_name("gpt-4o-2024-11-20").model.slug == "gpt-4o"
        with django_assert_max_num_queries(1):
            assert model_resolve_name("llama-3.3-70b-instruc").match == "fuzzy"

    def test_trailing_slash(self, catalogue, api):
        assert api.get("/api/resolve/?name=gpt-4o").status_code == 200


class TestProviders:
    def test_list_with_model_counts(self, catalogue, api):
        body = api.get("/api/providers").json()
        counts = {row["slug"]: row["models_count"] for row in body["results"]}
        assert counts == {"deepseek": 1, "groq": 1, "meta": 0, "openai": 2, "togetherai": 2}
        assert body["count"] == 5

    def test_detail(self, catalogue, api):
        body = api.get("/api/providers/togetherai").json()
        assert body["name"] == "Together AI" and body["models_count"] == 2
        assert body["api_base_url"] == "https://api.together.xyz/v1" and body["openai_compatible"] is True
        assert body["url"] == "http://testserver/api/providers/togetherai"
        assert "api_key_env" not in body  # where the key lives is operators' business
        assert api.get("/api/providers/TogetherAI/").json() == body

    def test_unknown_provider_is_404(self, catalogue, api):
        response = api.get("/api/providers/nobody")
        assert response.status_code == 404 and response.json() == {"detail": "No provider is called 'nobody'."}

    def test_paginated(self, catalogue, api):
        body = api.get("/api/providers?page_size=2&page=3").json()
        assert [row["slug"] for row in body["results"]] == ["togetherai"] and body["next"] is None
        assert api.get("/api/providers?page_size=500").status_code == 400
