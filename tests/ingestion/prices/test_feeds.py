"""The open price feeds read from real file slices over a loopback replay server: fields, dates, faults."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.prices.feeds import DOCUMENT_FEEDS, FEEDS, GenAIPricesFeed, LiteLLMFeed, ModelsDevFeed
from ingestion.prices.statements import PriceFeed
from ingestion.sources import SourceError, SourceErrorKind, make_client
from ingestion.sources.http import SourceHttp
from modelgraph.outbound import RetryPolicy

pytest_plugins = ["tests.replay.fixtures"]

PRICES = Path(__file__).resolve().parents[2] / "fixtures" / "prices"
LITELLM = {
    day: PRICES / "litellm" / f"model_prices_and_context_window_{day}.json" for day in ("2026-01-08", "2026-07-24")
}
DOCUMENTS = {
    "litellm": LITELLM["2026-07-24"],
    "genai-prices": PRICES / "genai-prices" / "data.json",
    "models.dev": PRICES / "models.dev" / "api.json",
}
OBSERVED = dt.datetime(2026, 12, 3, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clear_cache():
    """These tests touch neither the cache nor the database: replace the project-wide cache reset."""
    yield


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def fetch(replay_server, sleeps):
    """Serve a document at the feed's path and read it with the feed over SourceHttp (fast, recorded retries)."""

    def _fetch(name: str, document: Path | None = None, *, fault: tuple[str, dict] | None = None, timeout=2.0):
        feed = DOCUMENT_FEEDS[name]()
        replay_server.route("GET", feed.path, file=document or DOCUMENTS[name])
        if fault:
            replay_server.fault(fault[0], **fault[1])
        retry = RetryPolicy(attempts=3, backoff=0.01, backoff_max=0.02, jitter=0, sleep=sleeps.append)
        with make_client(timeout=timeout) as client:
            http = SourceHttp(client, source=name, base_url=replay_server.url, retry=retry, timeout=timeout)
            statements = feed.fetch_prices(http, observed_at=OBSERVED)
        return statements

    return _fetch


ANY = object()


def at(statements: list, key: str, valid_from=ANY, provider_key: str | None = None):
    """The one statement of `key` (of that start date, of that feed provider, when given)."""
    found = [
        s
        for s in statements
        if s.model_key == key
        and (valid_from is ANY or s.valid_from == valid_from)
        and (provider_key is None or s.provider_key == provider_key)
    ]
    assert len(found) == 1, f"{key}: {len(found)} statements"
    return found[0]


def money(**prices) -> dict:
    return {name: Decimal(value) for name, value in prices.items()}


class TestRegistry:
    def test_every_feed_is_a_price_feed_by_name(self):
        assert set(FEEDS) == {"litellm", "genai-prices", "models.dev", "openrouter-snapshot"}
        assert set(DOCUMENT_FEEDS) == set(FEEDS) - {"openrouter-snapshot"}
        for name, feed in FEEDS.items():
            assert isinstance(feed(), PriceFeed) and feed.name == name
        assert all(feed.default_base_url.startswith("https://") for feed in DOCUMENT_FEEDS.values())


