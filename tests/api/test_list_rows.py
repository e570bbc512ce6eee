"""The model list's stored rows (catalog/list_rows.py): the unfiltered list answers the bytes the live list renders,
and no write leaves a stored row behind the catalogue."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.list_rows import list_rows_render, model_list_rows_refresh
from catalog.models import Alias, Model, ModelListRow, Provider
from ingestion.models import IngestionRun, RunStatus
from ingestion.offers import ingestion_apply_offers
from registry.loading import registry_load
from tests.catalog.test_admin import form_data

pytestmark = pytest.mark.django_db

# `review=reviewed` is the default filter stated: the FilterSet's live query, the same models in the same order.
STORED, LIVE = "/api/models?page_size=200", "/api/models?page_size=200&review=reviewed"


@pytest.fixture(autouse=True)
def _uncached(settings):
    settings.API_CACHE_ENABLED = False


def assert_current(api) -> None:
    """Every stored row is the one rendered from the catalogue now, and the list serves the live list's bytes."""
    stored = dict(ModelListRow.objects.values_list("model_id", "body"))
    assert stored == list_rows_render(list(Model.objects.values_list("pk", flat=True)))
    assert api.get(STORED).content == api.get(LIVE).content


class TestSameBytes:
    def test_stored_rows_answer_the_live_lists_bytes(self, catalogue, api):
        model_list_rows_refresh(everything=True)
        assert ModelListRow.objects.count() == Model.objects.count()
        assert_current(api)

    def test_pages_and_links_as_the_paginator_gives_them(self, catalogue, api, settings):
        settings.ALLOWED_HOSTS = ["api.example.org"]
        model_list_rows_refresh(everything=True)
        stored = api.get("/api/models?page_size=2&page=2", HTTP_HOST="api.example.org")
        live = api.get("/api/models?page_size=2&page=2&review=reviewed", HTTP_HOST="api.example.org")
        assert stored.status_code == 200 and stored.json()["previous"].startswith("http://api.example.org/")
        assert stored.json() | {"next": None, "previous": None} == live.json() | {"next": None, "previous": None}
        assert stored["Content-Type"] == live["Content-Type"] == "application/json"

    def test_a_model_without_a_row_is_rendered_from_the_catalogue(self, catalogue, api):
        model_list_rows_refresh(everything=True)
        ModelListRow.objects.filter(model__slug="gpt-4o").delete()
        assert api.get(STORED).content == api.get(LIVE).content

    def test_page_beyond_the_last_is_404(self, catalogue, api):
        assert api.get("/api/models?page=999").status_code == 404


class TestNeverStale:
    """Each write's refresh runs when it commits (as the cache bump does): captured and run here."""

    def test_registry_load(self, catalogue, api, django_capture_on_commit_callbacks):
        model_list_rows_refresh(everything=True)
        path = catalogue / "mappings" / "openai" / "gpt-4o.yaml"
        path.write_text(path.read_text().replace("input: 2.5", "input: 2.0"))
        with django_capture_on_commit_callbacks(execute=True):
            registry_load(path=catalogue)
        row = next(r for r in api.get(STORED).json()["results"] if r["slug"] == "gpt-4o")
        assert row["min_price_input"] == 2.0
        assert_current(api)

    def test_ingestion_run_changing_an_offer(self, catalogue, api, django_capture_on_commit_callbacks):
        model_list_rows_refresh(everything=True)
        run = IngestionRun.objects.create(source="openrouter", tier=1, status=RunStatus.SUCCESS)
        offer = {
            "endpoint_id": "deepseek/deepseek-r1@together",
            "openrouter_model_id": "deepseek/deepseek-r1",
            "variant": "",
            "served_by": "together",
            "provider_slug": "together",
            "tag": "together",
            "price_input": Decimal("0.01"),
            "price_output": Decimal("7"),
            "price_cached_input": None,
            "price_cache_write": None,
            "context_window": 163840,
            "max_output": 32768,
            "quantization": "",
        }
        with django_capture_on_commit_callbacks(execute=True):
            ingestion_apply_offers(run=run, offers=[offer])
        row = next(r for r in api.get(STORED).json()["results"] if r["slug"] == "deepseek-r1")
        assert row["min_price_input"] == 0.01
        assert_current(api)

    def test_admin_save_of_a_model(self, catalogue, api, admin_client, django_capture_on_commit_callbacks):
        model_list_rows_refresh(everything=True)
        model = Model.objects.get(slug="gpt-4o")
        url = reverse("admin:catalog_model_change", args=[model.pk])
        data = form_data(admin_client.get(url)) | {"context_window": "131072", "change_reason": "docs"}
        with django_capture_on_commit_callbacks(execute=True):
            assert admin_client.post(url, data).status_code == 302
        row = next(r for r in api.get(STORED).json()["results"] if r["slug"] == "gpt-4o")
        assert row["context_window"] == 131072
        assert_current(api)

    def test_provider_rename_reaches_the_models_it_created(self, catalogue, api, django_capture_on_commit_callbacks):
        model_list_rows_refresh(everything=True)
        provider = Provider.objects.get(slug="openai")
        provider.name = "OpenAI, renamed"
        with django_capture_on_commit_callbacks(execute=True):
            provider.save()
        row = next(r for r in api.get(STORED).json()["results"] if r["slug"] == "gpt-4o")
        assert row["creator"]["name"] == "OpenAI, renamed"
        assert_current(api)

    def test_provider_deleted(self, catalogue, api, django_capture_on_commit_callbacks):
        model_list_rows_refresh(everything=True)
        with django_capture_on_commit_callbacks(execute=True):
            Provider.objects.get(slug="openai").delete()
        row = next(r for r in api.get(STORED).json()["results"] if r["slug"] == "gpt-4o")
        assert row["creator"] is None
        assert_current(api)

    def test_alias_added_and_model_deleted(self, catalogue, api, django_capture_on_commit_callbacks):
        model_list_rows_refresh(everything=True)
        model = Model.objects.get(slug="gpt-4o")
        with django_capture_on_commit_callbacks(execute=True):
            Alias.objects.create(model=model, alias="my-gpt-4o")
        row = next(r for r in api.get(STORED).json()["results"] if r["slug"] == "gpt-4o")
        assert "my-gpt-4o" in row["aliases"]
        assert_current(api)
        with django_capture_on_commit_callbacks(execute=True):
            model.delete()
        assert "gpt-4o" not in {r["slug"] for r in api.get(STORED).json()["results"]}
        assert_current(api)


class TestQueries:
    def test_a_page_is_two_queries_whatever_its_size(self, catalogue, api, django_assert_max_num_queries):
        model_list_rows_refresh(everything=True)
        for size in (1, 200):
            with django_assert_max_num_queries(2):
                assert api.get(f"/api/models?page_size={size}").status_code == 200
