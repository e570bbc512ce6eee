"""Price statements matched to our offers: exact ids, feed ids, aliases, Bedrock profiles, and refusals to guess."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import Model, Provider
from ingestion.models import IngestionRun, Tier, UnmatchedPrice
from ingestion.prices.feeds import LiteLLMFeed
from ingestion.prices.matching import price_statements_match, unmatched_prices_record
from ingestion.prices.statements import PriceStatement
from registry.loading import registry_load
from tests.recipes import offer

pytestmark = pytest.mark.django_db

LITELLM_JULY = (
    Path(__file__).resolve().parents[2] / "fixtures/prices/litellm/model_prices_and_context_window_2026-07-24.json"
)
OBSERVED = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)


@pytest.fixture
def catalogue(registry_dir):
    """The small real registry: openai gpt-4o/gpt-4o-mini, groq and togetherai llama-3.3-70b, deepseek-r1 …"""
    registry_load(path=registry_dir)


@pytest.fixture
def bedrock(catalogue):
    """Amazon Bedrock serving Claude Opus 4.5 under its on-demand id."""
    claude = Model.objects.create(slug="claude-opus-4-5", name="Claude Opus 4.5")
    amazon = Provider.objects.create(slug="amazon-bedrock", name="Amazon Bedrock")
    return offer.make(provider=amazon, model=claude, provider_model_id="anthropic.claude-opus-4-5-20251101-v1:0")


def stated(model_key: str, provider: str | None, *, source="litellm", provider_key=None, notes=(), **prices):
    return PriceStatement(
        source=source,
        provider_key=provider_key or provider or "elsewhere",
        model_key=model_key,
        fields={name: Decimal(value) for name, value in (prices or {"price_input": "1"}).items()},
        observed_at=OBSERVED,
        provider=provider,
        notes=notes,
    )


def matched(result) -> dict[str, tuple[str, str, str]]:
    return {
        m.statement.model_key: (m.mapping.provider.slug, m.mapping.provider_model_id, m.how) for m in result.matched
    }


def unmatched(result) -> dict[str, tuple[str, str]]:
    return {u.statement.model_key: (u.kind, u.reason) for u in result.unmatched}


class TestMatching:
    def test_the_exact_provider_and_id_matches_first(self, catalogue):
        result = price_statements_match([stated("gpt-4o", "openai"), stated("gpt-4o-mini", "openai")])
        assert matched(result) == {
            "gpt-4o": ("openai", "gpt-4o", "exact"),
            "gpt-4o-mini": ("openai", "gpt-4o-mini", "exact"),
        }
        assert result.unmatched == [] and result.rate == 1.0

    def test_the_providers_own_id_inside_a_feed_key(self, catalogue):
        result = price_statements_match(
            [
                stated("groq/llama-3.3-70b-versatile", "groq", provider_key="groq"),
                stated("together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", "togetherai", provider_key="together_ai"),
            ]
        )
        assert matched(result) == {
            "groq/llama-3.3-70b-versatile": ("groq", "llama-3.3-70b-versatile", "feed-id"),
            "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo": (
                "togetherai", "meta-llama/Llama-3.3-70B-Instruct-Turbo", "feed-id",
            ),
        }  # fmt: skip

    def test_an_id_a_genai_prices_match_rule_names(self, catalogue):
        row = stated("deepseek-r1", "deepseek", source="genai-prices", notes=("match:equals:deepseek-reasoner",))
        assert matched(price_statements_match([row])) == {"deepseek-r1": ("deepseek", "deepseek-reasoner", "feed-id")}

    def test_an_alias_resolves_to_the_one_offer_of_its_model(self, catalogue):
        # "openai/gpt-4o" is an alias of gpt-4o in the registry, which OpenAI offers once
        result = price_statements_match([stated("openai/gpt-4o", "openai")])
        assert matched(result) == {"openai/gpt-4o": ("openai", "gpt-4o", "model")}

    def test_two_offers_of_the_named_model_are_ambiguous_never_guessed(self, catalogue):
        together = Provider.objects.get(slug="togetherai")
        offer.make(provider=together, model=Model.objects.get(slug="deepseek-r1"), provider_model_id="deepseek-r1-fp8")
        result = price_statements_match([stated("deepseek-r1", "togetherai")])
        assert result.matched == []
        kind, reason = unmatched(result)["deepseek-r1"]
        assert kind == "offer" and reason.startswith("ambiguous: 2 offers of this model at togetherai")

    def test_unknown_providers_and_ids_are_listed_with_the_reason(self, catalogue):
        result = price_statements_match(
            [
                stated("azure_ai/grok-3", None, provider_key="azure_ai"),
                stated("grok-3", "xai"),
                stated("gpt-17-ultra", "openai"),
            ]
        )
        assert unmatched(result) == {
            "azure_ai/grok-3": ("provider", "unknown provider 'azure_ai'"),
            "grok-3": ("provider", "provider 'xai' is not in the catalogue"),
            "gpt-17-ultra": ("offer", "no offer or model of ours matches this id"),
        }
        assert result.rate == 0.0

    def test_the_exact_row_wins_over_a_row_naming_the_same_offer_otherwise(self, catalogue):
        result = price_statements_match([stated("openai/gpt-4o", "openai"), stated("gpt-4o", "openai")])
        assert matched(result) == {"gpt-4o": ("openai", "gpt-4o", "exact")}
        assert unmatched(result) == {"openai/gpt-4o": ("duplicate", "offer already priced by row 'gpt-4o'")}

    def test_non_text_rows_that_match_nothing_are_dropped_not_listed(self, catalogue):
        result = price_statements_match([stated("text-embedding-3-small", "openai", notes=("mode:embedding",))])
        assert result.matched == result.unmatched == [] and result.dropped == 1


class TestBedrock:
    def test_a_regional_profile_prices_the_offer_only_when_the_feed_lacks_the_base_id(self, bedrock):
        alone = price_statements_match([stated("us.anthropic.claude-opus-4-5-20251101-v1:0", "amazon-bedrock")])
        assert matched(alone) == {
            "us.anthropic.claude-opus-4-5-20251101-v1:0": (
                "amazon-bedrock", "anthropic.claude-opus-4-5-20251101-v1:0", "bedrock",
            )
        }  # fmt: skip
        both = price_statements_match(
            [
                stated("anthropic.claude-opus-4-5-20251101-v1:0", "amazon-bedrock", price_input="5"),
                stated("us.anthropic.claude-opus-4-5-20251101-v1:0", "amazon-bedrock", price_input="5.5"),
            ]
        )
        assert [m.how for m in both.matched] == ["exact"]
        kind, reason = unmatched(both)["us.anthropic.claude-opus-4-5-20251101-v1:0"]
        assert kind == "offer" and reason.startswith("regional profile of 'anthropic.claude-opus-4-5-20251101-v1:0'")

    def test_the_version_suffix_may_be_missing(self, bedrock):
        result = price_statements_match([stated("anthropic.claude-opus-4-5-20251101", "amazon-bedrock")])
        assert matched(result)["anthropic.claude-opus-4-5-20251101"][2] == "bedrock"

    def test_an_offer_listed_under_its_regional_id_matches_exactly(self, bedrock):
        offer.make(provider=bedrock.provider, model=bedrock.model, provider_model_id="us.anthropic.claude-opus-4-5")
        result = price_statements_match([stated("us.anthropic.claude-opus-4-5", "amazon-bedrock")])
        assert matched(result) == {
            "us.anthropic.claude-opus-4-5": ("amazon-bedrock", "us.anthropic.claude-opus-4-5", "exact")
        }


class TestOnTheRealSlice:
    def test_the_litellm_slice_matches_what_the_small_registry_offers(self, bedrock):
        statements = LiteLLMFeed().parse(json.loads(LITELLM_JULY.read_text()), OBSERVED)
        result = price_statements_match(statements)
        assert matched(result) == {
            "gpt-4o": ("openai", "gpt-4o", "exact"),
            "gpt-4o-mini": ("openai", "gpt-4o-mini", "exact"),
            "deepseek-reasoner": ("deepseek", "deepseek-reasoner", "exact"),
            "groq/llama-3.3-70b-versatile": ("groq", "llama-3.3-70b-versatile", "feed-id"),
            "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo": (
                "togetherai", "meta-llama/Llama-3.3-70B-Instruct-Turbo", "feed-id",
            ),
            "together_ai/deepseek-ai/DeepSeek-R1": ("togetherai", "deepseek-ai/DeepSeek-R1", "feed-id"),
            "anthropic.claude-opus-4-5-20251101-v1:0": (
                "amazon-bedrock", "anthropic.claude-opus-4-5-20251101-v1:0", "exact",
            ),
        }  # fmt: skip
        # deepseek/deepseek-reasoner names the same offer through the prefix: the verbatim row wins
        assert unmatched(result)["deepseek/deepseek-reasoner"][0] == "duplicate"
        assert unmatched(result)["eu.anthropic.claude-opus-4-5-20251101-v1:0"][1].startswith("regional profile")
        # the rate printed for the report (pytest -s); the real files' rates are in tests/fixtures/prices/README.md
        print(f"litellm slice: {result.rate:.0%} of rows matched ({result.rate_at_our_providers:.0%} at our providers)")
        assert (f"{result.rate:.0%}", f"{result.rate_at_our_providers:.0%}") == ("27%", "44%")


class TestQueries:
    def test_matching_costs_the_same_few_queries_for_one_row_or_a_whole_feed(self, bedrock, django_assert_num_queries):
        statements = LiteLLMFeed().parse(json.loads(LITELLM_JULY.read_text()), OBSERVED)
        with django_assert_num_queries(4):  # offers, providers, model slugs, aliases
            price_statements_match(statements[:1])
        with django_assert_num_queries(4):
            price_statements_match(statements)


class TestUnmatchedRecord:
    def test_rows_are_listed_once_per_feed_row_and_refreshed(self, catalogue):
        first = price_statements_match([stated("gpt-17-ultra", "openai", price_input="3.5")])
        assert unmatched_prices_record(unmatched=first.unmatched) == 1
        again = price_statements_match([stated("gpt-17-ultra", "openai", price_input="4")])
        unmatched_prices_record(unmatched=again.unmatched)
        row = UnmatchedPrice.objects.get()
        assert (row.source, row.provider_key, row.model_key) == ("litellm", "openai", "gpt-17-ultra")
        assert row.fields == {"price_input": "4"} and row.reason == "no offer or model of ours matches this id"
        assert row.last_seen >= row.first_seen

    def test_an_unchanged_second_record_writes_nothing(self, catalogue):
        tiered = stated("gpt-18", "openai", price_input="9")
        tiered.fields["price_tiers"] = [{"above": 200_000, "input": "18", "output": "36"}]  # nested JSON compares too
        rows = [stated("gpt-17-ultra", "openai", price_input="3.5"), tiered]
        unmatched_prices_record(unmatched=price_statements_match(rows).unmatched)
        before = list(UnmatchedPrice.objects.order_by("pk").values())
        with connection.execute_wrapper(writes := WriteLog()):
            listed = unmatched_prices_record(unmatched=price_statements_match(rows).unmatched)
        assert listed == 2 and writes.statements == []
        assert list(UnmatchedPrice.objects.order_by("pk").values()) == before

    def test_a_changed_row_is_updated_and_only_it(self, catalogue):
        first = [stated("gpt-17-ultra", "openai", price_input="3.5"), stated("gpt-18", "openai", price_input="9")]
        unmatched_prices_record(unmatched=price_statements_match(first).unmatched)
        kept = UnmatchedPrice.objects.get(model_key="gpt-18")
        changed = [stated("gpt-17-ultra", "openai", price_input="4"), first[1]]
        run = IngestionRun.objects.create(source="litellm", tier=Tier.PRICE_FEEDS, status="success")
        with connection.execute_wrapper(writes := WriteLog()):
            unmatched_prices_record(unmatched=price_statements_match(changed).unmatched, run=run)
        assert len(writes.statements) == 1 and writes.statements[0].startswith("UPDATE")
        row = UnmatchedPrice.objects.get(model_key="gpt-17-ultra")
        assert row.fields == {"price_input": "4"} and row.run == run and row.last_seen > kept.last_seen
        assert UnmatchedPrice.objects.get(model_key="gpt-18").last_seen == kept.last_seen  # unchanged: not written

    def test_an_unchanged_row_a_day_old_is_seen_again(self, catalogue):
        rows = [stated("gpt-17-ultra", "openai", price_input="3.5")]
        unmatched_prices_record(unmatched=price_statements_match(rows).unmatched)
        day_old = timezone.now() - dt.timedelta(days=1, minutes=1)
        UnmatchedPrice.objects.update(last_seen=day_old)
        unmatched_prices_record(unmatched=price_statements_match(rows).unmatched)
        row = UnmatchedPrice.objects.get()
        assert row.last_seen > day_old + dt.timedelta(days=1) and row.fields == {"price_input": "3.5"}


class WriteLog:
    """Every INSERT/UPDATE/DELETE statement on the unmatched prices table (a connection execute wrapper)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE") and '"ingestion_unmatchedprice"' in sql:
            self.statements.append(sql.lstrip())
        return execute(sql, params, many, context)
