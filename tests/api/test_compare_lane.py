"""/api/models/{id}/compare without the response cache: answered by the fast lane (catalog/api/compare_lane.py)
when the view would answer 200, byte for byte and header for header what Django answers; unknown models, bad
parameters and the rest stay Django's, and new telemetry or a write shows at once."""

from __future__ import annotations

import pytest
from django.db.models import Count

from catalog.models import Model
from tests.api.lane import assert_goes_to_django, assert_same_answer, call

pytestmark = pytest.mark.django_db


def test_every_models_compare_is_djangos(catalogue, uncached_apps):
    call(uncached_apps.lane, "/api/models/gpt-4o/compare")  # Django's first 200 teaches the lane the route's headers
    slugs = list(Model.objects.values_list("slug", flat=True))
    urls = [f"/api/models/{slug}/compare" for slug in slugs]
    busiest = Model.objects.annotate(offers=Count("mappings")).order_by("-offers").first()
    assert busiest.offers >= 2
    urls += ["/api/models/GPT-4o/compare/", f"/api/models/{busiest.slug}/compare?billing=all&page_size=1&page=2"]
    for url in urls:
        paths = len(uncached_apps.django_paths)
        lane = call(uncached_apps.lane, url, origin="https://example.org")
        assert lane.status == 200 and len(uncached_apps.django_paths) == paths, url  # the lane's answer
        assert_same_answer(call(uncached_apps.django, url, origin="https://example.org"), lane)


@pytest.mark.parametrize(
    "url",
    [
        "/api/models/no-such-model/compare",
        "/api/models/gpt-4o/compare?billing=some",
        "/api/models/gpt-4o/compare?page=99",
        "/api/models/gpt-4o/compare?page=1&page=2",
        "/api/models/gpt-4o/compare?sort=price",
    ],
)
def test_what_the_view_would_not_answer_200_goes_to_django(catalogue, uncached_apps, url):
    assert_goes_to_django(uncached_apps, "/api/models/gpt-4o/compare", url)


def test_a_renamed_provider_shows_at_once(catalogue, uncached_apps):
    call(uncached_apps.lane, "/api/models/gpt-4o/compare")
    before = call(uncached_apps.lane, "/api/models/gpt-4o/compare").json()
    provider = before["results"][0]["provider"]["slug"]
    from catalog.models import Provider

    Provider.objects.filter(slug=provider).update(name="Renamed Provider")
    after = call(uncached_apps.lane, "/api/models/gpt-4o/compare").json()
    assert after["results"][0]["provider"]["name"] == "Renamed Provider"
