"""/api/models without the response cache: the unfiltered list (paged or not) is answered by the fast lane from
the stored rows (catalog/api/list_lane.py), byte for byte and header for header what Django answers; filters, bad
pages and anything else stay Django's, and a write shows at once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.models import Model
from tests.api.lane import call, make_apps
from tests.catalog.test_admin import form_data

pytestmark = pytest.mark.django_db

PER_REQUEST = {"x-request-id"}


@pytest.fixture
def apps(settings):
    settings.API_CACHE_ENABLED = False
    return make_apps()


def _same(django, lane) -> None:
    assert lane.status == django.status
    assert lane.body == django.body
    assert {k: v for k, v in lane.headers.items() if k not in PER_REQUEST} == {
        k: v for k, v in django.headers.items() if k not in PER_REQUEST
    }


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
def test_unfiltered_pages_are_the_lanes_and_djangos_bytes(catalogue, apps, url):
    call(apps.lane, "/api/models")  # Django's first 200 teaches the lane the route's headers
    paths = len(apps.django_paths)
    lane = call(apps.lane, url, origin="https://example.org")
    assert lane.status == 200 and len(apps.django_paths) == paths  # answered by the lane
    _same(call(apps.django, url, origin="https://example.org"), lane)


@pytest.mark.parametrize("url", DJANGO_URLS)
def test_everything_else_goes_to_django(catalogue, apps, url):
    call(apps.lane, "/api/models")
    paths = len(apps.django_paths)
    lane = call(apps.lane, url)
    assert len(apps.django_paths) == paths + 1
    _same(call(apps.django, url), lane)


def test_an_admin_save_shows_at_once(catalogue, apps, admin_client, django_capture_on_commit_callbacks):
    call(apps.lane, "/api/models")
    before = {row["slug"]: row for row in call(apps.lane, "/api/models?page_size=100").json()["results"]}
    model = Model.objects.get(slug="gpt-4o")
    url = reverse("admin:catalog_model_change", args=[model.pk])
    data = form_data(admin_client.get(url)) | {"context_window": "131072", "change_reason": "docs"}
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, data).status_code == 302
    paths = len(apps.django_paths)
    after = {row["slug"]: row for row in call(apps.lane, "/api/models?page_size=100").json()["results"]}
    assert len(apps.django_paths) == paths  # the lane's answer
    assert after["gpt-4o"]["context_window"] == 131072 != before["gpt-4o"]["context_window"]
