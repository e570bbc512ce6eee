"""The in-process resolution index: /api/resolve answers exact, alias and normalised names without a query, and the
index follows the catalogue version (a write here or a bump from another process rebuilds it; never a stale answer).

These tests commit (transactional_db): the versions move on commit, as they do in production.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.db import transaction

from catalog import cache_tags
from catalog import resolution_index as resolution_index_module
from catalog.invalidation import catalogue_invalidate
from catalog.models import Alias, Model
from catalog.resolution import model_resolve_name
from catalog.resolution_index import resolution_index
from ingestion.curation_api.aliases import curation_alias_add
from modelgraph.api import cache as api_cache
from registry.loading import registry_load

pytestmark = pytest.mark.django_db(transaction=True)

SMALL_REGISTRY = Path(__file__).resolve().parent.parent / "fixtures" / "registry_small"


@pytest.fixture(autouse=True)
def _cache_on(settings):
    api_cache.forget_state()
    settings.API_CACHE_ENABLED = True
    settings.API_THROTTLE_RATE = "100000/min"
    yield
    api_cache.forget_state()


@pytest.fixture
def registry_copy(tmp_path) -> Path:
    target = tmp_path / "registry"
    shutil.copytree(SMALL_REGISTRY, target)
    return target


@pytest.fixture
def catalogue(registry_copy) -> Path:
    registry_load(path=registry_copy)
    return registry_copy


def resolved(name: str) -> tuple[str | None, str | None]:
    resolution = model_resolve_name(name)
    return (resolution.model.slug if resolution.model else None), resolution.match


class TestNoQueries:
    @pytest.mark.parametrize(
        ("name", "slug", "match"),
        [
            ("gpt-4o", "gpt-4o", "exact_slug"),
            ("gpt-4o-2024-08-06", "gpt-4o", "exact_alias"),
            ("GPT-4O", "gpt-4o", "exact_slug"),
            ("DEEPSEEK-AI/deepseek-r1", "deepseek-r1", "exact_alias"),
            ("gpt-4o-latest", "gpt-4o", "normalised"),
            ("gpt4o", "gpt-4o", "normalised"),
            ("openrouter/openai/gpt-4o-mini:beta", "gpt-4o-mini", "normalised"),
        ],
    )
    def test_resolve_endpoint_reads_no_database_after_warm_up(
        self, catalogue, client, django_assert_num_queries, name, slug, match
    ):
        assert client.get("/api/resolve", {"name": "o1"}).status_code in (200, 404)  # warm-up: builds the index
        with django_assert_num_queries(0):
            response = client.get("/api/resolve", {"name": name})
        assert response.status_code == 200, response.content
        assert response["X-Cache"] == "MISS"  # answered by the view, not by a stored response
        body = response.json()
        assert (body["model"]["slug"], body["match"]) == (slug, match)

    def test_service_call_reads_no_database_after_warm_up(self, catalogue, django_assert_num_queries):
        resolved("gpt-4o")
        with django_assert_num_queries(0):
            assert resolved("openai/gpt-4o-mini") == ("gpt-4o-mini", "exact_alias")
            assert resolved("gpt-4o-mini-2024-07-18") == ("gpt-4o-mini", "exact_alias")

    def test_without_the_cache_the_rows_are_reread_now_and_then_not_per_call(
        self, catalogue, settings, monkeypatch, django_assert_num_queries
    ):
        settings.API_CACHE_ENABLED = False
        monkeypatch.setattr(resolution_index_module, "FINGERPRINT_SECONDS", 3600)
        resolved("gpt-4o")
        with django_assert_num_queries(0):
            assert resolved("gpt-4o-mini") == ("gpt-4o-mini", "exact_slug")
        Alias.objects.bulk_create([Alias(alias="loaded-elsewhere", model=Model.objects.get(slug="gpt-4o"))])
        assert resolved("loaded-elsewhere") == (None, None)  # another process' write, within the interval
        monkeypatch.setattr(resolution_index_module, "FINGERPRINT_SECONDS", 0)
        with django_assert_num_queries(1 + 3):  # the fingerprint, then the rebuild's three queries
            assert resolved("loaded-elsewhere") == ("gpt-4o", "exact_alias")


class TestNeverStale:
    def test_alias_added_through_the_service_is_resolved_next(self, catalogue, client):
        assert resolved("my-favourite-model") == (None, None)
        curation_alias_add(alias="my-favourite-model", model="gpt-4o-mini", provider=None, reason="test")
        assert resolved("my-favourite-model") == ("gpt-4o-mini", "exact_alias")
        assert client.get("/api/resolve", {"name": "My-Favourite-Model"}).json()["model"]["slug"] == "gpt-4o-mini"

    def test_alias_added_by_a_registry_load_is_resolved_next(self, catalogue, client):
        assert client.get("/api/resolve", {"name": "mini-from-the-registry"}).status_code == 404
        model_file = catalogue / "models" / "openai" / "gpt-4o-mini.yaml"
        model_file.write_text(model_file.read_text() + "- mini-from-the-registry\n")
        registry_load(path=catalogue)
        response = client.get("/api/resolve", {"name": "mini-from-the-registry"})
        assert response.status_code == 200 and response.json()["model"]["slug"] == "gpt-4o-mini"

    def test_alias_deleted_here_is_not_resolved_next(self, catalogue):
        assert resolved("gpt-4o-2024-08-06") == ("gpt-4o", "exact_alias")
        Alias.objects.get(alias="gpt-4o-2024-08-06").delete()
        assert resolved("gpt-4o-2024-08-06")[1] != "exact_alias"

    def test_write_inside_a_transaction_is_seen_there_and_gone_after_rollback(self, catalogue):
        gpt = Model.objects.get(slug="gpt-4o")
        resolved("gpt-4o")
        with transaction.atomic():
            Alias.objects.bulk_create([Alias(alias="bulk-written-name", model=gpt)])  # no signal: bulk
            assert resolved("bulk-written-name") == ("gpt-4o", "exact_alias")
            transaction.set_rollback(True)
        assert resolved("bulk-written-name") == (None, None)


class TestVersion:
    def test_held_while_the_version_stands_rebuilt_when_another_process_bumps_it(self, catalogue):
        index = resolution_index()
        assert resolution_index() is index
        # Another process's write: rows appear without a signal here; its commit bumps the catalogue version.
        Alias.objects.bulk_create([Alias(alias="written-elsewhere", model=Model.objects.get(slug="gpt-4o"))])
        assert resolution_index() is index
        catalogue_invalidate()
        rebuilt = resolution_index()
        assert rebuilt is not index
        assert rebuilt.aliases["written-elsewhere"][0].model.slug == "gpt-4o"
        assert resolved("written-elsewhere") == ("gpt-4o", "exact_alias")

    def test_a_version_given_by_the_caller_is_compared_with_the_held_one(self, catalogue):
        current = api_cache.versions([cache_tags.CATALOGUE])[cache_tags.CATALOGUE]
        index = resolution_index(current)
        assert resolution_index(current) is index
        assert resolution_index(current + 1) is not index

    def test_with_a_cache_of_its_own_the_process_rereads_the_rows_now_and_then(self, catalogue, settings, monkeypatch):
        """LocMemCache (the embedded default): another process' registry load bumps nothing this process sees."""
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        gpt = Model.objects.get(slug="gpt-4o")
        monkeypatch.setattr(resolution_index_module, "FINGERPRINT_SECONDS", 3600)
        resolved("gpt-4o")
        Alias.objects.bulk_create([Alias(alias="loaded-elsewhere", model=gpt)])  # no signal, no bump
        assert resolved("loaded-elsewhere") == (None, None)  # within the interval: the held index
        monkeypatch.setattr(resolution_index_module, "FINGERPRINT_SECONDS", 0)
        assert resolved("loaded-elsewhere") == ("gpt-4o", "exact_alias")

    def test_indexes_every_exact_key_the_resolver_reads(self, catalogue):
        index = resolution_index()
        assert set(index.slugs) == set(Model.objects.values_list("slug", flat=True))
        assert {alias.lower() for alias in Alias.objects.values_list("alias", flat=True)} == set(index.aliases)
        assert [a.alias for a in index.aliases_lowered({"openai/gpt-4o-mini", "gpt-4o-mini-2024-07-18"})] == [
            "gpt-4o-mini-2024-07-18",
            "openai/gpt-4o-mini",
        ]
        assert index.names.at_provider[("groq", "llama-3.3-70b-versatile")] == {
            Model.objects.get(slug="llama-3.3-70b-instruct").pk
        }