class TestLiteLLM:
    def test_prices_are_per_million_with_batch_and_cached_input(self, fetch):
        gpt4o = at(fetch("litellm"), "gpt-4o")
        assert (gpt4o.source, gpt4o.provider_key, gpt4o.provider) == ("litellm", "openai", "openai")
        assert gpt4o.fields == money(
            price_input="2.5", price_output="10", price_cached_input="1.25", price_batch_input="1.25",
            price_batch_output="5",
        )  # fmt: skip
        assert gpt4o.observed_at == OBSERVED and gpt4o.notes == ()

    def test_the_files_last_updated_dates_every_row_and_is_not_a_row(self, fetch):
        statements = fetch("litellm")
        assert {s.valid_from for s in statements} == {dt.datetime(2026, 7, 24, 18, 23, 43, 215560, tzinfo=dt.UTC)}
        assert not {"last_updated", "sample_spec"} & {s.model_key for s in statements}

    def test_long_context_tiers_one_hour_cache_writes_and_web_search(self, fetch):
        sonnet = at(fetch("litellm"), "claude-sonnet-4-5")
        assert sonnet.fields["price_tiers"] == [
            {"above": 200000, "cached_input": "0.6", "input": "6", "output": "22.5"}
        ]
        assert sonnet.fields["price_cache_write"] == Decimal("3.75")
        assert sonnet.fields["price_cache_write_1h"] == Decimal("6")
        assert sonnet.fields["price_web_search"] == Decimal("10")  # $0.01 per query = $10 per 1,000

    def test_reasoning_audio_per_request_and_per_image_prices(self, fetch):
        statements = fetch("litellm")
        assert at(statements, "dashscope/qwen-plus-2025-07-14").fields["price_reasoning"] == Decimal("4")
        audio = at(statements, "gpt-4o-audio-preview").fields
        assert (audio["price_audio_input"], audio["price_audio_output"]) == (Decimal("40"), Decimal("80"))
        sonar = at(statements, "perplexity/sonar-medium-online").fields
        assert sonar["price_per_request"] == Decimal("0.005") and sonar["price_output"] == Decimal("1.8")
        canvas = at(statements, "1024-x-1024/50-steps/bedrock/amazon.nova-canvas-v1:0")
        assert canvas.fields == {"price_per_image": Decimal("0.06")} and canvas.notes == ("mode:image_generation",)

    def test_non_chat_rows_are_noted_and_unknown_providers_have_no_slug(self, fetch):
        statements = fetch("litellm")
        assert at(statements, "text-embedding-3-small").notes == ("mode:embedding",)
        grok = at(statements, "azure_ai/grok-3")
        assert grok.provider_key == "azure_ai" and grok.provider is None
        bedrock = at(statements, "us.anthropic.claude-opus-4-5-20251101-v1:0")
        assert (bedrock.provider_key, bedrock.provider) == ("bedrock_converse", "amazon-bedrock")

    def test_known_feed_errors_are_stated_as_published(self, fetch):
        # LiteLLM's wandb rows are 100,000 times too high ($0.015 per token, i.e. $15,000 per million, for
        # gpt-oss-120b at $0.15 / $0.60): copied as stated, for cross-source verification to flag, never corrected.
        wandb = at(fetch("litellm"), "wandb/openai/gpt-oss-120b")
        assert wandb.provider == "wandb"
        assert wandb.fields == money(price_input="15000", price_output="60000")

    def test_two_versions_state_the_changed_offers_with_their_own_dates(self, fetch):
        january, july = fetch("litellm", LITELLM["2026-01-08"]), fetch("litellm", LITELLM["2026-07-24"])
        old, new = (at(v, "us.anthropic.claude-opus-4-5-20251101-v1:0") for v in (january, july))
        assert (old.fields["price_input"], new.fields["price_input"]) == (Decimal("5"), Decimal("5.5"))
        assert (old.fields["price_output"], new.fields["price_output"]) == (Decimal("25"), Decimal("27.5"))
        assert (old.valid_from.date(), new.valid_from.date()) == (dt.date(2026, 1, 8), dt.date(2026, 7, 24))
        chat = [at(v, "deepseek-chat").fields for v in (january, july)]
        assert chat == [
            money(price_input="0.6", price_output="1.7", price_cached_input="0.06"),
            money(price_input="0.28", price_output="0.42", price_cached_input="0.028"),
        ]
        unchanged = [at(v, "gpt-4o-mini").fields for v in (january, july)]
        assert unchanged[0] == unchanged[1]


