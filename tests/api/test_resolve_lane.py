"""/api/resolve without the response cache: names the in-process index resolves are answered by the fast lane
itself (catalog/api/resolve_lane.py), byte for byte and header for header what Django answers; everything else
(fuzzy answers, 404s, bad parameters, conditional requests, a throttled client) is still Django's."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from catalog.models import Alias, Model
from tests.api.lane import assert_same_answer, call

pytestmark = pytest.mark.django_db


def _names() -> list[str]:
    """Every slug and alias of the catalogue as stored, as users mangle them, and names only a near search (or
    nothing) fits."""
    slugs = list(Model.objects.values_list("slug", flat=True))
    aliases = list(Alias.objects.values_list("alias", flat=True))
    mangled = [f"  {slugs[0].upper()}  ", f"Some-Org/{slugs[1]}", f"{slugs[2]}:free", f"{slugs[3]}-2024-08-06"]
    others = [slugs[0][:-1], "no-such-model-at-all", "ßpecial ünicode", "a" * 301, "gpt 4o", "<script>"]
    return slugs + aliases + mangled + others


def test_every_answer_is_djangos(catalogue, uncached_apps):
    call(uncached_apps.lane, "/api/resolve?name=gpt-4o")  # Django's first 200 teaches the lane the route's headers
    lane_answered = 0
    for name in _names():
        url = f"/api/resolve?name={quote(name, safe='')}"
        django = call(uncached_apps.django, url, origin="https://example.org")
        before = len(uncached_apps.django_paths)
        lane = call(uncached_apps.lane, url, origin="https://example.org")
        assert_same_answer(django, lane)
        lane_answered += len(uncached_apps.django_paths) == before
    slugs_and_aliases = Model.objects.count() + Alias.objects.count()
    assert lane_answered >= slugs_and_aliases  # every exact name at least, and nothing Django had to answer


@pytest.mark.parametrize(
    "query",
    [
        "name=",
        "name=%20%20",
        "name=gpt-4o%00",
        "name=gpt-4o&name=claude",
        "name=gpt-4o&format=json",
        "name=gpt-4o&page=2",
        "nme=gpt-4o",
        "name=" + "x" * 301,
        "name=no-such-model-at-all",
    ],
)
def test_what_the_index_cannot_answer_goes_to_django(catalogue, uncached_apps, query):
    call(uncached_apps.lane, "/api/resolve?name=gpt-4o")
    django_before = len(uncached_apps.django_paths)
    lane = call(uncached_apps.lane, f"/api/resolve?{query}")
    assert len(uncached_apps.django_paths) == django_before + 1
    assert_same_answer(call(uncached_apps.django, f"/api/resolve?{query}"), lane)


def test_conditional_and_head_requests_go_to_django(catalogue, uncached_apps):
    first = call(uncached_apps.lane, "/api/resolve?name=gpt-4o")
    assert call(uncached_apps.lane, "/api/resolve?name=gpt-4o").body == first.body
    paths = len(uncached_apps.django_paths)
    assert call(uncached_apps.lane, "/api/resolve?name=gpt-4o", if_none_match=first["ETag"]).status == 304
    call(uncached_apps.lane, "/api/resolve?name=gpt-4o", method="HEAD")
    assert len(uncached_apps.django_paths) == paths + 2


def test_a_write_is_answered_at_once(catalogue, uncached_apps):
    call(uncached_apps.lane, "/api/resolve?name=gpt-4o")
    assert call(uncached_apps.lane, "/api/resolve?name=my-house-name").status == 404
    model = Model.objects.get(slug="gpt-4o")
    Alias.objects.create(alias="my-house-name", model=model)  # as an admin save writes it
    paths = len(uncached_apps.django_paths)
    answer = call(uncached_apps.lane, "/api/resolve?name=my-house-name")
    assert answer.status == 200 and answer.json()["model"]["slug"] == "gpt-4o"
    assert answer.json()["match"] == "exact_alias" and len(uncached_apps.django_paths) == paths  # by the lane
    Alias.objects.filter(alias="my-house-name").delete()
    assert call(uncached_apps.lane, "/api/resolve?name=my-house-name").status == 404


def test_the_throttle_counts_lane_answers(catalogue, uncached_apps, settings):
    from django.core.cache import cache

    cache.delete_pattern("api:throttle:*") if hasattr(cache, "delete_pattern") else cache.clear()
    settings.API_THROTTLE_RATE = "3/min"
    answers = [call(uncached_apps.lane, "/api/resolve?name=gpt-4o") for _ in range(5)]
    assert [a.status for a in answers] == [200, 200, 200, 429, 429]
    assert answers[3].json()["detail"] and "retry-after" in answers[3].headers
