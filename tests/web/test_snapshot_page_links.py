"""The catalogue's pages link to the OpenRouter archive's page of every offer OpenRouter serves, and only those."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Alias, Mapping, Model, Provider
from catalog.signals import catalogue_changed
from ingestion.models import RunStatus
from ingestion.services import ingestion_run_source
from tests import recipes
from tests.web.conftest import text
from tests.web.snapshot_archive import MODEL, archive_synced

pytestmark = pytest.mark.django_db

HISTORY = f"/snapshots/models/{MODEL}"


@pytest.fixture
def served(catalogue, settings):
    """The small registry plus Mistral Medium 3, whose OpenRouter offers come from the archive through ingestion."""
    creator = Provider.objects.create(slug="mistral", name="Mistral")
    model = Model.objects.create(slug="mistral-medium-3", name="Mistral Medium 3", creator=creator)
    Alias.objects.create(alias=MODEL, model=model)
    with archive_synced(settings) as built:
        run = ingestion_run_source(source="openrouter")
        assert run.status == RunStatus.SUCCESS, run.details
        yield {
            **built,
            "model": model,
            "offers": list(Mapping.objects.filter(model=model, provider__slug="openrouter")),
        }


def test_the_archive_becomes_openrouter_offers_of_the_model(served):
    assert sorted(o.provider_model_id for o in served["offers"]) == sorted(f"{MODEL}@{t}" for t in served["tags"])


def test_the_model_page_links_to_the_history_of_the_model_openrouter_serves(client, served):
    html = text(client.get("/models/mistral-medium-3"))
    assert f'<a href="{HISTORY}"><span class="mono">{MODEL}</span></a>' in html


def test_a_curated_openrouter_offer_row_links_to_the_history(client, served):
    """The comparison table shows the registry's offers: OpenRouter's there is under the model id itself."""
    openrouter = Provider.objects.get(slug="openrouter")
    recipes.offer.make(model=served["model"], provider=openrouter, provider_model_id=MODEL, in_registry=True)
    html = text(client.get("/models/mistral-medium-3"))
    row = re.search(r"<tr[^>]*>\s*<th scope=\"row\"><a href=\"/providers/openrouter\">.*?</tr>", html, re.S)
    assert row and f'<a href="{HISTORY}" aria-label="OpenRouter history of {MODEL}">OpenRouter history</a>' in row[0]


def test_each_endpoint_offer_links_to_its_section_of_the_history(client, served):
    html = text(client.get("/providers/openrouter"))
    page = text(client.get(HISTORY))
    for offer in served["offers"]:
        anchor = "endpoint-" + offer.provider_model_id.replace("/", "-").replace("@", "-")
        assert f'href="{HISTORY}#{anchor}"' in html
        assert f'id="{anchor}"' in page  # the link lands on that endpoint's section
    assert html.count(f'href="{HISTORY}#endpoint-') == len(served["offers"]) == 2


def test_a_model_openrouter_does_not_serve_has_no_link(client, served):
    html = text(client.get("/models/llama-3.3-70b-instruct"))
    assert "/snapshots/models/" not in html and "OpenRouter history" not in html


def test_an_openrouter_offer_missing_from_the_archive_has_no_link(client, served):
    llama = Model.objects.get(slug="llama-3.3-70b-instruct")
    openrouter = Provider.objects.get(slug="openrouter")
    recipes.offer.make(model=llama, provider=openrouter, provider_model_id="meta-llama/llama-3.3-70b-instruct")
    html = text(client.get("/models/llama-3.3-70b-instruct"))
    assert "OpenRouter" in html and "/snapshots/models/" not in html


def test_the_catalogue_model_page_and_the_history_link_both_ways(client, served):
    assert 'href="/models/mistral-medium-3"' in text(client.get(HISTORY))


def test_no_other_provider_page_links_to_the_archive(client, served):
    assert "/snapshots/models/" not in text(client.get("/providers/groq"))


def test_the_status_page_links_to_the_archive(client, served):
    assert 'href="/snapshots/"' in text(client.get("/status"))


def test_the_page_runs_as_many_queries_with_one_openrouter_offer_as_with_six(client, served):
    openrouter = Provider.objects.get(slug="openrouter")

    def count_after_adding(pmids: list[str]) -> int:
        for pmid in pmids:
            recipes.offer.make(model=served["model"], provider=openrouter, provider_model_id=pmid, in_registry=True)
        # What the commit does in production (the fixture's own writes hold this test's on-commit invalidation): the
        # catalogue's version moves on, so the page reads its catalogue parts again.
        catalogue_changed.send(sender=Mapping, model_ids={served["model"].pk}, provider_ids={openrouter.pk})
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/models/mistral-medium-3")
        assert response.status_code == 200 and all(pmid in text(response) for pmid in pmids)
        return len(queries)

    assert count_after_adding([MODEL]) == count_after_adding([f"{MODEL}@extra-{index}" for index in range(5)])
