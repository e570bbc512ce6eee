"""OpenRouter's own prices as a price feed, read from the snapshot archive (the real recorded catalogue replayed):
the registry's `openrouter` offers are confirmed or disputed by it, never overridden; an ingestion-created endpoint
offer takes the price OpenRouter states; an unchanged second run writes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.models import Mapping
from ingestion.models import OfferObservation, RunStatus, Tier
from ingestion.prices.feeds.openrouter_snapshot import OpenRouterSnapshotFeed, openrouter_fields
from ingestion.services import ingestion_run_source
from registry.loading import registry_load

pytestmark = pytest.mark.django_db


def test_pricing_in_catalogue_terms():
    fields = openrouter_fields(
        {"prompt": "0.0000025", "completion": "0.00001", "request": "0", "web_search": "0.004", "image": "0.003613"}
    )
    assert fields == {
        "price_input": Decimal("2.5"),
        "price_output": Decimal("10"),
        "price_per_request": Decimal("0"),
        "price_web_search": Decimal("4"),
    }
    assert openrouter_fields({"prompt": "-1", "completion": "x"}) == {}  # OpenRouter's -1 is "varies", not a price


def test_no_archive_no_statements():
    assert OpenRouterSnapshotFeed().fetch_prices() == []


class TestOnTheRealCatalogue:
    @pytest.fixture
    def synced(self, sync):
        registry_load()
        batch = sync(0)
        assert batch.complete
        return batch

    def test_registry_offers_are_checked_never_overridden(self, synced):
        statements = OpenRouterSnapshotFeed().fetch_prices()
        assert statements and all(s.provider == "openrouter" and s.observed_at == synced.hour for s in statements)
        run = ingestion_run_source(source="openrouter-snapshot")
        assert (run.status, run.tier) == (RunStatus.SUCCESS, Tier.PRICE_FEEDS)
        assert run.details["matched"] > 0
        observed = OfferObservation.objects.filter(source="openrouter-snapshot", field="price_input")
        registry_offers = Mapping.objects.filter(pk__in=observed.values("mapping"), source="registry")
        assert registry_offers.exists()
        for offer in registry_offers:
            entry = offer.provenance["price_input"]
            assert entry["source"] == "registry"  # the registry outranks even the provider's own word
            stated = Decimal(entry["values"]["openrouter-snapshot"])
            assert entry["disputed"] == (abs(stated - offer.price_input) > max(stated, offer.price_input) / 100)
        again = ingestion_run_source(source="openrouter-snapshot")
        assert again.details["observations_created"] == again.details["observations_updated"] == 0
        assert again.details["offers_updated"] == again.details["records_opened"] == 0
