"""/metrics: refused without a `metrics:read` key (JSON, never HTML); after the gateway, a telemetry probe round, an
ingestion run, a snapshot sync and API reads have run, their families are in the exposition with the right counts."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import AsyncClient, Client
from prometheus_client.parser import text_string_to_metric_families

from ingestion.services import ingestion_run_source
from modelgraph.api_keys import hashed_key_issue, hashed_keys_revoke
from modelgraph.models import ApiKey, ApiScope
from snapshots.services import snapshot_sync
from telemetry.probes import HEALTH
from telemetry.services import telemetry_probe_round
from tests.routing.conftest import chat_body, run
from tests.snapshots.replay import Catalogue, CatalogueServer

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def issue(*scopes: str) -> tuple[ApiKey, str]:
    key = ApiKey(name="prometheus", scopes=list(scopes))
    return key, hashed_key_issue(key=key)


def scrape(client: Client, raw: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of the exposition, keyed by name and labels."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def closed(settings):
    settings.METRICS_OPEN = False
    return settings


class TestAccess:
    def test_without_a_key_it_is_a_json_401(self, closed):
        response = Client().get("/metrics")
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"
        assert "metrics:read" in response.json()["detail"]
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_an_unknown_key_is_a_json_401(self, closed):
        response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer mg_not-a-key")
        assert response.status_code == 401 and response.json()["detail"] == "unknown API key"

    def test_a_key_without_the_scope_is_a_json_403(self, closed):
        _, raw = issue(ApiScope.INGESTION_READ)
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert response.status_code == 403
        assert response.json()["detail"] == "this API key lacks the scope 'metrics:read'"
        assert b"modelgraph_" not in response.content

    def test_a_revoked_key_is_a_json_403(self, closed):
        key, raw = issue(ApiScope.METRICS_READ)
        hashed_keys_revoke(keys=ApiKey.objects.filter(pk=key.pk))
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert response.status_code == 403 and "revoked" in response.json()["detail"]

    def test_a_key_with_the_scope_reads_the_exposition(self, closed):
        _, raw = issue(ApiScope.METRICS_READ)
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        assert b"# TYPE modelgraph_gateway_requests_total counter" in response.content

    def test_writes_are_a_json_405(self, closed):
        response = Client().post("/metrics", data="{}", content_type="application/json")
        assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
        assert response["Content-Type"] == "application/json"

    def test_loopback_is_open_in_development_but_not_through_a_proxy(self, settings):
        settings.METRICS_OPEN = "loopback"
        assert Client().get("/metrics").status_code == 200  # the test client is 127.0.0.1
        proxied = Client().get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9")
        assert proxied.status_code == 401 and proxied["Content-Type"] == "application/json"


async def post(model: str, stream: bool = False):
    return await AsyncClient().post(
        "/v1/chat/completions", data=chat_body(model, stream=stream), content_type="application/json"
    )


class TestGatewayMetrics:
    def test_requests_latency_ttft_upstream_errors_and_rotation_are_counted(
        self, closed, catalogue, upstreams, make_pool
    ):
        make_pool(
            "tools",
            capability="tool-use",
            strategy="cheapest",
            max_attempts=2,
            failures_to_deactivate=2,
            cooldown_seconds=60,
        )
        _, raw = issue(ApiScope.METRICS_READ)
        before = scrape(Client(), raw)
        upstreams.c.configure(status=500)  # the cheapest fails: each request fails over to b

        async def scenario():
            first, second = await post("tool-use"), await post("tool-use", stream=True)
            body = b"".join([chunk async for chunk in second.streaming_content])  # the stream settles at its end
            return first, second, body

        first, second, body = run(scenario)
        assert first.status_code == second.status_code == 200 and first["X-ModelGraph-Route"] == "chat-model@prov-b"
        assert body.endswith(b"data: [DONE]\n\n")
        after = scrape(Client(), raw)

        def delta(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        success = {"pool": "tools", "provider": "prov-b", "outcome": "success"}
        assert delta("modelgraph_gateway_requests_total", **success, mode="sync") == 1
        assert delta("modelgraph_gateway_requests_total", **success, mode="stream") == 1
        latency = {"pool": "tools", "provider": "prov-b"}
        assert delta("modelgraph_gateway_request_duration_seconds_count", **latency) == 2
        assert delta("modelgraph_gateway_request_duration_seconds_bucket", **latency, le="+Inf") == 2
        assert delta("modelgraph_gateway_time_to_first_token_seconds_count", **latency) == 1
        assert delta("modelgraph_gateway_upstream_errors_total", provider="prov-c", kind="server") == 2
        assert delta("modelgraph_gateway_rotation_events_total", scope="offer", event="deactivated") == 1

    def test_a_request_without_a_route_is_counted_under_pool_none(self, closed, catalogue, upstreams):
        _, raw = issue(ApiScope.METRICS_READ)
        before = scrape(Client(), raw)
        assert run(post, "no-such-model").status_code == 404
        after = scrape(Client(), raw)
        labels = {"pool": "none", "provider": "none", "outcome": "client_error", "mode": "sync"}
        assert value(after, "modelgraph_gateway_requests_total", **labels) == (
            value(before, "modelgraph_gateway_requests_total", **labels) + 1
        )

    def test_a_model_request_is_counted_under_pool_model(self, closed, catalogue, upstreams):
        _, raw = issue(ApiScope.METRICS_READ)
        before = scrape(Client(), raw)
        assert run(post, "chat-model@prov-a").status_code == 200
        after = scrape(Client(), raw)
        labels = {"pool": "model", "provider": "prov-a", "outcome": "success", "mode": "sync"}
        name = "modelgraph_gateway_requests_total"
        assert value(after, name, **labels) == value(before, name, **labels) + 1


class TestBackgroundWorkMetrics:
    def test_probe_rounds_ingestion_runs_and_snapshot_syncs_are_counted(
        self, closed, catalogue, upstreams, settings, monkeypatch
    ):
        _, raw = issue(ApiScope.METRICS_READ)
        before = scrape(Client(), raw)
        upstreams.c.configure(status=500)
        summary = telemetry_probe_round(kind=HEALTH)  # the three providers' APIs and their six offers
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        run_row = ingestion_run_source(source="openai")
        settings.SNAPSHOTS_BACKOFF, settings.SNAPSHOTS_RETRIES = 0.01, 2
        with CatalogueServer(Catalogue(limit=5)) as replay:
            batch = snapshot_sync(base_url=replay.url, now=dt.datetime(2025, 5, 20, 12, 5, tzinfo=dt.UTC))
        after = scrape(Client(), raw)

        def delta(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        for outcome, count in summary.outcomes.items():
            assert delta("modelgraph_telemetry_probes_total", kind="health", outcome=outcome) == count
        assert summary.outcomes["success"] >= 1 and sum(summary.outcomes.values()) > summary.outcomes["success"]
        assert delta("modelgraph_telemetry_probe_round_duration_seconds_count", kind="health") == 1
        assert run_row.status == "skipped"
        assert delta("modelgraph_ingestion_runs_total", source="openai", status="skipped") == 1
        assert delta("modelgraph_ingestion_run_duration_seconds_count", source="openai") == 1
        assert batch.status in ("complete", "incomplete")  # a sync that ran to its end, whatever it found
        assert delta("modelgraph_snapshot_syncs_total", status=batch.status) == 1
        assert delta("modelgraph_snapshot_sync_duration_seconds_count") == 1


class TestApiMetrics:
    def test_api_requests_and_cache_hits_are_counted(self, closed, catalogue):
        _, raw = issue(ApiScope.METRICS_READ)
        client = Client()
        before = scrape(client, raw)
        statuses = [client.get("/api/providers").status_code for _ in range(3)]
        caches = [client.get("/api/providers")["X-Cache"] for _ in range(2)]
        after = scrape(client, raw)

        def delta(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        assert statuses == [200, 200, 200] and caches == ["HIT", "HIT"]
        assert delta("modelgraph_api_requests_total", view="api-provider-list", method="GET", status="200") == 5
        assert delta("modelgraph_api_cache_lookups_total", result="miss") == 1
        assert delta("modelgraph_api_cache_lookups_total", result="hit") == 4
        assert delta("modelgraph_api_request_duration_seconds_count", view="api-provider-list") == 5


class TestMultiprocessMode:
    def test_with_a_shared_directory_every_process_counts_in_one_exposition(self, tmp_path):
        """What PROMETHEUS_MULTIPROC_DIR promises: two gateway workers' requests, read from a third process."""
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
        record = (
            "from modelgraph import metrics; "
            "[metrics.gateway_request_observed('tools', 'prov-a', 'success', False, 0.2, None) for _ in range({n})]"
        )
        for count in (2, 3):  # two worker processes, one after the other (each its own pid, its own files)
            subprocess.run([sys.executable, "-c", record.format(n=count)], cwd=ROOT, env=env, check=True, timeout=60)
        exposed = subprocess.run(
            [sys.executable, "-c", "from modelgraph import metrics; print(metrics.exposition()[0].decode())"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=60,
            capture_output=True,
            text=True,
        ).stdout
        samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(exposed)
            for sample in family.samples
        }
        labels = {"pool": "tools", "provider": "prov-a", "outcome": "success", "mode": "sync"}
        assert value(samples, "modelgraph_gateway_requests_total", **labels) == 5
        assert value(samples, "modelgraph_gateway_request_duration_seconds_count", pool="tools", provider="prov-a") == 5
