"""The curators' work queue (Build 4 of issue 16): /api/v1/admin/review and the admin page list what needs a
curator, each item with its subject and the one action that resolves it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Mapping, Model
from ingestion.models import UnmatchedPrice
from modelgraph.models import ApiScope
from registry.loading import registry_load
from tests.ingestion.curation_helpers import client_with, issue_key

pytest_plugins = ["tests.ingestion.curation_helpers"]
pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/review"


@pytest.fixture
def reviewer(curator):
    return client_with(issue_key([ApiScope.REVIEW_READ], curator))


@pytest.fixture
def queue(registry_dir):
    """The small registry with one item of every kind."""
    registry_load(path=registry_dir)
    Model.objects.filter(slug="deepseek-r1").update(needs_review=True)
    groq = Mapping.objects.get(provider__slug="groq")
    groq.needs_review = True
    groq.provenance = {
        **groq.provenance,
        "price_output": {
            "source": "registry",
            "value": "0.79",
            "disputed": True,
            "values": {"registry": "0.79", "litellm": "0.99"},
        },
    }
    groq.save()
    Mapping.objects.filter(provider__slug="openai", provider_model_id="gpt-4o-mini").update(
        prices_checked=timezone.now() - dt.timedelta(days=45)
    )
    Mapping.objects.filter(provider__slug="openai", provider_model_id="gpt-4o").update(
        prices_checked=timezone.now() - dt.timedelta(days=5)
    )
    # Retired by its creator long ago, yet its offers are still active: a lifecycle contradiction.
    Model.objects.filter(slug="gpt-4o").update(status="retired", sunset_date=dt.date(2024, 1, 1))
    UnmatchedPrice.objects.create(source="litellm", provider_key="groq", model_key="llama-3.3-70b-specdec")
    return registry_dir


def items(client, query: str = "") -> list[dict]:
    response = client.get(URL + query)
    assert response.status_code == 200, response.content
    return response.json()["results"]


class TestAccess:
    def test_no_key_is_401_and_a_curation_only_key_is_403(self, curator):
        assert client_with(None).get(URL).status_code == 401
        response = client_with(issue_key([ApiScope.CURATION_WRITE], curator)).get(URL)
        assert response.status_code == 403 and "review:read" in response.json()["detail"]

    @pytest.mark.parametrize("query", ["?kind=everything", "?kind=", "?page=0"])
    def test_a_bad_parameter_is_400_naming_it(self, reviewer, query):
        response = reviewer.get(URL + query)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == [query[1:].split("=")[0]]


class TestQueue:
    def test_every_kind_is_listed_with_its_subject_and_action(self, queue, reviewer):
        found = items(reviewer, "?page_size=200")
        by_kind: dict[str, list[dict]] = {}
        for item in found:
            by_kind.setdefault(item["kind"], []).append(item)
        assert {
            "model_needs_review",
            "offer_needs_review",
            "price_dispute",
            "lifecycle_contradiction",
            "stale_price",
            "unmatched_price",
        } <= set(by_kind)
        model = Model.objects.get(slug="deepseek-r1")
        [flagged] = by_kind["model_needs_review"]
        assert flagged["subject"] == {
            "model": "deepseek-r1",
            "provider": None,
            "offer": None,
            "admin_url": reverse("admin:catalog_model_change", args=[model.pk]),
        }
        assert flagged["action"]["method"] == "POST"
        assert flagged["action"]["url"] == "/api/v1/admin/models/deepseek-r1/merge"
        groq = Mapping.objects.get(provider__slug="groq")
        [dispute] = by_kind["price_dispute"]
        assert (dispute["subject"]["offer"], dispute["details"]["field"]) == (groq.pk, "price_output")
        assert "litellm 0.99" in dispute["description"]
        assert dispute["action"]["url"].startswith(reverse("admin:catalog_mapping_disputed"))
        [stale] = by_kind["stale_price"]
        assert stale["subject"]["model"] == "gpt-4o-mini" and "45 days" in stale["description"]
        contradiction = next(i for i in by_kind["lifecycle_contradiction"] if i["subject"]["model"] == "gpt-4o")
        assert contradiction["action"]["url"] in (
            "/api/v1/admin/models/gpt-4o/lifecycle",
            *(f"/api/v1/admin/offers/{pk}/lifecycle" for pk in Mapping.objects.values_list("pk", flat=True)),
        )
        [unmatched] = by_kind["unmatched_price"]
        assert unmatched["action"]["url"] == "/api/v1/admin/aliases"
        assert unmatched["action"]["body"]["alias"] == "llama-3.3-70b-specdec"
        assert all(item["description"] and "\n" not in item["description"] for item in found)

    def test_filter_by_kind_and_paginate(self, queue, reviewer):
        assert {i["kind"] for i in items(reviewer, "?kind=stale_price")} == {"stale_price"}
        assert {i["kind"] for i in items(reviewer, "?kind=offer_needs_review")} == {"offer_needs_review"}
        first = reviewer.get(URL + "?page_size=2").json()
        assert len(first["results"]) == 2 and first["count"] > 2 and first["next"]

    def test_following_an_action_resolves_the_item(self, queue, reviewer, curator):
        [lifecycle] = [
            i
            for i in items(reviewer, "?kind=lifecycle_contradiction&page_size=200")
            if i["subject"]["model"] == "gpt-4o" and i["action"]["url"].endswith("/models/gpt-4o/lifecycle")
        ]
        curation = client_with(issue_key([ApiScope.CURATION_WRITE], curator))
        body = {**lifecycle["action"]["body"], "status": "active", "reason": "still served"}
        body = {name: value for name, value in body.items() if value is not None}
        assert curation.post(lifecycle["action"]["url"], body, format="json").status_code == 200
        remaining = items(reviewer, "?kind=lifecycle_contradiction&page_size=200")
        assert lifecycle["description"] not in [i["description"] for i in remaining]

    def test_an_unmatched_row_goes_once_its_alias_exists_and_the_row_is_cleared(self, queue, reviewer):
        assert items(reviewer, "?kind=unmatched_price")
        UnmatchedPrice.objects.all().delete()
        assert items(reviewer, "?kind=unmatched_price") == []


class TestAdminPage:
    def test_the_admin_lists_the_queue_and_the_index_links_it(self, queue, admin_client):
        url = reverse("admin:catalog_model_review")
        assert url in admin_client.get(reverse("admin:index")).content.decode()
        page = admin_client.get(url).content.decode()
        assert "deepseek-r1" in page and "llama-3.3-70b-specdec" in page and "POST /api/v1/admin/models" in page
        only = admin_client.get(url + "?kind=stale_price").content.decode()
        assert "gpt-4o-mini" in only and "llama-3.3-70b-specdec" not in only
