"""/api/models without the response cache: the unfiltered list (paged or not) is answered by the fast lane from
the stored rows (catalog/api/list_lane.py), byte for byte and header for header what Django answers; filters, bad
pages and anything else stay Django's, and a write shows at once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.models import Model
from tests.api.lane import assert_goes_to_django, assert_same_answer, call
from tests.catalog.test_admin import form_data

pytestmark = pytest.mark.django_db


LANE_URLS = [
    "/api/models",
    "/api/models/",
    "/api/models?page=2&page_size=2",
    "/api/models?page_size=5",
    "/api/models?page=2&page_size=3",
    "/api/models?page_size=3&page=last",
    "/api/models?page_size=100",
]
DJANGO_URLS = [
    "/api/models?page_size=1000",
    "/api/models?page=999",
    "/api/models?page=abc",
    "/api/models?page=0",
    "/api/models?page_size=-1",
    "/api/models?page=1&page=2",
    "/api/models?search=gpt",
    "/api/models?ordering=-release_date",
    "/api/models?review=all",
    "/api/models?format=json",
]


@pytest.mark.parametrize("url", LANE_URLS)
def test_unfiltered_pages_are_the_lanes_and_djangos_bytes(catalogue, uncached_apps, url):
    call(uncached_apps.lane, "/api/models")  # Django's first 200 teaches the lane the route's headers
    paths = len(uncached_apps.django_paths)
    lane = call(uncached_apps.lane, url, origin="https://example.org")
    assert lane.status == 200 and len(uncached_apps.django_paths) == paths  # answered by the lane
    assert_same_answer(call(uncached_apps.django, url, origin="https://example.org"), lane)


@pytest.mark.parametrize("url", DJANGO_URLS)
def test_everything_else_goes_to_django(catalogue, uncached_apps, url):
    assert_goes_to_django(uncached_apps, "/api/models", url)


def test_an_admin_save_shows_at_once(catalogue, uncached_apps, admin_client, django_capture_on_commit_callbacks):
    call(uncached_apps.lane, "/api/models")
    before = {row["slug"]: row for row in call(uncached_apps.lane, "/api/models?page_size=100").json()["results"]}
    model = Model.objects.get(slug="gpt-4o")
    url = reverse("admin:catalog_model_change", args=[model.pk])
    data = form_data(admin_client.get(url)) | {"context_window": "131072", "change_reason": "docs"}
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, data).status_code == 302
    paths = len(uncached_apps.django_paths)
    after = {row["slug"]: row for row in call(uncached_apps.lane, "/api/models?page_size=100").json()["results"]}
    assert len(uncached_apps.django_paths) == paths  # the lane's answer
    assert after["gpt-4o"]["context_window"] == 131072 != before["gpt-4o"]["context_window"]
