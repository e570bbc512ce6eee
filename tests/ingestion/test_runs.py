"""Whole ingestion runs against the replay server: every source, every fault, and other sources left intact."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Model
from ingestion.models import IngestionRun, Observation, RunStatus
from ingestion.services import ingestion_run_all, ingestion_run_source
from ingestion.sources import HTTP_SOURCES, SOURCES
from registry.loading import registry_load

pytest_plugins = ["tests.replay.fixtures"]
pytestmark = pytest.mark.django_db

KEYS = {
    "OPENAI_API_KEY": "sk-test-openai-secret",
    "ANTHROPIC_API_KEY": "sk-ant-test-secret",
    "GEMINI_API_KEY": "gm-test-secret",
    "MISTRAL_API_KEY": "ms-test-secret",
    "CO_API_KEY": "co-test-secret",
    "XAI_API_KEY": "xai-test-secret",
}


@pytest.fixture
def sources(replay_server, settings, monkeypatch, registry_dir):
    """Every source mounted on one replay server, keys set, the small registry loaded."""
    settings.INGESTION_BASE_URLS = {name: replay_server.mount(name, prefix=f"/{name}") for name in HTTP_SOURCES}
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    registry_load(path=registry_dir)
    return replay_server


def model_values(slug: str) -> dict:
    return Model.objects.filter(slug=slug).values().get()


class TestFullCycle:
    def test_every_source_succeeds_and_logs_its_run(self, sources):
        runs = {run.source: run for run in ingestion_run_all()}
        assert set(runs) == set(SOURCES)
        assert {name: runs[name].status for name in HTTP_SOURCES} == dict.fromkeys(HTTP_SOURCES, RunStatus.SUCCESS)
        assert runs["openrouter"].status == RunStatus.SKIPPED  # no snapshot batch yet
        assert all(runs[name].finished_at and runs[name].details["observations"] > 0 for name in HTTP_SOURCES)
        assert runs["openai"].aliases_added > 0 and runs["openai"].tier == 1
        assert runs["deprecations"].tier == 2 and runs["huggingface"].tier == 3

    def test_a_second_unchanged_cycle_changes_no_model(self, sources):
        ingestion_run_all()
        before = list(Model.objects.order_by("pk").values())
        runs = ingestion_run_all()
        assert all(run.models_added == 0 and run.models_updated == 0 and run.aliases_added == 0 for run in runs)
        assert list(Model.objects.order_by("pk").values()) == before

    def test_provider_without_a_key_is_skipped_as_not_configured(self, sources, monkeypatch):
        monkeypatch.delenv("ANTHROPIC_API_KEY")
        run = ingestion_run_source(source="anthropic")
        assert run.status == RunStatus.SKIPPED
        assert run.details == {"reason": "not configured", "key_env": "ANTHROPIC_API_KEY"}
        assert not sources.requests_to("/anthropic/v1/models")


FAULTS = [
    ("timeout", {"seconds": 3}, "timeout"),
    ("status-429", {"kind": "status", "status": 429, "retry_after": "1"}, "rate_limited"),
    ("status-500", {"kind": "status", "status": 500}, "http"),
    ("status-401", {"kind": "status", "status": 401}, "auth"),
    ("malformed", {}, "malformed"),
    ("truncated", {}, "malformed"),
    ("schema_change", {}, "schema"),
    ("trickle", {"seconds": 0.05}, "timeout"),  # a byte at a time: every read in time, the body never
    ("endless", {}, "malformed"),  # streams without end: refused at INGESTION_MAX_RESPONSE_BYTES
    ("bomb", {}, "malformed"),  # a small gzip that inflates to 256 MiB
]


class TestFaults:
    @pytest.mark.parametrize(("fault", "options", "kind"), FAULTS, ids=[f[0] for f in FAULTS])
    def test_fault_fails_the_run_clearly_and_damages_nothing(self, sources, fault, options, kind):
        first = ingestion_run_source(source="openai")
        assert first.status == RunStatus.SUCCESS
        observations = sorted(Observation.objects.values_list("model_id", "source", "field", "value"))
        models = list(Model.objects.order_by("pk").values())
        options = dict(options)
        sources.fault(options.pop("kind", fault), path="/openai/v1/models", **options)

        failed = ingestion_run_source(source="openai")
        other = ingestion_run_source(source="deprecations")

        assert failed.status == RunStatus.FAILED
        assert failed.details["error_kind"] == kind
        assert failed.error_message and "sk-test-openai-secret" not in failed.error_message
        assert other.status == RunStatus.SUCCESS
        assert sorted(
            Observation.objects.filter(source="openai").values_list("model_id", "source", "field", "value")
        ) == [o for o in observations if o[1] == "openai"]
        after = {m["slug"]: m for m in Model.objects.values()}
        for before in models:  # nothing the first run set was nulled
            for field, value in before.items():
                if value not in (None, "", []) and field not in (
                    "updated_at",
                    "provenance",
                    "sunset_date",
                    "deprecation_date",
                    "status",
                    "successor_id",
                ):
                    assert after[before["slug"]][field] == value, (before["slug"], field)

    def test_failure_on_a_later_page_keeps_the_pages_read_as_a_partial_run(self, sources):
        second_page = {"after_id": "claude-opus-4-1-20250805"}  # the cursor page 1 hands out
        sources.fault("status", path="/anthropic/v1/models", query=second_page, status=500)
        run = ingestion_run_source(source="anthropic")
        assert run.status == RunStatus.PARTIAL
        assert run.details["observations"] > 0 and run.details["error_kind"] == "http"
        assert Observation.objects.filter(source="anthropic").exists()


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sources"
UNSTORABLE = [  # (source, path, fixture, list key, field of the first item, value, words of the reason)
    ("openai", "/v1/models", "openai/v1_models.json", "data", "id", "gpt-x\x00", "the id contains a NUL character"),
    ("openai", "/v1/models", "openai/v1_models.json", "data", "id", "g" * 5000, "the id is 5,000 characters"),
    ("mistral", "/v1/models", "mistral/v1_models.json", "data", "name", "n" * 5000, "name is 5,000 characters"),
    ("mistral", "/v1/models", "mistral/v1_models.json", "data", "description", "a\x00b", "description contains a NUL"),
    ("mistral", "/v1/models", "mistral/v1_models.json", "data", "max_context_length", 1e308, "outside 0…2,147,483,647"),
    (
        "deprecations",
        "/v1/deprecations.json",
        "deprecations/v1_deprecations_2025-11-23.json",
        None,
        "model_id",
        "gpt-\x00x",
        "the id contains a NUL character",
    ),
]


class TestUnstorableRecords:
    """One record the catalogue cannot hold used to fail the whole run at the database ("value too long", "cannot
    contain NUL"), losing every other model the source listed; a NUL id even left the run row unsaved."""

    @pytest.mark.parametrize(
        ("source", "path", "fixture", "key", "field", "value", "words"), UNSTORABLE, ids=lambda v: str(v)[:24]
    )
    def test_an_unstorable_record_is_refused_alone_and_named(
        self, sources, source, path, fixture, key, field, value, words
    ):
        body = json.loads((FIXTURES / fixture).read_text())
        items = body[key] if key else body
        refused_id = items[0]["model_id" if source == "deprecations" else "id"]
        items[0][field] = value
        sources.fault("schema_change", path=f"/{source}{path}", body=json.dumps(body))

        run = ingestion_run_source(source=source)

        assert run.status == RunStatus.PARTIAL, run.error_message
        assert run.details["refused_count"] == 1 and words in run.details["refused"][0]["reason"]
        assert "1 record(s) refused" in run.error_message and words in run.error_message
        assert "\x00" not in run.error_message + json.dumps(run.details)
        stored = set(Observation.objects.filter(source=source).values_list("external_id", flat=True))
        assert run.details["observations"] > 5  # the others were applied
        assert not any("\x00" in ident or len(ident) > 300 for ident in stored)
        if field not in ("id", "model_id"):
            assert refused_id not in stored  # the whole record is left out, not stored without the field

    def test_one_notice_without_a_provider_is_skipped_not_the_whole_feed(self, sources):
        body = json.loads((FIXTURES / "deprecations/v1_deprecations_2025-11-23.json").read_text())
        body[0]["provider"] = None
        sources.fault("schema_change", path="/deprecations/v1/deprecations.json", body=json.dumps(body))
        run = ingestion_run_source(source="deprecations")
        assert run.status == RunStatus.SUCCESS and run.details["observations"] > 10

    def test_a_nul_in_an_error_body_is_quoted_not_a_crash_of_the_run(self, sources):
        sources.fault("status", path="/openai/v1/models", status=400, body=b"bad \x00 request")
        run = ingestion_run_source(source="openai")
        run.refresh_from_db()
        assert run.status == RunStatus.FAILED and "bad \\x00 request" in run.error_message


class TestIngestCommand:
    def test_runs_named_sources_and_reports_each(self, sources):
        out = io.StringIO()
        call_command("ingest", "deprecations", "openai", stdout=out)
        text = out.getvalue()
        assert "deprecations: success" in text and "openai: success" in text
        assert IngestionRun.objects.filter(status=RunStatus.SUCCESS).count() == 2

    def test_unknown_source_is_refused_before_anything_runs(self, db):
        with pytest.raises(CommandError, match="unknown source 'openia'"):
            call_command("ingest", "openia")
        assert not IngestionRun.objects.exists()

    def test_a_failed_source_makes_the_command_exit_1(self, sources):
        sources.fault("status", path="/openai/v1/models", status=500)
        with pytest.raises(CommandError) as raised:
            call_command("ingest", "openai", "deprecations", stdout=io.StringIO())
        assert raised.value.returncode == 1
        assert IngestionRun.objects.get(source="deprecations").status == RunStatus.SUCCESS
