"""The browser pages through Django's test client: what each shows, where aliases and typos lead."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from catalog.models import Model
from ingestion.models import IngestionRun, RunStatus, Tier
from ingestion.prices.sources import PRICE_SOURCES
from ingestion.sources import SOURCES
from tests.web.conftest import text

pytestmark = pytest.mark.django_db


class TestHome:
    def test_search_box_newest_and_most_served(self, telemetry, client):
        page = text(client.get("/"))
        assert 'role="combobox"' in page and 'aria-controls="home-results"' in page
        assert '<label for="home-q"' in page
        newest = page.index("Newest models")
        assert page.index("DeepSeek-R1", newest) < page.index("GPT-4o mini", newest)  # 2025-01-20 before 2024-07-18
        assert "2 providers · from $0.14/M in" in page
        assert "<title>Find an LLM and who serves it · ModelGraph</title>" in page


class TestSearch:
    def test_json_for_search_as_you_type(self, catalogue, client):
        response = client.get("/search", {"q": "llama", "format": "json"})
        assert response["Content-Type"] == "application/json"
        results = response.json()["results"]
        assert results[0] == {
            "slug": "llama-3.3-70b-instruct",
            "name": "Llama 3.3 70B Instruct",
            "creator": "Meta",
            "url": "/models/llama-3.3-70b-instruct",
        }

    def test_an_alias_finds_its_model(self, catalogue, client):
        results = client.get("/search", {"q": "deepseek-ai/DeepSeek-R1", "format": "json"}).json()["results"]
        assert results[0]["slug"] == "deepseek-r1"

    def test_empty_query_answers_nothing(self, catalogue, client):
        assert client.get("/search", {"q": "  ", "format": "json"}).json() == {"query": "", "results": []}

    def test_without_javascript_the_form_lands_on_a_results_page(self, catalogue, client):
        page = text(client.get("/search", {"q": "gpt-4o"}))
        assert 'href="/models/gpt-4o"' in page and 'href="/models/gpt-4o-mini"' in page
        assert 'name="robots" content="noindex"' in page


class TestModelList:
    def rows(self, client, **params) -> list[str]:
        page = text(client.get("/models", params))
        body = page[page.index("<tbody>") : page.index("</tbody>")]
        return [chunk.split('"', 1)[0] for chunk in body.split('<th scope="row"><a href="/models/')[1:]]

    def test_every_model_by_default(self, catalogue, client):
        assert self.rows(client) == ["deepseek-r1", "gpt-4o", "gpt-4o-mini", "llama-3.3-70b-instruct"]

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"capability": "reasoning"}, ["deepseek-r1"]),
            ({"capability": ["tools", "vision"]}, ["gpt-4o", "gpt-4o-mini"]),
            ({"provider": "groq"}, ["llama-3.3-70b-instruct"]),
            ({"family": "gpt"}, ["gpt-4o", "gpt-4o-mini"]),
            ({"open_weights": "true"}, ["deepseek-r1", "llama-3.3-70b-instruct"]),
            ({"input_modality": "image"}, ["gpt-4o", "gpt-4o-mini"]),
            ({"min_context": "130000"}, ["llama-3.3-70b-instruct"]),
            ({"max_price_input": "0.2"}, ["deepseek-r1", "gpt-4o-mini"]),
            ({"search": "mini"}, ["gpt-4o-mini"]),
            ({"ordering": "-price"}, ["gpt-4o", "llama-3.3-70b-instruct", "gpt-4o-mini", "deepseek-r1"]),
        ],
    )
    def test_the_apis_filters_as_a_form(self, catalogue, client, params, expected):
        assert self.rows(client, **params) == expected

    def test_the_form_shows_the_filters_of_the_url(self, catalogue, client):
        page = text(client.get("/models", {"capability": "reasoning", "provider": "groq", "min_context": "150000"}))
        assert 'value="reasoning" id="id_capability_1" checked' in page
        assert '<option value="groq" selected>Groq</option>' in page
        assert '<option value="150000" selected>150,000 tokens</option>' in page  # not a preset, still shown
        assert "<title>Models — Provider: Groq; Capabilities: Reasoning; Context at least: 150,000 tokens" in page

    def test_sort_links_keep_the_filters(self, catalogue, client):
        page = text(client.get("/models", {"capability": "tools", "ordering": "name", "page": "1"}))
        assert 'href="?capability=tools&amp;ordering=-name"' in page  # the sorted column reverses
        assert 'href="?capability=tools&amp;ordering=-release_date"' in page  # newest first on the first click
        assert 'aria-sort="ascending"' in page

    def test_pages(self, catalogue, client, monkeypatch):
        monkeypatch.setattr("web.views.PAGE_SIZE", 3)
        page = text(client.get("/models", {"open_weights": "false", "page": "2"}))
        assert "page 2 of 1" not in page
        page = text(client.get("/models", {"page": "2"}))
        assert 'href="/models/llama-3.3-70b-instruct"' in page and 'href="/models/gpt-4o"' not in page
        assert 'href="?page=1" rel="prev"' in page and "page 2 of 2" in page

    def test_a_bad_value_is_shown_not_a_crash(self, catalogue, client):
        response = client.get("/models", {"min_context": "lots", "capability": "telepathy"})
        assert response.status_code == 200
        assert 'aria-invalid="true"' in text(response) and "Some filters could not be applied" in text(response)


class TestModelPage:
    def test_providers_side_by_side_with_cheapest_and_fastest(self, telemetry, client):
        page = text(client.get("/models/llama-3.3-70b-instruct"))
        assert "Llama 3.3 70B Instruct at 2 providers" in page
        groq, together = page.index('href="/providers/groq"'), page.index('href="/providers/togetherai"')
        cheapest = page.index(">Cheapest</span>")
        assert groq < cheapest < together  # Groq: (3 x 0.59 + 0.79) / 4 = $0.64 blended, Together $0.88
        assert page.count(">Fastest</span>") == 1
        for figure in ("$0.59", "$0.79", "32K", "fp8", "131,072 tokens", "70B", "llama3.3"):
            assert figure in page
        assert "meta-llama/Llama-3.3-70B-Instruct-Turbo" in page  # an alias
        assert '<meta name="description" content="Llama 3.3 70B Instruct by Meta, 128K context: served by 2' in page

    def test_sorting_the_comparison(self, telemetry, client):
        page = text(client.get("/models/llama-3.3-70b-instruct", {"sort": "-input"}))
        assert page.index('href="/providers/togetherai"') < page.index('href="/providers/groq"')
        assert 'aria-sort="descending"' in page

    def test_without_telemetry_the_figures_are_dashes(self, catalogue, client):
        page = text(client.get("/models/gpt-4o"))
        assert "GPT-4o at 1 provider<" in page and ">Fastest</span>" not in page

    @pytest.mark.parametrize(
        "path", ["/models/openai/gpt-4o", "/models/gpt-4o-2024-08-06", "/models/GPT-4o", "/models/gpt-4o/"]
    )
    def test_other_names_redirect_permanently_to_the_canonical_url(self, catalogue, client, path):
        response = client.get(path, {"sort": "uptime"})
        assert response.status_code == 301
        assert response["Location"] == "/models/gpt-4o?sort=uptime"

    def test_status_dates_and_successor(self, catalogue, client):
        Model.objects.filter(slug="gpt-4o").update(
            status="deprecated",
            deprecation_date="2026-01-05",
            sunset_date="2026-06-30",
            successor=Model.objects.get(slug="gpt-4o-mini"),
        )
        page = text(client.get("/models/gpt-4o"))
        assert "Deprecated since 5 January 2026; shuts down 30 June 2026." in page
        assert 'Successor: <a href="/models/gpt-4o-mini">GPT-4o mini</a>' in page


class TestNotFound:
    def test_a_mistyped_model_suggests_the_model(self, catalogue, client):
        response = client.get("/models/gpt-4p")
        assert response.status_code == 404
        page = text(response)
        assert "No model called “gpt-4p”" in page and "Did you mean" in page
        assert page.index('href="/models/gpt-4o"') < page.index('href="/models/gpt-4o-mini"')
        assert 'name="robots" content="noindex"' in page

    def test_a_mistyped_provider_suggests_the_provider(self, catalogue, client):
        page = text(client.get("/providers/grok"))
        assert 'href="/providers/groq"' in page

    def test_any_other_path_is_a_page_with_the_search(self, catalogue, client, settings):
        settings.DEBUG = False
        response = client.get("/nowhere/at/all")
        assert response.status_code == 404 and "Page not found" in text(response) and 'role="search"' in text(response)

    def test_api_paths_stay_json(self, catalogue, client, settings):
        settings.DEBUG = False
        response = client.get("/api/nowhere")
        assert response.status_code == 404 and response["Content-Type"] == "application/json"


class TestProviderPage:
    def test_models_served_and_charts(self, telemetry, client):
        page = text(client.get("/providers/togetherai"))
        assert "2 models at Together AI" in page
        assert 'href="/models/deepseek-r1"' in page and 'href="/models/llama-3.3-70b-instruct"' in page
        assert page.count('role="img"') == 3  # uptime, TTFT, total time
        assert "Uptime of Together AI&#x27;s API" in page or "Uptime of Together AI's API" in page

    def test_windows(self, telemetry, client):
        page = text(client.get("/providers/togetherai", {"window": "30d"}))
        assert 'aria-current="true">Last 30 days' in page and "per day over the last 30 days" in page
        assert 'aria-current="true">Last 7 days' in text(client.get("/providers/togetherai", {"window": "1y"}))

    def test_a_lab_that_serves_nothing(self, catalogue, client):
        page = text(client.get("/providers/meta"))
        assert "serves no model in the catalogue" in page and "No measurements in this window yet." in page


class TestTelemetryDashboard:
    def test_overview(self, telemetry, client):
        page = text(client.get("/telemetry"))
        assert "API uptime of 4 probed providers" in page and "Uptime of the least reliable providers" in page

    def test_one_model_at_a_provider(self, telemetry, client):
        from catalog.models import Mapping

        offer = Mapping.objects.get(provider__slug="togetherai", model__slug="deepseek-r1")
        page = text(client.get("/telemetry", {"provider": "togetherai", "offer": offer.pk, "window": "24h"}))
        assert "<h1>Telemetry: DeepSeek-R1 at Together AI</h1>" in page
        assert f'<option value="{offer.pk}" selected>' in page
        assert "Time to first token of DeepSeek-R1 at Together AI" in page

    def test_an_unknown_provider_shows_the_overview(self, telemetry, client):
        assert "Uptime of the least reliable providers" in text(client.get("/telemetry", {"provider": "nope"}))


class TestStatus:
    def test_latest_run_of_each_source(self, db, client):
        for status in (RunStatus.FAILED, RunStatus.SUCCESS):
            IngestionRun.objects.create(
                source="openai", tier=Tier.PROVIDER_API, status=status, models_added=3, finished_at=timezone.now()
            )
        IngestionRun.objects.create(
            source="huggingface", tier=Tier.HUGGING_FACE, status=RunStatus.FAILED, error_message="HTTP 503 from the Hub"
        )
        page = text(client.get("/status"))
        # Every source is listed (those that never ran too), then the health and latency probe rounds.
        sources = len({*SOURCES, *PRICE_SOURCES})
        assert page.count('<th scope="row">') == sources + 2
        assert page.count("Never run") == sources - 2
        assert 'class="badge good">Success' in page and "HTTP 503 from the Hub" in page


class TestPageCache:
    def test_a_second_view_is_served_from_the_cache_until_the_catalogue_changes(
        self, catalogue, client, settings, django_capture_on_commit_callbacks
    ):
        settings.WEB_CACHE_ENABLED = True
        assert client.get("/models/gpt-4o")["X-Cache"] == "miss"
        assert client.get("/models/gpt-4o")["X-Cache"] == "hit"
        model = Model.objects.get(slug="gpt-4o")
        model.name = "GPT-4o (renamed)"
        with django_capture_on_commit_callbacks(execute=True):  # the catalogue's invalidation runs after commit
            model.save()
        response = client.get("/models/gpt-4o")
        assert response["X-Cache"] == "miss" and "GPT-4o (renamed)" in text(response)

    def test_search_json_is_cached_too(self, catalogue, client, settings):
        settings.WEB_CACHE_ENABLED = True
        first = client.get("/search", {"q": "gpt", "format": "json"})
        second = client.get("/search", {"q": "gpt", "format": "json"})
        assert second["X-Cache"] == "hit" and json.loads(second.content) == first.json()
