"""`manage.py seed_price_history` on small real copies of the dated sources (tests/fixtures/prices_history)."""

from __future__ import annotations

import datetime as dt
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from model_bakery import baker

from catalog.models import Mapping, Model, PriceRecord, Provider
from ingestion.prices.history_seed import litellm_statements
from ingestion.prices.matching import price_statements_match
from registry.loading import registry_load
from tests import recipes

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "prices_history"
SMALL_REGISTRY = FIXTURES.parent / "registry_small"
LITELLM = sorted(str(path) for path in (FIXTURES / "litellm").glob("*.json"))
ARGS = ["--litellm", *LITELLM, "--openrouter-series", str(FIXTURES / "openrouter")]
ARGS += ["--genai-prices", str(FIXTURES / "genai-prices")]


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_price_history", *args, stdout=out)
    return out.getvalue()


def history(provider: str, provider_model_id: str) -> list[tuple]:
    records = PriceRecord.objects.filter(mapping__provider__slug=provider, mapping__provider_model_id=provider_model_id)
    return [
        (r.valid_from.date().isoformat(), r.valid_to and r.valid_to.date().isoformat(), r.source, r.prices)
        for r in records.order_by("valid_from")
    ]


@pytest.fixture
def catalogue(db, tmp_path):
    target = tmp_path / "registry"
    shutil.copytree(SMALL_REGISTRY, target)
    registry_load(path=target)
    # A registry load opens each offer's current price period; the seeding is for offers without a history yet.
    PriceRecord.objects.all().delete()


@pytest.fixture
def offers(catalogue):
    """The small registry plus an OpenRouter offer and an Anthropic one, named as the sources name them."""
    model = Model.objects.get(slug="deepseek-r1")
    openrouter = baker.make(Provider, slug="openrouter", name="OpenRouter")
    recipes.offer.make(provider=openrouter, model=model, provider_model_id="qwen/qwen3-coder-next")
    recipes.offer.make(provider=openrouter, model=model, provider_model_id="deepseek/deepseek-r1-0528")
    anthropic = baker.make(Provider, slug="anthropic", name="Anthropic")
    recipes.offer.make(provider=anthropic, model=model, provider_model_id="claude-sonnet-5")


class TestSeedPriceHistory:
    def test_a_litellm_price_change_is_two_contiguous_periods(self, offers):
        seed(*ARGS)
        assert history("deepseek", "deepseek-reasoner") == [
            (
                "2026-01-08",
                "2026-07-24",
                "litellm",
                {"price_input": "0.6", "price_output": "1.7", "price_cached_input": "0.06"},
            ),
            (
                "2026-07-24",
                None,
                "litellm",
                {"price_input": "0.28", "price_output": "0.42", "price_cached_input": "0.028"},
            ),
        ]

    def test_an_unchanged_price_is_one_open_period(self, offers):
        seed(*ARGS)
        [(start, end, source, prices)] = history("openai", "gpt-4o")
        assert (start, end, source) == ("2026-01-08", None, "litellm")
        assert prices == {
            "price_input": "2.5",
            "price_output": "10",
            "price_cached_input": "1.25",
            "price_batch_input": "1.25",
            "price_batch_output": "5",
        }
        assert [h[:3] for h in history("togetherai", "deepseek-ai/DeepSeek-R1")] == [("2026-01-08", None, "litellm")]

    def test_the_openrouter_daily_series_dates_each_change(self, offers):
        seed(*ARGS)
        assert [(s, e, p["price_input"]) for s, e, _, p in history("openrouter", "qwen/qwen3-coder-next")] == [
            ("2026-04-17", "2026-04-30", "0.15"),
            ("2026-04-30", "2026-05-01", "0.14"),
            ("2026-05-01", None, "0.12"),
        ]
        assert [h[:3] for h in history("openrouter", "deepseek/deepseek-r1-0528")] == [
            ("2026-04-17", None, "openrouter")
        ]

    def test_genai_prices_dated_constraints(self, offers):
        seed(*ARGS)
        assert [
            (s, e, src, p["price_input"], p["price_cache_write_1h"])
            for s, e, src, p in history("anthropic", "claude-sonnet-5")
        ] == [
            ("2026-07-29", "2026-09-01", "genai-prices", "2", "4"),
            ("2026-09-01", None, "genai-prices", "3", "6"),
        ]

    def test_only_offers_named_exactly_and_a_second_run_writes_nothing(self, offers):
        first = seed(*ARGS)
        assert "offers seeded: 7" in first and "unmatched:" in first
        assert PriceRecord.objects.values("mapping").distinct().count() == 7
        assert not PriceRecord.objects.filter(mapping__provider_model_id="gpt-4o-mini").exists()  # in no fixture
        count = PriceRecord.objects.count()
        second = seed(*ARGS)
        assert "records written: 0" in second and "already seeded: 7" in second
        assert PriceRecord.objects.count() == count

    def test_an_offer_the_matching_ties_only_through_its_model_is_not_seeded(self, offers):
        model = recipes.model.make(slug="claude-3-haiku", name="Claude 3 Haiku")
        recipes.alias.make(alias="claude-3-haiku-20240307", model=model)
        anthropic = Provider.objects.get(slug="anthropic")
        recipes.offer.make(provider=anthropic, model=model, provider_model_id="claude-3-haiku")
        statements = litellm_statements(Path(LITELLM[0]))
        assert [m.how for m in price_statements_match(statements).matched if m.mapping.model == model] == ["model"]
        assert "offers seeded: 7" in seed(*ARGS)
        assert history("anthropic", "claude-3-haiku") == []

    def test_an_offer_with_another_history_is_left_alone(self, offers):
        mapping = Mapping.objects.get(provider__slug="openai", provider_model_id="gpt-4o")
        live = PriceRecord.objects.create(
            mapping=mapping, valid_from=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), source="models.dev", prices={}
        )
        assert "other history: 1" in seed(*ARGS)
        assert list(PriceRecord.objects.filter(mapping=mapping)) == [live]

    def test_the_registry_period_a_load_opened_is_where_the_seeded_history_ends(self, offers):
        mapping = Mapping.objects.get(provider__slug="deepseek", provider_model_id="deepseek-reasoner")
        PriceRecord.objects.create(
            mapping=mapping,
            valid_from=dt.datetime(2026, 7, 2, tzinfo=dt.UTC),
            source="registry",
            prices={"price_input": "0.55"},
        )
        seed(*ARGS)
        assert [h[:3] for h in history("deepseek", "deepseek-reasoner")] == [
            ("2026-01-08", "2026-07-02", "litellm"),  # the July price came after the registry's: not history yet
            ("2026-07-02", None, "registry"),
        ]
        assert "already seeded: 7" in seed(*ARGS)

    def test_seeded_history_is_served_by_the_api(self, offers, client):
        seed(*ARGS)
        body = client.get("/api/models/deepseek-r1/providers?at=2026-03-01").json()
        assert {o["provider_model_id"]: o["price_input"] for o in body["results"]} == {
            "deepseek-reasoner": 0.6,
            "deepseek-ai/DeepSeek-R1": 3.0,
        }

    def test_no_source_or_a_missing_path_is_an_error(self, db):
        with pytest.raises(CommandError, match="at least one"):
            seed()
        with pytest.raises(CommandError, match="Not found"):
            seed("--openrouter-series", str(FIXTURES / "nowhere"))
