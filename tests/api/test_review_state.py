"""Models and offers ingestion created from ids nothing matched: hidden from public lists by default, marked wherever
they appear (API list, detail, offers, resolve; the pages)."""

from __future__ import annotations

import pytest

from catalog.models import Model
from tests import recipes

pytestmark = pytest.mark.django_db


@pytest.fixture
def unreviewed(catalogue) -> Model:
    model = recipes.text_model.make(
        slug="mystery-7b-chat", name="mystery-7b-chat", needs_review=True, in_registry=False
    )
    recipes.offer.make(model=model, provider_model_id="mystery-7b-chat", needs_review=True, in_registry=False)
    return model


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


class TestApi:
    def test_the_default_list_hides_unreviewed_models(self, unreviewed, api):
        listed = slugs(api.get("/api/models"))
        assert unreviewed.slug not in listed
        assert listed  # the reviewed catalogue is still there
        assert all(row["needs_review"] is False for row in api.get("/api/models").json()["results"])

    def test_a_filter_shows_them_marked(self, unreviewed, api):
        rows = api.get("/api/models", {"review": "needs_review"}).json()["results"]
        assert [(row["slug"], row["needs_review"]) for row in rows] == [(unreviewed.slug, True)]
        everything = slugs(api.get("/api/models", {"review": "all"}))
        assert unreviewed.slug in everything
        assert len(everything) == len(slugs(api.get("/api/models"))) + 1

    def test_search_does_not_surface_them_either(self, unreviewed, api):
        assert slugs(api.get("/api/models", {"search": "mystery"})) == []
        assert slugs(api.get("/api/models", {"search": "mystery", "review": "all"})) == [unreviewed.slug]

    def test_a_bad_review_value_is_a_400_naming_it(self, unreviewed, api):
        response = api.get("/api/models", {"review": "maybe"})
        assert response.status_code == 400
        assert "review" in response.json()["errors"]

    def test_detail_offers_and_resolve_mark_them(self, unreviewed, api):
        detail = api.get(f"/api/models/{unreviewed.slug}").json()
        assert detail["needs_review"] is True
        offers = api.get(f"/api/models/{unreviewed.slug}/providers").json()["results"]
        assert [offer["needs_review"] for offer in offers] == [True]
        resolved = api.get("/api/resolve", {"name": unreviewed.slug}).json()
        assert resolved["model"]["needs_review"] is True

    def test_reviewed_rows_say_so(self, catalogue, api):
        detail = api.get("/api/models/gpt-4o").json()
        assert detail["needs_review"] is False
        offers = api.get("/api/models/gpt-4o/providers").json()["results"]
        assert offers and all(offer["needs_review"] is False for offer in offers)


class TestPages:
    def test_the_list_page_hides_them_unless_asked_and_marks_them(self, unreviewed, client):
        assert unreviewed.slug not in client.get("/models").content.decode()
        page = client.get("/models", {"review": "needs_review"}).content.decode()
        assert unreviewed.slug in page and "needs review" in page

    def test_the_model_page_marks_them(self, unreviewed, client):
        page = client.get(f"/models/{unreviewed.slug}").content.decode()
        assert "Needs review" in page

    def test_the_home_page_lists_no_unreviewed_model(self, unreviewed, client):
        unreviewed.release_date = "2026-01-01"
        unreviewed.save()
        assert unreviewed.slug not in client.get("/").content.decode()
