"""Response caching: hits, exact invalidation after registry loads and admin edits, ETag/Last-Modified 304s."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils.http import http_date
from model_bakery import baker

from catalog import cache_tags
from catalog.models import Alias, Family, Mapping, Model
from modelgraph.api import cache as api_cache
from modelgraph.api.viewsets import ReadOnlyViewSet
from registry.loading import registry_load
from tests.api.helpers import postgres_only

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/models",
    "/api/models/gpt-4o",
    "/api/models/openai/gpt-4o/providers",
    "/api/models/gpt-4o/compare",
    "/api/providers",
    "/api/providers/openai",
    "/api/resolve?name=gpt-4o-2024-08-06",
]


def versions_of(*models: str) -> dict[str, int]:
    pks = dict(Model.objects.filter(slug__in=models).values_list("slug", "pk"))
    found = api_cache.versions([cache_tags.model(pks[slug]) for slug in models])
    return {slug: found[cache_tags.model(pks[slug])] for slug in models}


def reload(registry, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        registry_load(path=registry)


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


class TestHits:
    @pytest.mark.parametrize("url", ENDPOINTS)
    def test_second_read_is_served_from_the_cache(self, catalogue, api, url, django_assert_max_num_queries):
        first = api.get(url)
        assert first.status_code == 200 and first["X-Cache"] == "MISS"
        with django_assert_max_num_queries(3):  # at most slug, then alias look-up, and the offers' providers
            second = api.get(url)
        assert second["X-Cache"] == "HIT"
        assert second.content == first.content and second["ETag"] == first["ETag"]
        assert second["Content-Type"] == "application/json"

    def test_list_hit_needs_no_query_at_all(self, catalogue, api, django_assert_num_queries):
        api.get("/api/models?ordering=price")
        with django_assert_num_queries(0):
            assert api.get("/api/models?ordering=price")["X-Cache"] == "HIT"

    @pytest.mark.parametrize("url", ["/api/models?page_size=3", "/api/providers", "/api/resolve?name=gpt-4o"])
    def test_list_hits_are_answered_before_drf_runs(self, catalogue, api, url, monkeypatch):
        first = api.get(url)

        def drf_must_not_run(*args, **kwargs):
            raise AssertionError("DRF ran for a cache hit")

        monkeypatch.setattr(ReadOnlyViewSet, "initial", drf_must_not_run)
        hit = api.get(url)
        assert hit.status_code == 200 and hit["X-Cache"] == "HIT" and hit.content == first.content
        assert hit["Vary"] == first["Vary"] and hit["Last-Modified"] == first["Last-Modified"]
        assert {part.strip().lower() for part in hit["Vary"].split(",")} == {"accept", "origin"}
        assert api.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    def test_unusual_requests_take_the_drf_path(self, catalogue, api):
        assert api.get("/api/models").status_code == 200
        assert api.get("/api/models", HTTP_ACCEPT="text/html").status_code == 406  # as a miss would answer
        assert api.get("/api/models", HTTP_ACCEPT="text/html, */*;q=0.8")["X-Cache"] == "HIT"

    def test_parameter_order_does_not_matter(self, catalogue, api):
        api.get("/api/models?family=gpt&open_weights=false")
        assert api.get("/api/models?open_weights=false&family=gpt")["X-Cache"] == "HIT"

    def test_errors_are_not_cached(self, catalogue, api):
        for _ in range(2):
            assert api.get("/api/models?status=bogus").status_code == 400
            assert api.get("/api/models/nope").status_code == 404

    def test_resolve_keeps_its_404s_until_the_catalogue_changes(self, catalogue, api):
        first = api.get("/api/resolve?name=zzzzqqqq")
        assert first.status_code == 404 and first["X-Cache"] == "MISS"
        again = api.get("/api/resolve?name=zzzzqqqq")
        assert again.status_code == 404 and again["X-Cache"] == "HIT" and again.content == first.content
        assert not again.has_header("ETag")
        api_cache.bump([cache_tags.CATALOGUE])
        assert api.get("/api/resolve?name=zzzzqqqq")["X-Cache"] == "MISS"

    def test_cache_can_be_switched_off(self, catalogue, api, settings):
        settings.API_CACHE_ENABLED = False
        api.get("/api/models")
        assert api.get("/api/models")["X-Cache"] == "BYPASS"

    def test_catalogue_kept_five_minutes_and_compare_one(self, catalogue, api, monkeypatch):
        timeouts = []
        original = api_cache.response_set

        def remember(key, value, timeout):
            timeouts.append(timeout)
            original(key, value, timeout)

        monkeypatch.setattr(api_cache, "response_set", remember)
        api.get("/api/models")
        api.get("/api/models/gpt-4o/compare")
        assert timeouts == [300, 60]


class TestInvalidation:
    def test_registry_load_serves_the_new_price_and_keeps_unrelated_entries(
        self, catalogue, api, django_capture_on_commit_callbacks
    ):
        assert api.get("/api/models/gpt-4o").json()["min_price_input"] == 2.5
        assert api.get("/api/models/gpt-4o")["X-Cache"] == "HIT"
        for url in ("/api/models", "/api/models/gpt-4o/providers", "/api/models/llama-3.3-70b-instruct"):
            api.get(url)
        before = versions_of("gpt-4o", "llama-3.3-70b-instruct", "deepseek-r1")

        edit(catalogue / "mappings" / "openai" / "gpt-4o.yaml", "input: 2.5", "input: 2.0")
        reload(catalogue, django_capture_on_commit_callbacks)

        after = versions_of("gpt-4o", "llama-3.3-70b-instruct", "deepseek-r1")
        assert after["gpt-4o"] != before["gpt-4o"]
        assert after["llama-3.3-70b-instruct"] == before["llama-3.3-70b-instruct"]
        assert after["deepseek-r1"] == before["deepseek-r1"]
        detail = api.get("/api/models/gpt-4o")
        assert detail["X-Cache"] == "MISS" and detail.json()["min_price_input"] == 2.0
        assert api.get("/api/models/gpt-4o/providers").json()["results"][0]["price_input"] == 2.0
        row = next(r for r in api.get("/api/models").json()["results"] if r["slug"] == "gpt-4o")
        assert row["min_price_input"] == 2.0
        assert api.get("/api/models/llama-3.3-70b-instruct")["X-Cache"] == "HIT"  # not invalidated

    def test_unchanged_reload_invalidates_nothing(self, catalogue, api, django_capture_on_commit_callbacks):
        api.get("/api/models")
        reload(catalogue, django_capture_on_commit_callbacks)
        assert api.get("/api/models")["X-Cache"] == "HIT"

    def test_family_rename_reaches_its_models(self, catalogue, api, django_capture_on_commit_callbacks):
        assert api.get("/api/models/gpt-4o").json()["family"]["name"] == "GPT"
        edit(catalogue / "families.yaml", "name: GPT\n", "name: GPT series\n")
        reload(catalogue, django_capture_on_commit_callbacks)
        assert api.get("/api/models/gpt-4o").json()["family"]["name"] == "GPT series"

    def test_provider_rename_reaches_the_models_it_serves(self, catalogue, api, django_capture_on_commit_callbacks):
        for url in ("/api/models/deepseek-r1/providers", "/api/models/deepseek-r1/compare"):
            api.get(url)
        api.get("/api/providers/togetherai")
        edit(catalogue / "providers" / "togetherai.yaml", "name: Together AI", "name: Together")
        reload(catalogue, django_capture_on_commit_callbacks)
        names = [r["provider"]["name"] for r in api.get("/api/models/deepseek-r1/providers").json()["results"]]
        assert "Together" in names
        compare = api.get("/api/models/deepseek-r1/compare").json()["results"]
        assert "Together" in [r["provider"]["name"] for r in compare]
        assert api.get("/api/providers/togetherai").json()["name"] == "Together"

    @postgres_only
    def test_new_alias_in_the_registry_resolves_at_once(self, catalogue, api, django_capture_on_commit_callbacks):
        assert api.get("/api/resolve?name=omni-2024").status_code == 404
        api.get("/api/resolve?name=gpt-4o")
        model_file = catalogue / "models" / "openai" / "gpt-4o.yaml"
        edit(model_file, "- gpt-4o-2024-05-13\n", "- gpt-4o-2024-05-13\n- omni-2024\n")
        reload(catalogue, django_capture_on_commit_callbacks)
        assert api.get("/api/resolve?name=omni-2024").json()["match"] == "exact_alias"
        assert api.get("/api/models/omni-2024").json()["slug"] == "gpt-4o"

    def test_admin_edits_are_never_stale(self, catalogue, api, django_capture_on_commit_callbacks):
        api.get("/api/models/gpt-4o/providers")
        api.get("/api/models/gpt-4o")
        with django_capture_on_commit_callbacks(execute=True):
            offer = Mapping.objects.get(provider_model_id="gpt-4o")
            offer.price_input = Decimal("1.75")
            offer.save()
        assert api.get("/api/models/gpt-4o/providers").json()["results"][0]["price_input"] == 1.75
        with django_capture_on_commit_callbacks(execute=True):
            family = Family.objects.get(slug="gpt")
            family.name = "Generative Pre-trained"
            family.save()
        assert api.get("/api/models/gpt-4o").json()["family"]["name"] == "Generative Pre-trained"
        with django_capture_on_commit_callbacks(execute=True):
            offer.delete()
        assert api.get("/api/models/gpt-4o/providers").json()["count"] == 0

    def test_moved_alias_leaves_both_models_fresh(self, catalogue, api, django_capture_on_commit_callbacks):
        def aliases(slug: str) -> list[str]:
            return [a["alias"] for a in api.get(f"/api/models/{slug}").json()["aliases"]]

        assert "gpt-4o-2024-08-06" in aliases("gpt-4o")
        assert "gpt-4o-2024-08-06" not in aliases("gpt-4o-mini")
        with django_capture_on_commit_callbacks(execute=True):
            alias = Alias.objects.get(alias="gpt-4o-2024-08-06")
            alias.model = Model.objects.get(slug="gpt-4o-mini")
            alias.save()
        assert "gpt-4o-2024-08-06" not in aliases("gpt-4o")
        assert "gpt-4o-2024-08-06" in aliases("gpt-4o-mini")

    def test_new_model_appears_in_lists(self, catalogue, api, django_capture_on_commit_callbacks):
        assert api.get("/api/models").json()["count"] == 4
        with django_capture_on_commit_callbacks(execute=True):
            baker.make(Model, slug="fresh", name="Fresh")
        assert api.get("/api/models").json()["count"] == 5

    def test_telemetry_bump_reaches_compare_only(self, catalogue, api):
        api.get("/api/models/gpt-4o/compare")
        api.get("/api/models/gpt-4o")
        api_cache.bump([cache_tags.TELEMETRY])
        assert api.get("/api/models/gpt-4o/compare")["X-Cache"] == "MISS"
        assert api.get("/api/models/gpt-4o")["X-Cache"] == "HIT"


class TestConditionalGet:
    @pytest.mark.parametrize("url", ENDPOINTS)
    def test_matching_etag_is_304_from_cache_and_from_database(self, catalogue, api, url, settings):
        etag = api.get(url)["ETag"]
        assert etag.startswith('"') and len(etag) == 34  # strong: the body's hash
        cached = api.get(url, HTTP_IF_NONE_MATCH=etag)
        assert cached.status_code == 304 and cached.content == b"" and cached["ETag"] == etag
        settings.API_CACHE_ENABLED = False
        assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    def test_etag_lists_and_weak_tags_match(self, catalogue, api):
        etag = api.get("/api/models")["ETag"]
        assert api.get("/api/models", HTTP_IF_NONE_MATCH=f'"other", {etag}').status_code == 304
        assert api.get("/api/models", HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304
        assert api.get("/api/models", HTTP_IF_NONE_MATCH='"stale"').status_code == 200

    def test_changed_data_answers_200_with_a_new_etag(self, catalogue, api, django_capture_on_commit_callbacks):
        etag = api.get("/api/models/gpt-4o")["ETag"]
        edit(catalogue / "models" / "openai" / "gpt-4o.yaml", "name: GPT-4o\n", "name: GPT-4 Omni\n")
        reload(catalogue, django_capture_on_commit_callbacks)
        response = api.get("/api/models/gpt-4o", HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200 and response["ETag"] != etag
        assert response.json()["name"] == "GPT-4 Omni"

    def test_last_modified_and_if_modified_since(self, catalogue, api):
        response = api.get("/api/models/gpt-4o")
        last_modified = response["Last-Modified"]
        assert response["Cache-Control"] == "public, no-cache"
        assert api.get("/api/models/gpt-4o", HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
        assert api.get("/api/models/gpt-4o", HTTP_IF_MODIFIED_SINCE=http_date(0)).status_code == 200

    def test_head_answers_like_get(self, catalogue, api):
        etag = api.get("/api/models")["ETag"]
        head = api.head("/api/models")
        assert head.status_code == 200 and head["ETag"] == etag
