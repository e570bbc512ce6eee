"""Applying observations: matching, needs-review models, idempotency, never nulling, pins, locks and crashes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Alias, Mapping, Model
from ingestion.models import FieldPin, IngestionRun, Observation, RunStatus, Tier
from ingestion.provenance import field_pin, field_release
from ingestion.services import ingestion_apply_observations, ingestion_start_run
from ingestion.sources.base import SourceRecord as Seen
from registry.loading import registry_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(registry_dir):
    registry_load(path=registry_dir)
    return registry_dir


def run_of(source: str, tier: int) -> IngestionRun:
    return IngestionRun.objects.create(source=source, tier=tier, status=RunStatus.SUCCESS)


def apply(source: str, tier: int, *observations):
    run = run_of(source, tier)
    return run, ingestion_apply_observations(run=run, observations=list(observations))


def catalogue_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) and "catalog_" in q["sql"]
    ]


class TestMatching:
    def test_dated_provider_id_matches_its_canonical_model_and_becomes_an_alias(self, catalogue):
        _, counts = apply(
            "openai",
            Tier.PROVIDER_API,
            Seen("openai", "gpt-4o-mini-2024-07-18", "openai", {"release_date": "2024-07-18"}),
            Seen("openai", "gpt-4o-2024-11-20", "openai", {"release_date": "2024-11-20"}),
        )
        assert Alias.objects.get(alias="gpt-4o-2024-11-20").model.slug == "gpt-4o"
        assert counts["aliases_added"] == 1  # the mini id was already an alias
        assert counts["models_added"] == 0
        assert Mapping.objects.filter(provider__slug="openai", provider_model_id="gpt-4o-2024-11-20").exists()

    def test_unmatched_provider_id_creates_a_needs_review_model_not_a_silent_duplicate(self, catalogue):
        _, counts = apply("openai", Tier.PROVIDER_API, Seen("openai", "o9-preview-2026-01-01", "openai", {}))
        model = Model.objects.get(aliases__alias="o9-preview-2026-01-01")
        assert (model.slug, model.needs_review, model.in_registry) == ("o9-preview", True, False)
        assert counts["models_added"] == 1
        apply("openai", Tier.PROVIDER_API, Seen("openai", "o9-preview", "openai", {}))
        assert Model.objects.filter(slug__startswith="o9-preview").count() == 1

    def test_many_unmatched_ids_become_models_in_one_insert_with_their_history(self, catalogue):
        ids = [f"o{n}-preview-2026-01-01" for n in range(5, 10)]
        with CaptureQueriesContext(connection) as queries:
            _, counts = apply("openai", Tier.PROVIDER_API, *(Seen("openai", i, "openai", {}) for i in ids))
        model_inserts = [
            q for q in catalogue_writes(queries) if q.lstrip().upper().startswith('INSERT INTO "CATALOG_MODEL"')
        ]
        assert len(model_inserts) == 1
        assert counts["models_added"] == 5
        for external_id in ids:
            model = Model.objects.get(aliases__alias=external_id)
            assert model.needs_review and model.history.filter(history_type="+").count() == 1
            assert Mapping.objects.filter(provider_model_id=external_id, model=model).exists()

    def test_lower_tiers_only_annotate_known_models(self, catalogue):
        run, counts = apply(
            "huggingface",
            Tier.HUGGING_FACE,
            Seen("huggingface", "meta-llama/Llama-9-1T", None, {"parameters_total": 10**12}),
        )
        assert not Model.objects.filter(needs_review=True).exists()
        assert counts["details"]["unmatched"] == ["meta-llama/Llama-9-1T"]


class TestObservationsAndPriority:
    def test_automated_value_fills_a_field_the_registry_does_not_state(self, catalogue):
        apply(
            "deprecations",
            Tier.DEPRECATIONS,
            Seen("deprecations", "gpt-4o-mini", "openai", {"sunset_date": "2027-01-31"}),
        )
        model = Model.objects.get(slug="gpt-4o-mini")
        assert model.sunset_date == dt.date(2027, 1, 31)
        assert model.provenance["sunset_date"]["source"] == "deprecations"

    def test_registry_value_wins_over_the_provider_api(self, catalogue):
        apply("openai", Tier.PROVIDER_API, Seen("openai", "gpt-4o", "openai", {"release_date": "2024-05-14"}))
        assert Model.objects.get(slug="gpt-4o").release_date == dt.date(2024, 5, 13)

    def test_a_registry_reload_keeps_values_automated_sources_filled(self, catalogue):
        apply(
            "huggingface",
            Tier.HUGGING_FACE,
            Seen("huggingface", "meta-llama/Llama-3.3-70B-Instruct", None, {"parameters_active": 70 * 10**9}),
        )
        result = registry_load(path=catalogue)
        assert result.rows_written == 0
        assert Model.objects.get(slug="llama-3.3-70b-instruct").parameters_active == 70 * 10**9

    def test_second_identical_run_writes_no_catalogue_rows(self, catalogue):
        seen = Seen("openai", "gpt-4o-2024-11-20", "openai", {"release_date": "2024-11-20", "context_window": 128000})
        apply("openai", Tier.PROVIDER_API, seen)
        with CaptureQueriesContext(connection) as queries:
            _, counts = apply("openai", Tier.PROVIDER_API, seen)
        assert catalogue_writes(queries) == []
        assert (counts["models_updated"], counts["aliases_added"]) == (0, 0)

    def test_a_field_a_source_stops_stating_is_never_nulled(self, catalogue):
        apply(
            "deprecations",
            Tier.DEPRECATIONS,
            Seen("deprecations", "gpt-4o-mini", "openai", {"sunset_date": "2027-01-31"}),
        )
        apply("deprecations", Tier.DEPRECATIONS, Seen("deprecations", "gpt-4o-mini", "openai", {}))
        assert Model.objects.get(slug="gpt-4o-mini").sunset_date == dt.date(2027, 1, 31)


class TestPins:
    def test_a_manual_pin_survives_every_automated_run_and_registry_load(self, catalogue, admin_user):
        model = Model.objects.get(slug="gpt-4o")
        field_pin(model=model, field="context_window", value=64000, reason="provider caps it", user=admin_user)
        apply("openai", Tier.PROVIDER_API, Seen("openai", "gpt-4o", "openai", {"context_window": 128000}))
        registry_load(path=catalogue)
        model.refresh_from_db()
        assert model.context_window == 64000
        assert model.provenance["context_window"]["source"] == "pin"
        history = model.history.filter(history_change_reason__startswith="pinned context_window").first()
        assert history is not None and history.history_user == admin_user

    def test_release_returns_the_field_to_the_registry(self, catalogue, admin_user):
        model = Model.objects.get(slug="gpt-4o")
        field_pin(model=model, field="context_window", value=64000, reason="temporary", user=admin_user)
        assert field_release(model=model, field="context_window", reason="fixed upstream", user=admin_user)
        model.refresh_from_db()
        assert model.context_window == 128000 and model.provenance["context_window"]["source"] == "registry"
        assert not FieldPin.objects.exists()

    def test_an_unknown_field_cannot_be_pinned(self, catalogue):
        with pytest.raises(ValueError, match="cannot be pinned"):
            field_pin(model=Model.objects.get(slug="gpt-4o"), field="slug", value="x", reason="no")


class TestRunLock:
    def test_a_second_concurrent_run_is_recorded_as_skipped(self, db):
        first = ingestion_start_run(source="deprecations")
        second = ingestion_start_run(source="deprecations")
        assert first.status == RunStatus.RUNNING
        assert (second.status, second.error_message) == (RunStatus.SKIPPED, "another run of this source is in progress")

    def test_a_crashed_run_is_marked_failed_when_the_next_one_starts(self, db, settings):
        crashed = ingestion_start_run(source="deprecations")
        IngestionRun.objects.filter(pk=crashed.pk).update(
            started_at=timezone.now() - dt.timedelta(seconds=settings.INGESTION_RUN_TIMEOUT + 60)
        )
        fresh = ingestion_start_run(source="deprecations")
        crashed.refresh_from_db()
        assert crashed.status == RunStatus.FAILED and "crashed" in crashed.error_message
        assert fresh.status == RunStatus.RUNNING

    def test_other_sources_are_not_locked(self, db):
        ingestion_start_run(source="deprecations")
        assert ingestion_start_run(source="openai").status == RunStatus.RUNNING


def test_observations_store_one_row_per_source_model_and_field(catalogue):
    apply("openai", Tier.PROVIDER_API, Seen("openai", "gpt-4o", "openai", {"context_window": 128000}))
    apply("azure", Tier.PROVIDER_API, Seen("azure", "gpt-4o", None, {"context_window": 128000}))
    apply("openai", Tier.PROVIDER_API, Seen("openai", "gpt-4o", "openai", {"context_window": 256000}))
    rows = Observation.objects.filter(model__slug="gpt-4o", field="context_window").order_by("source")
    assert [(o.source, o.value) for o in rows] == [("azure", 128000), ("openai", 256000)]
