"""Price feeds as ingestion runs against a loopback replay server serving small copies of the real feed files."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from catalog.models import Mapping, PriceRecord
from ingestion.models import IngestionRun, OfferObservation, RunStatus, Tier, UnmatchedPrice
from ingestion.prices.runs import price_feeds_run_all
from ingestion.services import ingestion_run_all, ingestion_run_source
from registry.loading import registry_load

pytest_plugins = ["tests.replay.fixtures"]
pytestmark = pytest.mark.django_db

LITELLM = "/model_prices_and_context_window.json"


@pytest.fixture
def feeds(replay_server, settings, registry_dir, fixtures_dir):
    """LiteLLM's 2026-01-08 file under /jan, its 2026-07-24 file under /jul, genai-prices and models.dev, each on
    the replay server; the small registry loaded; the feeds pointed at January."""
    prices = fixtures_dir / "prices"
    replay_server.route(
        "GET", "/jan" + LITELLM, file=prices / "litellm/model_prices_and_context_window_2026-01-08.json"
    )
    replay_server.route(
        "GET", "/jul" + LITELLM, file=prices / "litellm/model_prices_and_context_window_2026-07-24.json"
    )
    replay_server.route("GET", "/genai/prices/data.json", file=prices / "genai-prices/data.json")
    replay_server.route("GET", "/modelsdev/api.json", file=prices / "models.dev/api.json")
    settings.INGESTION_BASE_URLS = {
        "litellm": f"{replay_server.url}/jan",
        "genai-prices": f"{replay_server.url}/genai",
        "models.dev": f"{replay_server.url}/modelsdev",
    }
    registry_load(path=registry_dir)
    return replay_server


def deepseek_reasoner() -> Mapping:
    return Mapping.objects.get(provider__slug="deepseek", provider_model_id="deepseek-reasoner")


class TestFeedRuns:
    def test_ingest_command_runs_a_feed_as_one_logged_run(self, feeds, client):
        call_command("ingest", "litellm", stdout=io.StringIO())
        run = IngestionRun.objects.get(source="litellm")
        assert run.status == RunStatus.SUCCESS and run.finished_at
        assert run.tier == Tier.PRICE_FEEDS
        assert 'litellm <span class="sub">Price feeds</span>' in client.get("/status").content.decode()
        assert run.details["matched"] > 0 and run.details["observations_created"] > 0
        offer = deepseek_reasoner()
        # LiteLLM disagrees with the registry (0.6 vs 0.14): the shown price stays, the disagreement is queued.
        assert offer.price_input == Decimal("0.14")
        assert offer.provenance["price_input"]["source"] == "registry"
        assert offer.provenance["price_input"]["values"] == {"litellm": "0.6", "registry": "0.14"}
        assert offer.provenance["price_input"]["disputed"] is True

    def test_the_daily_task_runs_every_feed_and_a_failing_one_harms_none(self, feeds, settings):
        settings.INGESTION_BASE_URLS = {**settings.INGESTION_BASE_URLS, "litellm": f"{feeds.url}/missing"}
        runs = {run.source: run for run in IngestionRun.objects.filter(pk__in=price_feeds_run_all())}
        assert runs["litellm"].status == RunStatus.FAILED and runs["litellm"].error_message
        assert runs["genai-prices"].status == runs["models.dev"].status == RunStatus.SUCCESS
        assert OfferObservation.objects.filter(source="genai-prices").exists()

    def test_a_second_unchanged_cycle_writes_no_price_rows(self, feeds):
        ingestion_run_all(sources=["litellm", "genai-prices", "models.dev"])
        before = (
            list(OfferObservation.objects.order_by("pk").values()),
            list(PriceRecord.objects.order_by("pk").values()),
            list(UnmatchedPrice.objects.order_by("pk").values()),
            Mapping.history.count(),
        )
        assert before[2], "the feeds list unmatched rows, and an unchanged run rewrites none of them"
        runs = ingestion_run_all(sources=["litellm", "genai-prices", "models.dev"])
        assert all(run.status == RunStatus.SUCCESS for run in runs)
        assert all(run.details["observations_created"] == run.details["observations_updated"] == 0 for run in runs)
        assert all(run.details["offers_updated"] == run.details["records_opened"] == 0 for run in runs)
        after = (
            list(OfferObservation.objects.order_by("pk").values()),
            list(PriceRecord.objects.order_by("pk").values()),
            list(UnmatchedPrice.objects.order_by("pk").values()),
            Mapping.history.count(),
        )
        assert after == before

    def test_litellm_price_change_between_its_versions_is_one_history_row(self, feeds, settings):
        # An offer the registry does not keep (a listing created it): the feed's word decides its prices.
        Mapping.objects.filter(pk=deepseek_reasoner().pk).update(
            source="deepseek", registry_values={}, in_registry=False
        )
        PriceRecord.objects.filter(mapping=deepseek_reasoner()).delete()  # no registry period either
        ingestion_run_source(source="litellm")
        settings.INGESTION_BASE_URLS = {**settings.INGESTION_BASE_URLS, "litellm": f"{feeds.url}/jul"}
        ingestion_run_source(source="litellm")
        records = list(PriceRecord.objects.filter(mapping=deepseek_reasoner()).order_by("valid_from"))
        jan = dt.datetime(2026, 1, 8, 19, 8, 25, 34860, tzinfo=dt.UTC)
        jul = dt.datetime(2026, 7, 24, 18, 23, 43, 215560, tzinfo=dt.UTC)
        assert [(r.valid_from, r.valid_to, r.source) for r in records] == [
            (jan, jul, "litellm"),
            (jul, None, "litellm"),
        ]
        assert records[0].prices["price_input"] == "0.6" and records[1].prices["price_input"] == "0.28"
        assert records[1].prices["price_output"] == "0.42"
        assert str(deepseek_reasoner().price_input.normalize()) == "0.28"


JANUARY = "prices/litellm/model_prices_and_context_window_2026-01-08.json"


class TestUnstorableRows:
    """One row the catalogue cannot hold used to fail the whole feed: a price of 1e308 per token broke the parse
    (InvalidOperation), a NUL or 5,000 characters in a key failed the apply at the database (and, inside a caller's
    transaction, the run row could not even be saved)."""

    def _serve(self, feeds, fixtures_dir, change) -> None:
        data = json.loads((fixtures_dir / JANUARY).read_text())
        name = "deepseek-chat" if "deepseek-chat" in data else "deepseek/deepseek-chat"
        change(data, name)
        feeds.route("GET", "/bad" + LITELLM, body=json.dumps(data))
        from django.conf import settings

        settings.INGESTION_BASE_URLS = {**settings.INGESTION_BASE_URLS, "litellm": f"{feeds.url}/bad"}

    @pytest.mark.parametrize(
        ("change", "words"),
        [
            (lambda data, name: data.__setitem__("gpt-\x00x", data.pop(name)), "model_key contains a NUL"),
            (lambda data, name: data.__setitem__("m" * 5000, data.pop(name)), "model_key is 5,000 characters"),
            (lambda data, name: data[name].__setitem__("litellm_provider", "x" * 500), "provider_key is 500"),
        ],
        ids=["nul-key", "long-key", "long-provider"],
    )
    def test_an_unstorable_row_is_refused_alone_and_named(self, feeds, fixtures_dir, change, words):
        self._serve(feeds, fixtures_dir, change)
        run = ingestion_run_source(source="litellm")
        assert run.status == RunStatus.PARTIAL, run.error_message
        assert run.details["refused_count"] == 1 and words in run.details["refused"][0]["reason"]
        assert "1 row(s) refused" in run.error_message and "\x00" not in run.error_message
        assert run.details["matched"] > 0  # the other rows were matched and applied
        assert OfferObservation.objects.filter(run=run).exists()

    def test_a_price_no_column_holds_is_no_price_not_a_failed_feed(self, feeds, fixtures_dir):
        self._serve(feeds, fixtures_dir, lambda data, name: data[name].__setitem__("input_cost_per_token", 1e308))
        run = ingestion_run_source(source="litellm")
        assert run.status == RunStatus.SUCCESS, run.error_message
        assert run.details["matched"] > 0
        assert not OfferObservation.objects.filter(
            run=run, field="price_input", value__startswith="1000000000"
        ).exists()
