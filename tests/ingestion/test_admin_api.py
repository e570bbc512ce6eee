"""The admin API behind bearer keys, and the operators' admin pages (runs, keys, pins from edits)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Model
from ingestion.models import FieldPin, IngestionRun, RunStatus
from modelgraph.models import ApiKey
from registry.loading import registry_load
from tests.ingestion.curation_helpers import client_with

pytest_plugins = ["tests.replay.fixtures"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def raw_key() -> str:
    raw = ApiKey.generate()
    ApiKey.objects.create(name="ops", prefix=raw[:10], key_hash=ApiKey.hash(raw))
    return raw


class TestAuthentication:
    def test_no_key_is_401_with_a_bearer_challenge(self):
        response = client_with(None).get("/api/v1/admin/ingestion-runs")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_unknown_key_is_401(self):
        assert client_with("mg_not-a-key").get("/api/v1/admin/ingestion-runs").status_code == 401

    def test_revoked_key_is_403(self, raw_key):
        ApiKey.objects.update(revoked_at=timezone.now())
        response = client_with(raw_key).post("/api/v1/admin/ingest/deprecations")
        assert response.status_code == 403
        assert "revoked" in response.json()["detail"]

    def test_keys_are_stored_hashed(self, raw_key):
        stored = ApiKey.objects.get()
        assert stored.key_hash == ApiKey.hash(raw_key) and raw_key not in (stored.key_hash, stored.prefix)


class TestRunsList:
    def test_lists_runs_filtered_by_source_and_status(self, raw_key):
        IngestionRun.objects.create(source="openai", tier=1, status=RunStatus.FAILED)
        IngestionRun.objects.create(source="openai", tier=1, status=RunStatus.SUCCESS)
        IngestionRun.objects.create(source="huggingface", tier=3, status=RunStatus.SUCCESS)
        client = client_with(raw_key)
        body = client.get("/api/v1/admin/ingestion-runs?source=openai&status=success").json()
        rows = body["results"] if isinstance(body, dict) else body
        assert [(r["source"], r["status"]) for r in rows] == [("openai", "success")]
        assert client.get("/api/v1/admin/ingestion-runs/?status=bogus").status_code == 400

    @pytest.mark.parametrize("query", ["status=bogus", "status="])
    def test_a_bad_status_is_400_naming_it(self, raw_key, query):
        response = client_with(raw_key).get(f"/api/v1/admin/ingestion-runs?{query}")
        assert response.status_code == 400
        body = response.json()
        assert list(body["errors"]) == ["status"] and body["detail"].startswith("Invalid parameter 'status'")


class TestQueueRun:
    def test_post_queues_a_run_and_answers_202_with_its_id(self, raw_key, replay_server, settings, registry_dir):
        registry_load(path=registry_dir)
        settings.INGESTION_BASE_URLS = {"deprecations": replay_server.mount("deprecations")}
        response = client_with(raw_key).post("/api/v1/admin/ingest/deprecations")
        assert response.status_code == 202
        run = IngestionRun.objects.get(pk=response.json()["run_id"])
        # The test settings run django-q2 synchronously, so the queued run has already happened.
        assert run.status == RunStatus.SUCCESS and run.source == "deprecations"

    def test_unknown_source_is_404(self, raw_key):
        assert client_with(raw_key).post("/api/v1/admin/ingest/nosuch").status_code == 404

    def test_a_source_already_running_is_409(self, raw_key):
        IngestionRun.objects.create(source="openai", tier=1, status=RunStatus.RUNNING)
        response = client_with(raw_key).post("/api/v1/admin/ingest/openai")
        assert response.status_code == 409 and response.json()["status"] == "skipped"

    def test_get_on_the_queue_endpoint_is_not_allowed(self, raw_key):
        assert client_with(raw_key).get("/api/v1/admin/ingest/openai").status_code == 405


class TestOperatorsAdmin:
    def test_runs_changelist_filters_by_status(self, admin_client):
        IngestionRun.objects.create(source="openai", tier=1, status=RunStatus.FAILED, error_message="HTTP 500")
        IngestionRun.objects.create(source="xai", tier=1, status=RunStatus.SUCCESS)
        response = admin_client.get(reverse("admin:ingestion_ingestionrun_changelist") + "?status__exact=failed")
        assert [r.source for r in response.context["cl"].result_list] == ["openai"]

    def test_creating_a_key_shows_it_once_and_stores_only_its_hash(self, admin_client):
        response = admin_client.post(reverse("admin:modelgraph_apikey_add"), {"name": "ci"}, follow=True)
        message = next(str(m) for m in response.context["messages"] if "copy it now" in str(m))
        raw = message.split("Key for ci: ")[1].split(" ")[0]
        assert ApiKey.objects.get(name="ci").key_hash == ApiKey.hash(raw)

    def test_editing_a_sourced_field_in_the_admin_pins_it(self, admin_client, admin_user, registry_dir):
        registry_load(path=registry_dir)
        model = Model.objects.get(slug="gpt-4o-mini")
        url = reverse("admin:catalog_model_change", args=[model.pk])
        form = admin_client.get(url).context["adminform"].form
        data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list | dict)}
        data.update(
            {
                "name": model.name,
                "slug": model.slug,
                "status": "active",
                "context_window": 64000,
                "input_modalities": model.input_modalities,
                "output_modalities": model.output_modalities,
                "capabilities": model.capabilities,
                "change_reason": "provider caps context at 64k",
                "creator": model.creator_id,
                "family": model.family_id,
            }
        )
        for prefix in ("aliases", "mappings", "pins"):
            data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
        response = admin_client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
        pin = FieldPin.objects.get(model=model, field="context_window")
        assert (pin.value, pin.reason, pin.pinned_by) == (64000, "provider caps context at 64k", admin_user)
        registry_load(path=registry_dir)
        assert Model.objects.get(pk=model.pk).context_window == 64000

    def test_model_page_shows_where_each_value_came_from(self, admin_client, registry_dir):
        registry_load(path=registry_dir)
        model = Model.objects.get(slug="gpt-4o")
        html = admin_client.get(reverse("admin:catalog_model_change", args=[model.pk])).content.decode()
        assert "Where each shown value came from" in html
        assert "<td><code>context_window</code></td><td>128000</td><td>registry</td>" in html
