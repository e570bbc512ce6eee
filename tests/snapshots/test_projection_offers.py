"""A snapshot projection over the real OpenRouter bodies: every offer it creates is an offer of `openrouter`.

The replay (tests/snapshots/replay.py) serves the real recorded catalogue of 2025-05-20 and, one hour later, the
real frontend body of 2025-05-25; the bundled registry supplies the models the endpoints are matched to.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.models import Mapping, Provider
from ingestion.models import RunStatus
from ingestion.services import ingestion_run_source
from registry.loading import registry_load
from snapshots.projection import openrouter_offers
from tests.snapshots.replay import Catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue() -> Catalogue:
    """The whole real catalogue, not the 40-model cut: every variant and every upstream provider it has."""
    return Catalogue()


@pytest.fixture
def projected(sync, catalogue):
    """The bundled registry, then the newest real body synced and projected into the catalogue."""
    registry_load()
    sync(0)
    catalogue.advance()
    batch = sync(1)
    assert batch.complete
    run = ingestion_run_source(source="openrouter")
    assert run.status == RunStatus.SUCCESS
    return run


def by_endpoint() -> dict[str, Mapping]:
    return {m.provider_model_id: m for m in Mapping.objects.filter(source="openrouter").select_related("provider")}


class TestProjectionOfTheNewestRealBody:
    def test_every_offer_is_openrouter_s_with_its_upstream_quantization_and_variant(self, projected):
        offers = {o["endpoint_id"]: o for o in openrouter_offers()}
        rows = by_endpoint()
        assert len(rows) == projected.details["offers_added"] > 0
        assert {m.provider.slug for m in rows.values()} == {"openrouter"}
        assert len(offers) == len(rows) + projected.details.get("unmatched", 0)
        assert len({m.served_by for m in rows.values()}) > 10
        # No upstream provider was created for the endpoints it serves.
        assert not Provider.objects.filter(in_registry=False).exclude(slug="openrouter").exists()
        for endpoint, mapping in rows.items():
            source = offers[endpoint]
            assert (mapping.served_by, mapping.quantization) == (source["served_by"], source["quantization"])
            assert mapping.variant == source["openrouter_model_id"].partition(":")[2]
            assert endpoint.startswith(source["openrouter_model_id"] + "@")
        assert any(m.quantization == "fp8" for m in rows.values())
        assert {m.variant for m in rows.values()} >= {"", "free", "beta", "extended"}

    def test_free_and_extended_are_distinct_offers_of_the_base_model_and_a_rerun_is_a_no_op(self, projected):
        rows = by_endpoint()
        plain = rows["openai/gpt-4o@openai"]
        extended = rows["openai/gpt-4o:extended@openai"]
        assert plain.pk != extended.pk and plain.model_id == extended.model_id
        assert (extended.variant, extended.served_by) == ("extended", "openai")
        assert (extended.price_input, extended.price_output) == (Decimal("6"), Decimal("18"))
        free = [m for k, m in rows.items() if k.startswith("deepseek/deepseek-chat-v3-0324:free@")]
        paid = [m for k, m in rows.items() if k.startswith("deepseek/deepseek-chat-v3-0324@")]
        assert free and paid and {m.model_id for m in free} == {m.model_id for m in paid}
        assert all(m.variant == "free" and m.price_input == 0 for m in free)
        assert all(m.variant == "" for m in paid)
        # A rerun over the same batch is a no-op.
        before = set(Mapping.objects.values_list("pk", "provider_id", "provider_model_id", "updated_at"))
        again = ingestion_run_source(source="openrouter")
        counts = [again.details.get(k, 0) for k in ("offers_added", "offers_updated", "misfiled_removed")]
        assert counts == [0, 0, 0]
        assert set(Mapping.objects.values_list("pk", "provider_id", "provider_model_id", "updated_at")) == before


def test_offers_an_earlier_sync_filed_on_upstream_providers_are_cleaned(sync, catalogue):
    """The pre-fix projection filed `deepseek/…@deepinfra/fp8` under Deep Infra and `openai/gpt-4o:extended`
    under OpenAI; the next run removes those rows and files the endpoints under `openrouter`."""
    registry_load()
    sync(0)
    deepinfra, openai = Provider.objects.get(slug="deepinfra"), Provider.objects.get(slug="openai")
    gpt_4o = Mapping.objects.filter(provider=openai, source="registry", provider_model_id="gpt-4o").get().model
    registry_rows = set(Mapping.objects.filter(source="registry").values_list("pk", "price_input", "price_output"))
    stale = [
        Mapping.objects.create(
            provider=openai,
            model=gpt_4o,
            provider_model_id="openai/gpt-4o:extended",
            price_input=Decimal(6),
            price_output=Decimal(18),
            in_registry=False,
            source="openrouter",
        ),
        Mapping.objects.create(
            provider=deepinfra,
            model=gpt_4o,
            provider_model_id="openai/gpt-4o@deepinfra/fp8",
            in_registry=False,
            source="openrouter",
        ),
    ]
    run = ingestion_run_source(source="openrouter")
    assert run.details["misfiled_removed"] == 2
    assert not Mapping.objects.filter(pk__in=[m.pk for m in stale]).exists()
    assert not Mapping.objects.filter(source="openrouter").exclude(provider__slug="openrouter").exists()
    assert set(Mapping.objects.filter(source="registry").values_list("pk", "price_input", "price_output")) == (
        registry_rows
    )
    for mapping in stale:
        assert Mapping.history.filter(id=mapping.pk, history_type="-").exists()
