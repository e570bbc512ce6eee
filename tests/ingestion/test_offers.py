"""OpenRouter's endpoints as offers of the `openrouter` provider (never of the upstream one that serves them)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Mapping, Provider
from ingestion.models import IngestionRun, RunStatus
from ingestion.offers import endpoint_id, ingestion_apply_offers, split_variant
from ingestion.services import ingestion_run_source
from registry.loading import registry_load

pytestmark = pytest.mark.django_db


def offer(model: str, tag: str, price_in: str, price_out: str, quantization: str = "fp8") -> dict:
    served_by = tag.split("/")[0]
    return {
        "endpoint_id": f"{model}@{tag}",
        "openrouter_model_id": model,
        "variant": model.partition(":")[2],
        "served_by": served_by,
        "provider_slug": served_by,
        "tag": tag,
        "price_input": Decimal(price_in),
        "price_output": Decimal(price_out),
        "price_cached_input": None,
        "price_cache_write": None,
        "context_window": 163840,
        "max_output": 32768,
        "quantization": quantization,
    }


OFFERS = [
    offer("deepseek/deepseek-r1", "together", "3.000000", "7.000000", ""),
    offer("deepseek/deepseek-r1", "deepinfra/fp8", "0.500000", "2.150000"),
    offer("deepseek/deepseek-r1:free", "chutes", "0", "0", ""),
    offer("openai/gpt-4o:extended", "openai", "6.000000", "18.000000", ""),
    offer("nobody/unknown-model-9000", "together", "1.000000", "1.000000"),
]


@pytest.fixture
def run(registry_dir):
    registry_load(path=registry_dir)  # the small registry: no `openrouter` provider yet
    return IngestionRun.objects.create(source="openrouter", tier=1, status=RunStatus.SUCCESS)


def test_a_variant_is_whatever_follows_the_colon():
    assert split_variant("openai/gpt-4o:extended") == ("openai/gpt-4o", "extended")
    assert split_variant("z-ai/glm-4.6:batch") == ("z-ai/glm-4.6", "batch")
    assert split_variant("deepseek/deepseek-r1") == ("deepseek/deepseek-r1", "")


def test_an_offer_without_an_endpoint_id_gets_one_from_its_tag():
    bare = {k: v for k, v in OFFERS[1].items() if k != "endpoint_id"}
    assert endpoint_id(bare) == "deepseek/deepseek-r1@deepinfra/fp8"


class TestApplyOffers:
    def test_every_endpoint_becomes_an_offer_of_openrouter(self, run):
        counts = ingestion_apply_offers(run=run, offers=OFFERS)
        created = Mapping.objects.filter(source="openrouter")
        assert set(created.values_list("provider__slug", flat=True)) == {"openrouter"}
        assert counts["offers_added"] == created.count() == 4 and counts["unmatched"] == 1
        provider = Provider.objects.get(slug="openrouter")
        assert provider.in_registry is False  # created: the small registry has none
        assert not Provider.objects.filter(slug__in=["deepinfra", "chutes"]).exists()

    def test_served_by_quantization_and_variant_are_recorded(self, run):
        ingestion_apply_offers(run=run, offers=OFFERS)
        fp8 = Mapping.objects.get(provider__slug="openrouter", provider_model_id="deepseek/deepseek-r1@deepinfra/fp8")
        assert (fp8.model.slug, fp8.served_by, fp8.quantization, fp8.variant) == ("deepseek-r1", "deepinfra", "fp8", "")
        assert (fp8.price_input, fp8.price_output, fp8.in_registry) == (Decimal("0.5"), Decimal("2.15"), False)
        assert fp8.history.first().history_change_reason == "ingestion: openrouter"
        extended = Mapping.objects.get(provider_model_id="openai/gpt-4o:extended@openai")
        assert (extended.provider.slug, extended.served_by, extended.variant) == ("openrouter", "openai", "extended")
        # The registry's OpenAI offer of gpt-4o is untouched by OpenRouter's $6/$18.
        assert not Mapping.objects.filter(provider__slug="openai", source="openrouter").exists()

    def test_a_variant_suffix_never_changes_the_model(self, run):
        ingestion_apply_offers(run=run, offers=OFFERS)
        free = Mapping.objects.get(provider_model_id="deepseek/deepseek-r1:free@chutes")
        extended = Mapping.objects.get(provider_model_id="openai/gpt-4o:extended@openai")
        assert (free.model.slug, free.variant) == ("deepseek-r1", "free")
        assert extended.model.slug == "gpt-4o"

    def test_aggregator_never_overwrites_a_registry_offer(self, run):
        openrouter = Provider.objects.create(slug="openrouter", name="OpenRouter")
        curated = Mapping.objects.create(
            provider=openrouter,
            model=Mapping.objects.get(provider__slug="togetherai", provider_model_id="deepseek-ai/DeepSeek-R1").model,
            provider_model_id="deepseek/deepseek-r1@together",
            price_input=Decimal("2.5"),
            source="registry",
        )
        counts = ingestion_apply_offers(run=run, offers=OFFERS)
        curated.refresh_from_db()
        assert (curated.source, curated.price_input, curated.served_by) == ("registry", Decimal("2.5"), "")
        assert counts["registry_kept"] == 1 and counts["offers_added"] == 3

    def test_reapplying_the_same_batch_writes_nothing(self, run):
        ingestion_apply_offers(run=run, offers=OFFERS)
        with CaptureQueriesContext(connection) as queries:
            counts = ingestion_apply_offers(run=run, offers=OFFERS)
        writes = [q for q in queries.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
        assert writes == [] and (counts["offers_added"], counts["offers_updated"]) == (0, 0)

    def test_a_changed_price_updates_the_openrouter_offer(self, run):
        ingestion_apply_offers(run=run, offers=OFFERS)
        changed = [dict(OFFERS[1], price_input=Decimal("0.450000"))]
        assert ingestion_apply_offers(run=run, offers=changed)["offers_updated"] == 1
        assert Mapping.objects.get(provider_model_id="deepseek/deepseek-r1@deepinfra/fp8").price_input == Decimal(
            "0.45"
        )


class TestMisfiledOffers:
    """Rows an earlier sync filed on upstream providers (source "openrouter", provider not `openrouter`)."""

    def misfile(self, provider_slug: str, provider_model_id: str) -> Mapping:
        provider, _ = Provider.objects.get_or_create(slug=provider_slug, defaults={"name": provider_slug})
        model = Mapping.objects.get(provider__slug="togetherai", provider_model_id="deepseek-ai/DeepSeek-R1").model
        return Mapping.objects.create(
            provider=provider,
            model=model,
            provider_model_id=provider_model_id,
            in_registry=False,
            source="openrouter",
            price_input=Decimal("0.5"),
        )

    def test_the_next_run_deletes_them_with_a_history_reason(self, run):
        stale = self.misfile("deepinfra", "deepseek/deepseek-r1@deepinfra/fp8")
        ingestion_apply_offers(run=run, offers=OFFERS)
        assert not Mapping.objects.filter(pk=stale.pk).exists()
        record = Mapping.history.filter(id=stale.pk).latest("history_date")
        assert record.history_type == "-"
        assert record.history_change_reason == "ingestion: openrouter endpoint misfiled on its upstream provider"
        # Its endpoint now lives where it belongs.
        assert Mapping.objects.get(provider_model_id="deepseek/deepseek-r1@deepinfra/fp8").provider.slug == "openrouter"

    def test_registry_offers_of_the_upstream_provider_stay(self, run):
        self.misfile("openai", "openai/gpt-4o:extended")
        before = set(Mapping.objects.filter(source="registry").values_list("pk", "price_input"))
        counts = ingestion_apply_offers(run=run, offers=OFFERS)
        assert counts["misfiled_removed"] == 1
        assert set(Mapping.objects.filter(source="registry").values_list("pk", "price_input")) == before
        assert not Mapping.objects.filter(source="openrouter").exclude(provider__slug="openrouter").exists()


def test_openrouter_run_without_a_complete_batch_is_skipped(db):
    run = ingestion_run_source(source="openrouter")
    assert (run.status, run.error_message) == (RunStatus.SKIPPED, "no complete snapshot batch yet")


def test_endpoints_of_one_upstream_are_told_apart_by_their_tag(run):
    fast = offer("deepseek/deepseek-r1", "fireworks/fast", "3", "8", "")
    plain = offer("deepseek/deepseek-r1", "fireworks", "1", "4", "")
    ingestion_apply_offers(run=run, offers=[fast, plain])
    ids = set(Mapping.objects.filter(served_by="fireworks").values_list("provider_model_id", flat=True))
    assert ids == {"deepseek/deepseek-r1@fireworks", "deepseek/deepseek-r1@fireworks/fast"}


def test_a_fact_longer_than_its_column_is_skipped_never_cut_short(run):
    long_variant = offer("deepseek/deepseek-r1:" + "x" * 40, "chutes", "1", "1", "")
    counts = ingestion_apply_offers(run=run, offers=[long_variant, OFFERS[0]])
    assert (counts["invalid"], counts["offers_added"]) == (1, 1)
    assert not Mapping.objects.filter(provider_model_id__startswith="deepseek/deepseek-r1:x").exists()


def test_the_api_shows_who_serves_an_openrouter_offer_and_its_variant(run, client):
    ingestion_apply_offers(run=run, offers=OFFERS)
    body = client.get("/api/models/deepseek-r1/providers?page_size=50").json()
    rows = {(r["provider"]["slug"], r["provider_model_id"]): r for r in body["results"]}
    free = rows[("openrouter", "deepseek/deepseek-r1:free@chutes")]
    assert (free["served_by"], free["variant"], free["in_registry"]) == ("chutes", "free", False)
    assert rows[("togetherai", "deepseek-ai/DeepSeek-R1")]["served_by"] == ""
