"""The newest complete batch flows into the catalogue through the "openrouter" ingestion source."""

from __future__ import annotations

import pytest

from catalog.models import Mapping
from ingestion.models import IngestionRun, RunStatus
from ingestion.services import ingestion_run_source
from registry.loading import registry_load
from snapshots.projection import openrouter_offers

pytestmark = pytest.mark.django_db


def test_complete_batch_becomes_openrouter_mappings_of_known_models(sync):
    registry_load()  # the bundled registry: real ids that OpenRouter lists
    batch = sync(0)
    assert batch.complete
    offers = openrouter_offers()
    assert offers, "the replayed catalogue has endpoints"
    run = ingestion_run_source(source="openrouter")
    assert run.status == RunStatus.SUCCESS
    assert run.details["offers"] == len(offers)
    created = Mapping.objects.filter(source="openrouter")
    matched = len(offers) - run.details.get("unmatched", 0) - run.details.get("registry_kept", 0)
    assert created.count() == run.details["offers_added"] > 0 and matched >= created.count()
    assert all(m.in_registry is False for m in created)
    # Unchanged batch, second run: nothing new.
    again = ingestion_run_source(source="openrouter")
    assert (again.details["offers_added"], again.details["offers_updated"]) == (0, 0)
    assert IngestionRun.objects.filter(source="openrouter").count() == 2


def test_the_completed_batch_signal_runs_the_openrouter_source(sync):
    """The archive announces a complete batch; ingestion (a layer above) projects it without being imported."""
    from snapshots.signals import snapshot_batch_completed

    registry_load()
    batch = sync(0)
    assert batch.complete and not IngestionRun.objects.filter(source="openrouter").exists()
    snapshot_batch_completed.send(sender=type(batch), batch=batch)
    (run,) = IngestionRun.objects.filter(source="openrouter")
    assert run.status == RunStatus.SUCCESS and Mapping.objects.filter(source="openrouter").count() > 0
