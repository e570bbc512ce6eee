"""Operations surfaces that need no selection: run any source or sync snapshots from a fresh install; a run queued
with no worker is reported as such and never blocks a later run; `/status` lists every source, probes and syncs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from model_bakery import baker

from catalog.models import Mapping, Provider
from ingestion.models import IngestionRun, RunStatus, Tier
from ingestion.prices.sources import PRICE_SOURCES
from ingestion.run_report import QUEUE_GRACE_SECONDS, error_line, queue_note
from ingestion.services import NEVER_STARTED
from ingestion.sources import SOURCES
from ingestion.tasks import ingest_run
from snapshots.models import Batch
from telemetry.classification import Outcome
from telemetry.models import HealthCheck, LatencySample

pytestmark = pytest.mark.django_db

RUNS = "admin:ingestion_ingestionrun_changelist"
RUN_NOW = "admin:ingestion_ingestionrun_run_now"


@pytest.fixture
def no_worker(monkeypatch):
    """The queue as on a machine where no `qcluster` runs: tasks go to the ORM broker's table and stay there (the
    test settings otherwise run every task synchronously)."""
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def queued_tasks() -> list[tuple[str, tuple]]:
    return [(row.func(), tuple(row.args() or ())) for row in OrmQ.objects.order_by("pk")]


def page(response) -> str:
    return response.content.decode()


class TestRunButtons:
    def test_a_fresh_install_offers_every_source_without_a_selection(self, admin_client):
        assert not IngestionRun.objects.exists()
        html = page(admin_client.get(reverse(RUNS)))
        assert f'action="{reverse(RUN_NOW)}"' in html and "csrfmiddlewaretoken" in html
        for name in [*SOURCES, *PRICE_SOURCES]:
            assert f'<option value="{name}">' in html
        assert "Run all listing sources now" in html

    def test_run_now_queues_a_run_for_a_worker(self, admin_client, no_worker):
        response = admin_client.post(reverse(RUN_NOW), {"source": "openai"}, follow=True)
        run = IngestionRun.objects.get()
        assert (run.source, run.status, run.details) == ("openai", RunStatus.RUNNING, {"queued": True})
        assert queued_tasks() == [("ingestion.tasks.ingest_run", (run.pk,))]
        assert f"Run #{run.pk} of openai queued." in page(response)

    def test_run_now_takes_only_a_post(self, admin_client):
        assert admin_client.get(reverse(RUN_NOW), {"source": "openai"}).status_code == 405
        assert not IngestionRun.objects.exists()

    def test_an_unknown_source_is_refused(self, admin_client, no_worker):
        response = admin_client.post(reverse(RUN_NOW), {"source": "nope"}, follow=True)
        assert "Unknown source &#x27;nope&#x27;" in page(response)
        assert not IngestionRun.objects.exists() and not OrmQ.objects.exists()

    def test_run_all_queues_every_listing_source(self, admin_client, no_worker):
        admin_client.post(reverse(RUN_NOW), {"source": "all"})
        assert sorted(IngestionRun.objects.values_list("source", flat=True)) == sorted(SOURCES)
        assert len(queued_tasks()) == len(SOURCES)

    def test_a_worker_that_takes_the_task_runs_it(self, admin_client, no_worker):
        admin_client.post(reverse(RUN_NOW), {"source": "openai"})
        run = IngestionRun.objects.get()
        assert ingest_run(run.pk) == RunStatus.SKIPPED  # no key here: the run starts and says it is not configured
        run.refresh_from_db()
        assert run.error_message.startswith("not configured") and "queued" not in run.details


class TestQueuedWithoutWorker:
    def test_a_queued_run_is_reported_as_not_taken_after_a_grace(self, admin_client, client, no_worker):
        admin_client.post(reverse(RUN_NOW), {"source": "openai"})
        run = IngestionRun.objects.get()
        assert queue_note(run) == "queued"
        IngestionRun.objects.filter(pk=run.pk).update(
            started_at=timezone.now() - dt.timedelta(seconds=QUEUE_GRACE_SECONDS + 1)
        )
        run.refresh_from_db()
        expected = "queued — no worker has taken it (no worker is running; it does not block a later run)"
        assert queue_note(run) == expected
        assert expected in page(admin_client.get(reverse(RUNS)))
        assert expected in page(client.get("/status"))

    def test_a_run_never_taken_does_not_block_the_next(self, admin_client, no_worker):
        admin_client.post(reverse(RUN_NOW), {"source": "openai"})
        first = IngestionRun.objects.get()
        admin_client.post(reverse(RUN_NOW), {"source": "openai"})
        second = IngestionRun.objects.exclude(pk=first.pk).get()
        first.refresh_from_db()
        assert second.status == RunStatus.RUNNING and second.details == {"queued": True}
        assert (first.status, first.error_message) == (RunStatus.SKIPPED, NEVER_STARTED)
        # A worker that starts later takes both tasks: the superseded run stays skipped, the new one runs.
        assert ingest_run(first.pk) == RunStatus.SKIPPED
        first.refresh_from_db()
        assert first.error_message == NEVER_STARTED
        ingest_run(second.pk)
        second.refresh_from_db()
        assert second.error_message.startswith("not configured")

    def test_a_run_a_worker_took_still_locks_the_source(self, admin_client, no_worker):
        running = IngestionRun.objects.create(source="openai", tier=Tier.PROVIDER_API, status=RunStatus.RUNNING)
        response = admin_client.post(reverse(RUN_NOW), {"source": "openai"}, follow=True)
        later = IngestionRun.objects.exclude(pk=running.pk).get()
        assert later.status == RunStatus.SKIPPED and later.details == {"reason": "locked"}
        assert "Run of openai not queued — another run of this source is in progress." in page(response)
        assert not OrmQ.objects.exists()


class TestSyncButton:
    def test_sync_now_needs_no_batch_and_says_no_worker_runs(self, admin_client, no_worker):
        changelist = page(admin_client.get(reverse("admin:snapshots_batch_changelist")))
        assert f'action="{reverse("admin:snapshots_batch_sync_now")}"' in changelist
        response = admin_client.post(reverse("admin:snapshots_batch_sync_now"), follow=True)
        assert queued_tasks() == [("snapshots.tasks.snapshot_sync_task", ())]
        assert "1 task(s) waiting in the queue; no worker is running" in page(response)
        assert not Batch.objects.exists()


class TestStatusPage:
    def test_every_source_probe_round_and_sync_with_clean_errors_and_real_counts(self, client):
        now = timezone.now()
        IngestionRun.objects.create(
            source="openrouter",
            tier=Tier.PROVIDER_API,
            status=RunStatus.SUCCESS,
            finished_at=now,
            details={"offers": 412, "offers_added": 197, "offers_updated": 3, "registry_kept": 0},
        )
        upstream = (
            "<!DOCTYPE html>\n<html><head><title>502</title><style>p{}</style></head>\n"
            "<body><h1>502 Bad Gateway</h1>\n<p>cloudflare</p></body></html>"
        )
        IngestionRun.objects.create(
            source="huggingface", tier=Tier.HUGGING_FACE, status=RunStatus.FAILED, error_message=upstream
        )
        offer = baker.make(Mapping, provider=baker.make(Provider, slug="groq"), provider_model_id="m")
        probes = ((0, Outcome.SUCCESS), (1, Outcome.FAILURE), (1, Outcome.EXCLUDED), (30, Outcome.FAILURE))
        for minutes, outcome in probes:
            HealthCheck.objects.create(
                provider=offer.provider, checked_at=now - dt.timedelta(minutes=minutes), outcome=outcome
            )
        LatencySample.objects.create(provider=offer.provider, mapping=offer, checked_at=now, outcome=Outcome.SUCCESS)
        hour = now.replace(minute=0, second=0, microsecond=0)
        Batch.objects.create(
            hour=hour, started_at=hour, status="complete", complete=True, stats={"responses": 350, "models_seen": 340}
        )
        Batch.objects.create(
            hour=hour - dt.timedelta(hours=1),
            started_at=hour,
            status="incomplete",
            validation={"endpoints": {"failures": [{"path": "/api/v1/models", "status": 503, "error": "<b>down</b>"}]}},
        )
        html = page(client.get("/status"))
        for name in [*SOURCES, *PRICE_SOURCES]:
            assert f'<th scope="row">{name} <span class="sub">' in html
        assert html.count("Never run") == len({*SOURCES, *PRICE_SOURCES}) - 2
        assert "197 offers added, 3 offers updated, 412 offers" in html
        assert "<td>502 Bad Gateway</td>" in html and "cloudflare" not in html and "&lt;" not in html
        # Health: the round is the last two minutes' probes (3, one failed, one not counted); latency: one probe.
        assert '<th scope="row">Health</th>' in html
        health = html.split('<th scope="row">Health</th>')[1].split("</tr>")[0]
        assert [cell.split("</td>")[0] for cell in health.split('<td class="num">')[1:]] == ["3", "1", "1"]
        assert "350 responses, 340 models" in html and "/api/v1/models: down" in html
        assert 'class="badge good">Complete' in html and 'class="badge warn">Incomplete' in html


@pytest.mark.parametrize(
    ("message", "line"),
    [
        ("", ""),
        ("HTTP 503 from the Hub", "HTTP 503 from the Hub"),
        ("\n\n  first   line \nsecond", "first line"),
        ("<html><head><script>x()</script></head><body><p>Rate &amp; limited</p></body></html>", "Rate & limited"),
        ("x" * 500, "x" * 159 + "…"),
    ],
)
def test_error_line(message, line):
    assert error_line(message) == line
