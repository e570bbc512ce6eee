"""OpenRouter's endpoints as offers: mappings with provenance "openrouter", never over a registry offer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Mapping, Provider
from ingestion.models import IngestionRun, RunStatus
from ingestion.offers import ingestion_apply_offers
from ingestion.services import ingestion_run_source
from registry.loading import registry_load

pytestmark = pytest.mark.django_db


def offer(model: str, provider_slug: str, provider_name: str, pmid: str | None, price_in: str, price_out: str):
    return {
        "openrouter_model_id": model,
        "provider_slug": provider_slug,
        "provider_name": provider_name,
        "provider_model_id": pmid,
        "price_input": Decimal(price_in),
        "price_output": Decimal(price_out),
        "price_cached_input": None,
        "price_cache_write": None,
        "context_window": 163840,
        "max_output": 32768,
        "quantization": "fp8",
    }


OFFERS = [
    offer("deepseek/deepseek-r1", "together", "Together", "deepseek-ai/DeepSeek-R1", "3.000000", "7.000000"),
    offer("deepseek/deepseek-r1", "deepinfra", "DeepInfra", "deepseek-ai/DeepSeek-R1", "0.500000", "2.150000"),
    offer("meta-llama/llama-3.3-70b-instruct", "groq", "Groq", "llama-3.3-70b-versatile", "0.600000", "0.800000"),
    offer("nobody/unknown-model-9000", "together", "Together", None, "1.000000", "1.000000"),
]


@pytest.fixture
def run(registry_dir):
    registry_load(path=registry_dir)
    return IngestionRun.objects.create(source="openrouter", tier=1, status=RunStatus.SUCCESS)


class TestApplyOffers:
    def test_new_offer_becomes_a_mapping_with_openrouter_provenance(self, run):
        counts = ingestion_apply_offers(run=run, offers=OFFERS)
        mapping = Mapping.objects.get(provider__slug="deepinfra", provider_model_id="deepseek-ai/DeepSeek-R1")
        assert (mapping.model.slug, mapping.source, mapping.in_registry) == ("deepseek-r1", "openrouter", False)
        assert (mapping.price_input, mapping.price_output) == (Decimal("0.5"), Decimal("2.15"))
        assert mapping.history.first().history_change_reason == "ingestion: openrouter"
        assert counts["unmatched"] == 1

    def test_unknown_provider_is_created_outside_the_registry(self, run):
        ingestion_apply_offers(run=run, offers=OFFERS)
        assert Provider.objects.get(slug="deepinfra").in_registry is False

    def test_aggregator_never_overwrites_a_registry_offer(self, run):
        counts = ingestion_apply_offers(run=run, offers=OFFERS)
        registry_offer = Mapping.objects.get(provider__slug="togetherai", provider_model_id="deepseek-ai/DeepSeek-R1")
        assert (registry_offer.source, registry_offer.price_input) == ("registry", Decimal("3"))
        groq = Mapping.objects.get(provider__slug="groq", provider_model_id="llama-3.3-70b-versatile")
        assert groq.price_input == Decimal("0.59")  # the registry's, not OpenRouter's 0.60
        assert counts["registry_kept"] == 2

    def test_reapplying_the_same_batch_writes_nothing(self, run):
        ingestion_apply_offers(run=run, offers=OFFERS)
        with CaptureQueriesContext(connection) as queries:
            counts = ingestion_apply_offers(run=run, offers=OFFERS)
        writes = [q for q in queries.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]
        assert writes == [] and (counts["offers_added"], counts["offers_updated"]) == (0, 0)

    def test_a_changed_price_updates_the_openrouter_mapping(self, run):
        ingestion_apply_offers(run=run, offers=OFFERS)
        changed = [dict(OFFERS[1], price_input=Decimal("0.450000"))]
        assert ingestion_apply_offers(run=run, offers=changed)["offers_updated"] == 1
        assert Mapping.objects.get(provider__slug="deepinfra").price_input == Decimal("0.45")


def test_openrouter_run_without_a_complete_batch_is_skipped(db):
    run = ingestion_run_source(source="openrouter")
    assert (run.status, run.error_message) == (RunStatus.SKIPPED, "no complete snapshot batch yet")


def test_endpoints_without_a_provider_id_are_told_apart_by_their_tag(run):
    fast = dict(offer("deepseek/deepseek-r1", "fireworks", "Fireworks", None, "3", "8"), tag="fireworks/fast")
    plain = dict(offer("deepseek/deepseek-r1", "fireworks", "Fireworks", None, "1", "4"), tag="fireworks")
    ingestion_apply_offers(run=run, offers=[fast, plain])
    ids = set(Mapping.objects.filter(provider__slug="fireworks").values_list("provider_model_id", flat=True))
    assert ids == {"deepseek/deepseek-r1", "deepseek/deepseek-r1@fireworks/fast"}
