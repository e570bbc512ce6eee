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

from catalog.models import Model, PriceRecord, Provider
from tests import recipes

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
    def test_queries_do_not_grow_with_offers_and_their_price_history(self, catalogue, client):
        model = Model.objects.get(slug="llama-3.3-70b-instruct")
        add_offers_with_history(model, 2, start=0)
        few, page = queries(client)
        assert "input price per million tokens over time" in page  # the chart is drawn from the histories
        add_offers_with_history(model, 58, start=2)
        many, page = queries(client)
        assert many == few
        assert "Host 59" in page

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