class TestGenAIPrices:
    def test_dated_constraints_open_one_statement_per_period(self, fetch):
        statements = fetch("genai-prices")
        base = at(statements, "claude-opus-4-6", None)
        assert base.valid_from is None and base.provider == "anthropic"
        assert base.fields["price_tiers"] == [{"above": 200000, "cached_input": "1", "input": "10", "output": "37.5"}]
        assert base.fields["price_input"] == Decimal("5") and base.fields["price_cache_write_1h"] == Decimal("10")
        dated = at(statements, "claude-opus-4-6", dt.datetime(2026, 3, 13, tzinfo=dt.UTC))
        assert "price_tiers" not in dated.fields  # the long-context surcharge ended on 2026-03-13
        assert dated.fields == money(
            price_input="5", price_cached_input="0.5", price_cache_write="6.25", price_cache_write_1h="10",
            price_output="25", price_web_search="10",
        )  # fmt: skip

    def test_match_rules_name_ids_exactly_but_never_contains_or_regex(self, fetch):
        reasoner = at(fetch("genai-prices"), "deepseek-reasoner")
        assert reasoner.notes == (
            "match:equals:deepseek-reasoner",
            "match:starts_with:deepseek-r1",
            "match:equals:deepseek-r1-0528",
        )

    def test_a_time_of_day_window_covering_most_of_the_day_is_the_standard_price(self, fetch):
        # DeepSeek: the unconstrained price is the off-peak discount; 00:30-16:30 UTC is the standard price.
        chat = at(fetch("genai-prices"), "deepseek-chat")
        assert chat.valid_from is None
        assert chat.fields == money(price_input="0.27", price_cached_input="0.07", price_output="1.1")

    def test_provider_ids_map_to_our_slugs_or_to_none(self, fetch):
        providers = {(s.provider_key, s.provider) for s in fetch("genai-prices")}
        assert providers == {
            ("anthropic", "anthropic"), ("deepseek", "deepseek"), ("groq", "groq"), ("x-ai", "xai"), ("avian", None),
        }  # fmt: skip


class TestModelsDev:
    def test_every_cost_field_and_context_tiers(self, fetch):
        statements = fetch("models.dev")
        gpt54 = at(statements, "gpt-5.4", provider_key="openai")
        assert gpt54.provider_key == gpt54.provider == "openai" and gpt54.valid_from is None
        assert gpt54.fields == {
            **money(price_input="2.5", price_output="15", price_cached_input="0.25"),
            "price_tiers": [{"above": 272000, "cached_input": "0.5", "input": "5", "output": "22.5"}],
        }
        opus = at(statements, "claude-opus-4-6", provider_key="anthropic")
        assert opus.fields == money(
            price_input="5", price_output="25", price_cached_input="0.5", price_cache_write="6.25"
        )

    def test_plans_state_zero_prices_as_prices(self, fetch):
        copilot = [s for s in fetch("models.dev") if s.provider == "github-copilot"]
        assert copilot and all(s.fields.get("price_input") is not None for s in copilot)

    def test_audio_prices(self, fetch):
        audio = [s for s in fetch("models.dev") if "price_audio_input" in s.fields]
        assert audio and all(s.fields["price_audio_input"] >= 0 for s in audio)


FAULTS = [  # (fault, options, kind, words, attempts)
    ("timeout", {"seconds": 3}, SourceErrorKind.TIMEOUT, "no response within 0.2s", 3),
    ("status", {"status": 500}, SourceErrorKind.HTTP, "HTTP 500", 3),
    ("truncated", {"mode": "cut"}, SourceErrorKind.MALFORMED, "truncated", 1),
    ("truncated", {"mode": "length"}, SourceErrorKind.MALFORMED, "truncated", 3),
    ("schema_change", {"body": {"object": "list", "data": []}}, SourceErrorKind.SCHEMA, "unexpected response shape", 1),
]


class TestFaults:
    @pytest.mark.parametrize("name", list(DOCUMENT_FEEDS))
    @pytest.mark.parametrize(("fault", "options", "kind", "words", "attempts"), FAULTS, ids=lambda v: str(v)[:18])
    def test_each_fault_is_a_clear_typed_error(self, name, fault, options, kind, words, attempts, fetch, replay_server):
        with pytest.raises(SourceError) as caught:
            fetch(name, fault=(fault, options), timeout=0.2)
        error = caught.value
        assert error.kind == kind and words in error.message, error.message
        assert error.message.startswith(f"{name}: GET {DOCUMENT_FEEDS[name].path}")
        assert len(replay_server.requests) == attempts

    def test_a_passing_server_error_is_retried(self, fetch, sleeps, replay_server):
        statements = fetch("models.dev", fault=("status", {"status": 503, "times": 1}))
        assert len(statements) == 138 and sleeps == [0.01] and len(replay_server.requests) == 2


def test_feed_classes_are_exported():
    assert (FEEDS["litellm"], FEEDS["genai-prices"], FEEDS["models.dev"]) == (
        LiteLLMFeed,
        GenAIPricesFeed,
        ModelsDevFeed,
    )
