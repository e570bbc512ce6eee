"""The model page with many offers and price histories: a fixed number of queries (its price chart read every
record's prices and source one query at a time: 2 per record), and its render kept by the page cache."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from model_bakery import baker

from catalog import cache_tags
from catalog.models import Model, PriceRecord, Provider
from modelgraph.api import cache as api_cache
from tests import recipes
from web.cache import PART_PREFIX

pytestmark = pytest.mark.django_db

URL = "/models/llama-3.3-70b-instruct"


def add_offers_with_history(model: Model, count: int, start: int) -> None:
    """`count` more offers of `model`, each with two dated price periods (a change: a drawn history)."""
    changed = timezone.now() - dt.timedelta(days=10)
    for i in range(start, start + count):
        provider = baker.make(Provider, slug=f"host-{i:03d}", name=f"Host {i}")
        offer = recipes.offer.make(
            provider=provider, model=model, provider_model_id=f"host/{i}", price_input=Decimal(i + 1)
        )
        PriceRecord.objects.create(
            mapping=offer,
            valid_from=changed - dt.timedelta(days=30),
            valid_to=changed,
            source="litellm",
            prices={"price_input": str(i + 2), "price_output": str(i + 3)},
        )
        PriceRecord.objects.create(
            mapping=offer, valid_from=changed, source="litellm", prices={"price_input": str(i + 1)}
        )


def queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    assert response.status_code == 200
    return len(captured), response.content.decode()


class TestModelPage:
    def test_queries_do_not_grow_with_offers_and_their_price_history(
        self, catalogue, client, django_capture_on_commit_callbacks
    ):
        model = Model.objects.get(slug="llama-3.3-70b-instruct")
        # Committed as in production: each write moves the catalogue's version on, so both renders read the page's
        # catalogue parts (a render under an unchanged version reads them from the cache: fewer queries).
        with django_capture_on_commit_callbacks(execute=True):
            add_offers_with_history(model, 2, start=0)
        few, page = queries(client)
        assert "input price per million tokens over time" in page  # the chart is drawn from the histories
        assert page.count('<g class="series"') == 2
        with django_capture_on_commit_callbacks(execute=True):
            add_offers_with_history(model, 58, start=2)
        many, page = queries(client)
        assert many == few
        assert "Host 59" in page
        assert page.count('<g class="series"') == 8  # the chart drawn anew: as many offers as it draws

    def test_page_cache_serves_the_render_until_the_catalogue_changes(
        self, catalogue, client, settings, django_capture_on_commit_callbacks
    ):
        settings.WEB_CACHE_ENABLED = True
        model = Model.objects.get(slug="llama-3.3-70b-instruct")
        assert client.get(URL)["X-Cache"] == "miss"
        assert client.get(URL)["X-Cache"] == "hit"
        with django_capture_on_commit_callbacks(execute=True):
            add_offers_with_history(model, 1, start=0)
        fresh = client.get(URL)
        assert fresh["X-Cache"] == "miss" and "Host 0" in fresh.content.decode()


class TestCataloguePartsOfTheModelPage:
    """A render the telemetry forced (the page cache misses after every probe round) reads the model, its aliases,
    offers, archive links and price periods from the part kept under the catalogue's and the archive's versions."""

    def test_a_render_under_unchanged_versions_reads_only_telemetry(self, catalogue, client):
        first, page = queries(client)
        with CaptureQueriesContext(connection) as again:
            assert client.get(URL).content.decode() == page
        tables = " ".join(query["sql"] for query in again.captured_queries)
        assert len(again) < first
        assert not any(name in tables for name in ("catalog_model", "catalog_alias", "catalog_mapping", "snapshots_"))

    def test_a_committed_price_change_shows_at_once(self, catalogue, client, django_capture_on_commit_callbacks):
        model = Model.objects.get(slug="llama-3.3-70b-instruct")
        assert "Host 0" not in queries(client)[1]
        with django_capture_on_commit_callbacks(execute=True):
            add_offers_with_history(model, 1, start=0)
        page = queries(client)[1]
        assert "Host 0" in page and "Host 0 · host/0: input $2, output $3 per million tokens" in page

    def test_a_snapshot_batch_reads_the_parts_again(self, catalogue, client):
        first, _ = queries(client)
        api_cache.bump([cache_tags.SNAPSHOTS])  # what every snapshot sync does when it ends
        assert queries(client)[0] == first

    def test_without_the_cache_every_render_reads_the_database(self, catalogue, client):
        first, page = queries(client)
        api_cache.breaker.trip("test")
        assert queries(client) == (first, page)
        assert queries(client) == (first, page)

    def test_an_unknown_name_is_not_kept(self, catalogue, client):
        from django.core.cache import cache

        assert client.get("/models/no-such-model").status_code == 404
        assert not cache.keys(f"{PART_PREFIX}*")
        client.get(URL)
        assert len(cache.keys(f"{PART_PREFIX}*")) == 1
