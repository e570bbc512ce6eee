"""The telemetry API: health, latency (windows), ranked (any model path, aliases too), cached for a minute."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from model_bakery import baker
from rest_framework.test import APIClient

from catalog.models import Alias, Mapping, Model, Provider
from telemetry.classification import Outcome
from telemetry.probes import HEALTH, ProbeResult, ProbeTarget
from telemetry.rollups import floor_hour
from telemetry.services import telemetry_record_results, telemetry_rollup_range
from tests.telemetry.conftest import add_health, add_latency

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def graph(probed):
    model = baker.make(Model, slug="llama-3.3-70b", name="Llama 3.3 70B")
    baker.make(Alias, alias="meta-llama/Llama-3.3-70B-Instruct", model=model)
    provider = baker.make(Provider, slug="acme", name="Acme", **probed)
    mapping = baker.make(
        Mapping, provider=provider, model=model, provider_model_id="llama-70b", price_input=1, price_output=2
    )
    hour = floor_hour(timezone.now())
    add_health(provider, hour - timedelta(hours=3), count=10)
    add_latency(mapping, hour - timedelta(hours=3), ttft_ms=[200.0, 250.0, 300.0], total_ms=[900.0] * 3)
    telemetry_rollup_range(start=hour - timedelta(days=1), end=hour + timedelta(hours=1))
    return model, provider, mapping


class TestHealthEndpoint:
    def test_health_of_a_provider(self, client, graph):
        response = client.get("/api/telemetry/health/acme")
        assert response.status_code == 200
        body = response.json()
        assert body["provider"] == {"id": "acme", "name": "Acme"} and body["window"] == "7d"
        assert (body["successes"], body["uptime"], body["status"]) == (10, 1.0, "unknown")

    def test_window_must_be_one_of_the_four(self, client, graph):
        response = client.get("/api/telemetry/health/acme?window=2w")
        assert response.status_code == 400 and "window" in response.json()["errors"]

    @pytest.mark.parametrize("path", ["health", "latency"])
    @pytest.mark.parametrize("window", ["2w", ""])
    def test_a_bad_window_is_400_naming_it(self, client, graph, path, window):
        response = client.get(f"/api/telemetry/{path}/acme?window={window}")
        assert response.status_code == 400
        body = response.json()
        assert list(body["errors"]) == ["window"] and body["detail"].startswith("Invalid parameter 'window'")

    def test_unknown_provider_is_404(self, client, db):
        assert client.get("/api/telemetry/health/nobody").status_code == 404


class TestLatencyEndpoint:
    def test_latency_of_a_provider_over_a_window(self, client, graph):
        body = client.get("/api/telemetry/latency/acme/?window=24h").json()
        assert body["window"] == "24h" and body["samples"] == 3
        assert body["ttft_ms"]["p50"] == pytest.approx(250, rel=0.025)
        assert body["mappings"][0]["provider_model_id"] == "llama-70b"

    def test_old_samples_fall_outside_a_short_window(self, client, graph):
        assert client.get("/api/telemetry/latency/acme?window=1h").json()["samples"] == 0


class TestRankedEndpoint:
    @pytest.mark.parametrize("model_id", ["llama-3.3-70b", "meta-llama/Llama-3.3-70B-Instruct"])
    def test_ranked_by_slug_or_alias(self, client, graph, model_id):
        response = client.get(f"/api/telemetry/ranked/{model_id}")
        assert response.status_code == 200
        body = response.json()
        assert body["model"]["id"] == "llama-3.3-70b" and body["window"] == "7d"
        (entry,) = body["providers"]
        assert entry["rank"] == 1 and entry["provider"]["id"] == "acme" and entry["provisional"]
        assert set(entry["components"]) == {"uptime", "ttft", "price", "total_time"}
        assert entry["components"]["price"]["raw"] == pytest.approx(1.25)
        # uptime is made of health checks only: latency probes time the offer, they are not uptime samples
        assert entry["samples"] == {"uptime": 0, "latency": 3} and entry["measured"] and entry["uptime"] is None

    def test_unknown_model_is_404(self, client, db):
        assert client.get("/api/telemetry/ranked/no-such-model").status_code == 404


class TestCaching:
    def test_a_repeat_read_is_served_from_the_cache_without_queries(self, client, graph):
        assert client.get("/api/telemetry/ranked/llama-3.3-70b").headers["X-Cache"] == "MISS"
        with CaptureQueriesContext(connection) as context:
            response = client.get("/api/telemetry/ranked/llama-3.3-70b")
        assert response.headers["X-Cache"] == "HIT"
        # Only the look-ups that name the cache key (which model, which offers) run: no telemetry read at all.
        assert not [q for q in context.captured_queries if "telemetry_" in q["sql"]], context.captured_queries
        assert len(context.captured_queries) <= 3

    def test_a_recorded_probe_round_refreshes_cached_answers(self, client, graph, django_capture_on_commit_callbacks):
        _, provider, _ = graph
        assert client.get("/api/telemetry/health/acme").json()["successes"] == 10
        target = ProbeTarget(kind=HEALTH, provider_id=provider.pk, mapping_id=None, label="acme")
        with django_capture_on_commit_callbacks(execute=True):
            telemetry_record_results(
                results=[ProbeResult(target=target, checked_at=timezone.now(), outcome=Outcome.SUCCESS)]
            )
        body = client.get("/api/telemetry/health/acme").json()
        assert body["successes"] == 11 and body["status"] == "up"
