"""Applying price statements: observations, resolution by priority, dated history, and reruns that write nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Mapping, PriceRecord
from ingestion.models import IngestionRun, OfferObservation, OfferPin, Tier
from ingestion.prices.apply import ingestion_apply_prices
from ingestion.prices.registry_load import offers_shown_over_registry
from ingestion.prices.statements import PriceStatement
from registry.loading import registry_load
from tests.recipes import offer, provider

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")
JAN = dt.datetime(2026, 1, 8, tzinfo=dt.UTC)
JUL = dt.datetime(2026, 7, 24, tzinfo=dt.UTC)


def run(source: str = "litellm") -> IngestionRun:
    return IngestionRun.objects.create(source=source, tier=Tier.PRICE_FEEDS, status="success")


def stated(source: str, *, valid_from=None, observed_at=None, **prices) -> PriceStatement:
    return PriceStatement(
        source=source,
        provider_key="feed-provider",
        model_key="feed-model",
        fields={name: Decimal(value) for name, value in prices.items()},
        observed_at=observed_at or valid_from or dt.datetime(2026, 8, 1, tzinfo=dt.UTC),
        valid_from=valid_from,
    )


def apply(mapping: Mapping, *statements: PriceStatement):
    return ingestion_apply_prices(run=run(statements[0].source), statements=[(mapping, s) for s in statements])


def fresh(mapping: Mapping) -> Mapping:
    return Mapping.objects.get(pk=mapping.pk)


@pytest.fixture
def feed_offer():
    """An offer no registry file keeps (created by an automated source): feeds may set its prices."""
    return offer.make(source="openrouter", price_input=Decimal("1"), price_output=Decimal("2"))


@pytest.fixture
def registry_offer():
    return offer.make(source="registry", price_input=Decimal("3"), price_output=Decimal("15"))


class TestRegistryDisagreement:
    def test_feed_disagreeing_with_the_registry_is_disputed_and_changes_nothing(self, registry_offer):
        apply(registry_offer, stated("litellm", price_input="3.3", price_output="15"))
        shown = fresh(registry_offer)
        assert (shown.price_input, shown.price_output) == (Decimal("3"), Decimal("15"))
        entry = shown.provenance["price_input"]
        assert entry["source"] == "registry"
        assert entry["disputed"] is True
        assert entry["values"] == {"litellm": "3.3", "registry": "3"}
        assert entry["verified_by"] == []
        assert shown.provenance["price_output"]["verified_by"] == ["litellm"]
        assert Mapping.objects.filter(provenance__price_input__disputed=True).get() == shown


class TestAgreement:
    def test_two_feeds_agreeing_confirm_the_shown_value(self, registry_offer):
        apply(registry_offer, stated("litellm", price_input="0.000003e6", price_output="15.0"))
        apply(registry_offer, stated("genai-prices", price_input="3", price_output="15"))
        shown = fresh(registry_offer)
        assert shown.provenance["price_input"]["verified_by"] == ["genai-prices", "litellm"]
        assert shown.provenance["price_input"]["disputed"] is False
        assert shown.prices_checked is not None

    def test_feeds_by_agreement_outvote_a_single_feed(self, feed_offer):
        ingestion_apply_prices(
            run=run(),
            statements=[
                (feed_offer, stated("litellm", price_input="5")),
                (feed_offer, stated("genai-prices", price_input="5.01")),
                (feed_offer, stated("modelsdev", price_input="4")),
            ],
        )
        shown = fresh(feed_offer)
        assert shown.price_input == Decimal("5.01")  # genai-prices sorts first among the two agreeing feeds
        assert shown.provenance["price_input"]["verified_by"] == ["genai-prices", "litellm"]
        assert shown.provenance["price_input"]["disputed"] is True

    def test_a_tie_keeps_the_current_value(self, feed_offer):
        apply(feed_offer, stated("litellm", price_input="5"), stated("modelsdev", price_input="4"))
        shown = fresh(feed_offer)
        assert shown.price_input == Decimal("1")
        assert shown.provenance["price_input"]["disputed"] is True

    def test_the_providers_own_statement_beats_feeds(self, feed_offer):
        own = feed_offer.provider.slug
        apply(feed_offer, stated("litellm", price_input="5"), stated("genai-prices", price_input="5"))
        apply(feed_offer, stated(own, price_input="6"))
        shown = fresh(feed_offer)
        assert shown.price_input == Decimal("6")
        assert shown.provenance["price_input"]["source"] == own


class TestHistory:
    def test_a_litellm_price_change_opens_exactly_one_record(self, feed_offer):
        apply(feed_offer, stated("litellm", valid_from=JAN, price_input="2.5", price_output="10"))
        apply(feed_offer, stated("litellm", valid_from=JUL, price_input="2", price_output="8"))
        records = list(PriceRecord.objects.filter(mapping=feed_offer).order_by("valid_from"))
        assert [(r.valid_from, r.valid_to, r.prices, r.source) for r in records] == [
            (JAN, JUL, {"price_input": "2.5", "price_output": "10"}, "litellm"),
            (JUL, None, {"price_input": "2", "price_output": "8"}, "litellm"),
        ]
        assert fresh(feed_offer).price_output == Decimal("8")

    def test_first_sight_opens_the_first_record_even_without_a_change(self, registry_offer):
        apply(registry_offer, stated("litellm", price_input="3", price_output="15"))
        record = PriceRecord.objects.get(mapping=registry_offer)
        assert record.valid_to is None
        assert record.prices == {"price_input": "3", "price_output": "15"}

    def test_a_rerun_writes_no_rows(self, feed_offer, registry_offer):
        statements = [
            (feed_offer, stated("litellm", valid_from=JAN, price_input="2.5", price_output="10")),
            (feed_offer, stated("genai-prices", price_input="2.5")),
            (registry_offer, stated("litellm", price_input="3.3")),
        ]
        first = ingestion_apply_prices(run=run(), statements=statements)
        assert first["observations_created"] == 4
        second_run = run()
        with CaptureQueriesContext(connection) as queries:
            counts = ingestion_apply_prices(run=second_run, statements=statements)
        writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]
        assert writes == []
        assert counts["observations_created"] == counts["observations_updated"] == counts["offers_updated"] == 0
        assert OfferObservation.objects.count() == 4


class TestPinsAndRejections:
    def test_a_pin_survives_a_registry_load_and_a_feed_run(self, registry_dir):
        registry_load(path=registry_dir)
        mapping = Mapping.objects.get(provider_model_id="deepseek-reasoner")
        OfferPin.objects.create(mapping=mapping, field="price_input", value="0.42", reason="provider's page")
        apply(mapping, stated("litellm", price_input="0.55"))
        registry_load(path=registry_dir)
        apply(mapping, stated("litellm", price_input="0.56"))
        shown = fresh(mapping)
        assert shown.price_input == Decimal("0.42")
        assert shown.provenance["price_input"]["source"] == "pin"
        assert shown.provenance["price_input"]["disputed"] is True

    def test_a_registry_load_keeps_what_feeds_filled_and_writes_nothing_when_unchanged(self, registry_dir):
        registry_load(path=registry_dir)
        mapping = Mapping.objects.get(provider_model_id="deepseek-reasoner")
        assert mapping.price_web_search is None
        apply(mapping, stated("litellm", price_web_search="10", price_input=str(mapping.price_input)))
        checked = fresh(mapping).prices_checked
        history = Mapping.history.filter(id=mapping.pk).count()
        result = registry_load(path=registry_dir)
        shown = fresh(mapping)
        assert result.rows_written == 0 and Mapping.history.filter(id=mapping.pk).count() == history
        assert shown.price_web_search == Decimal("10") and shown.provenance["price_web_search"]["source"] == "litellm"
        assert shown.prices_checked == checked  # a load never moves a source's confirmation back
        assert shown.provenance["price_input"]["verified_by"] == ["litellm"]

    def test_a_registry_load_can_keep_pins_and_fed_fields(self, registry_offer):
        OfferPin.objects.create(mapping=registry_offer, field="price_input", value="2.9", reason="provider's page")
        apply(registry_offer, stated("litellm", price_output="15", price_web_search="10"))
        stated_now = {"price_input": "3", "price_output": "15", "price_web_search": None}
        shown = offers_shown_over_registry(registry_values={registry_offer.pk: stated_now})
        provenance = shown[registry_offer.pk].pop("provenance")
        assert shown == {registry_offer.pk: {"price_input": Decimal("2.9"), "price_web_search": Decimal("10")}}
        assert {name: provenance[name]["source"] for name in ("price_input", "price_output", "price_web_search")} == {
            "price_input": "pin",
            "price_output": "registry",
            "price_web_search": "litellm",
        }
        assert provenance["price_output"]["verified_by"] == ["litellm"]

    def test_a_rejected_source_leaves_the_vote(self, feed_offer):
        from ingestion.models import SourceRejection

        SourceRejection.objects.create(mapping=feed_offer, source="modelsdev", field="price_input", reason="×1000")
        apply(feed_offer, stated("litellm", price_input="5"), stated("modelsdev", price_input="4"))
        shown = fresh(feed_offer)
        assert shown.price_input == Decimal("5")
        assert shown.provenance["price_input"]["disputed"] is False
        assert "modelsdev" not in shown.provenance["price_input"]["values"]


def test_an_unknown_provider_slug_is_not_its_own_source():
    other = provider.make(slug="acme")
    mapping = offer.make(provider=other, source="openrouter", price_input=Decimal("1"))
    apply(mapping, stated("litellm", price_input="2"))
    assert fresh(mapping).provenance["price_input"]["source"] == "litellm"
