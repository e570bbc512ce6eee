"""The fast lane: precomputed answers served before Django, byte for byte and header for header what Django sends,
304s, CORS, the throttle, and never a stale body after a registry load, an ingestion run or an admin save."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Mapping, Model
from catalog.signals import catalogue_changed
from ingestion.models import IngestionRun, RunStatus
from ingestion.offers import ingestion_apply_offers
from modelgraph.api import precomputed
from tests.api.lane import call, make_apps
from tests.catalog.test_admin import form_data

pytestmark = pytest.mark.django_db

URLS = [
    "/api/models",
    "/api/models?page_size=5&ordering=-release_date",
    "/api/models/gpt-4o",
    "/api/models/openai/gpt-4o/providers",
    "/api/models/gpt-4o/compare",
    "/api/providers",
    "/api/providers/openai",
    "/api/resolve?name=gpt-4o-2024-08-06",
    "/api/catalog.json",
]
PER_REQUEST = {"x-request-id", "x-cache"}


def _empty(cache) -> None:
    """This test process's keys only (its KEY_PREFIX): parallel workers share the Redis database, and FLUSHDB
    would take theirs too."""
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture(params=["redis", "locmem"])
def backend(request, settings):
    """Every test on the configured cache (Redis) and on the embedded default's local memory."""
    if request.param == "locmem":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    _empty(cache)
    yield request.param
    _empty(cache)  # the hosts the lane noted: later tests' catalogue changes must not precompute for them


@pytest.fixture
def apps(backend):
    return make_apps()


def reload(registry, capture) -> None:
    from registry.loading import registry_load

    with capture(execute=True):
        registry_load(path=registry)


class TestSameAnswerAsDjango:
    @pytest.mark.parametrize("url", URLS)
    def test_hit_is_djangos_body_and_headers(self, catalogue, apps, url):
        rendered = call(apps.lane, url)
        assert rendered.status == 200 and apps.django_paths == [url.partition("?")[0]]
        hit = call(apps.lane, url)
        assert apps.django_paths == [url.partition("?")[0]]  # answered by the lane alone
        assert hit.status == 200 and hit.body == rendered.body
        assert hit["X-Cache"] == "HIT"
        assert sorted(hit.names) == sorted(rendered.names)  # the same headers, spelt as Django spells them
        assert {k: v for k, v in hit.headers.items() if k not in PER_REQUEST} == {
            k: v for k, v in rendered.headers.items() if k not in PER_REQUEST
        }
        assert hit["X-Request-Id"] != rendered["X-Request-Id"]

    @pytest.mark.parametrize("url", [url for url in URLS if "catalog.json" not in url])
    def test_304_and_cors_headers_as_django_sends_them(self, catalogue, apps, url):
        """Django answers list hits before DRF runs (modelgraph/api/http_cache.py), without DRF's `Allow`; its
        renders and every other answer send it, and so does the lane: the one header allowed to differ."""
        etag = call(apps.lane, url)["ETag"]
        for headers in ({"If-None-Match": etag}, {"Origin": "https://example.org"}):
            from_lane = call(apps.lane, url, **headers)
            count = len(apps.django_paths)
            from_django = call(apps.django, url, **headers)
            assert len(apps.django_paths) == count  # the lane answered alone
            assert from_lane.status == from_django.status
            assert set(from_lane.headers) - {"allow"} == set(from_django.headers) - {"allow"}
            assert from_lane["Allow"] == "GET, HEAD, OPTIONS"
            for name in from_django.headers.keys() - PER_REQUEST:
                assert from_lane.headers[name] == from_django.headers[name], name
            assert from_lane.body == from_django.body
        assert call(apps.lane, url, **{"Origin": "https://example.org"})["Access-Control-Allow-Origin"] == "*"

    def test_gzip_and_plain_downloads_are_kept_apart(self, catalogue, apps):
        plain = call(apps.lane, "/api/catalog.json")
        gzipped = call(apps.lane, "/api/catalog.json", **{"Accept-Encoding": "gzip"})
        assert gzipped["Content-Encoding"] == "gzip" and "content-encoding" not in plain.headers
        assert call(apps.lane, "/api/catalog.json", **{"Accept-Encoding": "gzip"}).body == gzipped.body
        assert call(apps.lane, "/api/catalog.json").body == plain.body
        assert apps.django_paths == ["/api/catalog.json"] * 2

    def test_other_requests_go_to_django(self, catalogue, apps):
        call(apps.lane, "/api/models")
        before = len(apps.django_paths)
        call(apps.lane, "/api/models", Accept="text/html")
        call(apps.lane, "/api/models?format=json")
        call(apps.lane, "/api/models", method="POST")
        call(apps.lane, "/api/models", **{"If-Modified-Since": "Thu, 01 Jan 2026 00:00:00 GMT"})
        call(apps.lane, "/api/price-changes")
        assert len(apps.django_paths) == before + 5

    def test_errors_are_not_kept(self, catalogue, apps):
        assert call(apps.lane, "/api/models/no-such-model").status == 404
        assert call(apps.lane, "/api/models/no-such-model").status == 404
        assert apps.django_paths == ["/api/models/no-such-model"] * 2

    def test_non_ascii_path_reaches_django_as_the_server_sent_it(self, catalogue, apps):
        """A server passes PATH_INFO as UTF-8 bytes decoded as latin-1 (PEP 3333): the lane must leave it so."""
        path = "/api/models/" + "gpt-模型".encode().decode("latin-1")
        answers = [call(apps.lane, path) for _ in range(2)]
        assert [answer.status for answer in answers] == [404, 404]
        assert "gpt-模型" in answers[0].json()["detail"]

    def test_query_order_does_not_matter(self, catalogue, apps):
        first = call(apps.lane, "/api/models?page_size=5&ordering=-release_date")
        again = call(apps.lane, "/api/models?ordering=-release_date&page_size=5")
        assert again["X-Cache"] == "HIT" and again.body == first.body and len(apps.django_paths) == 1


class TestThrottle:
    def test_lane_hits_count_against_the_public_throttle(self, catalogue, apps, settings):
        settings.API_THROTTLE_RATE = "3/min"
        assert [call(apps.lane, "/api/models").status for _ in range(3)] == [200, 200, 200]
        refused = call(apps.lane, "/api/models")
        assert refused.status == 429 and "retry-after" in refused.headers
        assert apps.django_paths == ["/api/models"] * 2  # the first render and the 429 only


class TestNeverStale:
    def test_registry_load(self, catalogue, apps, django_capture_on_commit_callbacks):
        before = call(apps.lane, "/api/models/gpt-4o")
        assert call(apps.lane, "/api/models/gpt-4o")["X-Cache"] == "HIT"
        path = catalogue / "mappings" / "openai" / "gpt-4o.yaml"
        path.write_text(path.read_text().replace("input: 2.5", "input: 2.0"))
        reload(catalogue, django_capture_on_commit_callbacks)
        after = call(apps.lane, "/api/models/gpt-4o")
        assert after.json()["min_price_input"] == 2.0 and before.json()["min_price_input"] == 2.5
        assert after["ETag"] != before["ETag"]

    def test_ingestion_run_changing_an_offer(self, catalogue, apps, django_capture_on_commit_callbacks):
        run = IngestionRun.objects.create(source="openrouter", tier=1, status=RunStatus.SUCCESS)
        url = "/api/models/deepseek-r1/providers?billing=all"

        def offers(price: str) -> list[dict]:
            return [
                {
                    "endpoint_id": "deepseek/deepseek-r1@together",
                    "openrouter_model_id": "deepseek/deepseek-r1",
                    "variant": "",
                    "served_by": "together",
                    "provider_slug": "together",
                    "tag": "together",
                    "price_input": Decimal(price),
                    "price_output": Decimal("7"),
                    "price_cached_input": None,
                    "price_cache_write": None,
                    "context_window": 163840,
                    "max_output": 32768,
                    "quantization": "",
                }
            ]

        with django_capture_on_commit_callbacks(execute=True):
            ingestion_apply_offers(run=run, offers=offers("3"))
        before = call(apps.lane, url)
        assert call(apps.lane, url)["X-Cache"] == "HIT"
        with django_capture_on_commit_callbacks(execute=True):
            counts = ingestion_apply_offers(run=run, offers=offers("2.5"))
        assert counts["offers_updated"] == 1
        after = call(apps.lane, url)
        prices = {o["provider_model_id"]: o["price_input"] for o in after.json()["results"]}
        assert prices["deepseek/deepseek-r1@together"] == 2.5 and after["ETag"] != before["ETag"]

    def test_admin_save(self, catalogue, apps, admin_client, django_capture_on_commit_callbacks):
        before = call(apps.lane, "/api/models/gpt-4o")
        assert call(apps.lane, "/api/models/gpt-4o")["X-Cache"] == "HIT"
        model = Model.objects.get(slug="gpt-4o")
        url = reverse("admin:catalog_model_change", args=[model.pk])
        data = form_data(admin_client.get(url)) | {"context_window": "131072", "change_reason": "docs"}
        with django_capture_on_commit_callbacks(execute=True):
            assert admin_client.post(url, data).status_code == 302
        after = call(apps.lane, "/api/models/gpt-4o")
        assert after.json()["context_window"] == 131072 != before.json()["context_window"]
        assert after["ETag"] != before["ETag"]

    def test_write_during_a_render_leaves_that_body_unserved(self, catalogue, apps):
        """The versions are read before Django renders: an entry built across a write is stale at once."""
        key = precomputed.entry_key("http", "testserver", "/api/providers", [], False)
        route = precomputed.route_for("/api/providers")
        found = precomputed.lookup(key, route, None)
        precomputed.store(key, route, found.versions, b"{}", [("Content-Type", "application/json"), ("ETag", '"x"')])
        assert precomputed.lookup(key, route, None).entry is not None
        offer = Mapping.objects.first()
        catalogue_changed.send(sender=None, model_ids={offer.model_id}, provider_ids={offer.provider_id})
        assert precomputed.lookup(key, route, None).entry is None
        assert call(apps.lane, "/api/providers").body != b"{}"


class TestEagerPrecompute:
    def test_hottest_answers_are_rendered_after_a_change(self, catalogue, apps):
        call(apps.lane, "/api/models")  # the API is asked under this host: it is precomputed for it
        offer = Mapping.objects.first()
        Mapping.objects.filter(pk=offer.pk).update(price_input=Decimal("0.01"))
        catalogue_changed.send(sender=None, model_ids={offer.model_id}, provider_ids={offer.provider_id})
        count = len(apps.django_paths)
        fresh = call(apps.lane, "/api/models")
        assert fresh["X-Cache"] == "HIT" and len(apps.django_paths) == count
        assert call(apps.lane, "/api/catalog.json", **{"Accept-Encoding": "gzip"})["X-Cache"] == "HIT"
        assert len(apps.django_paths) == count
        assert fresh.body == call(apps.django, "/api/models").body
