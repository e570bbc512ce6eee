"""A real PostgreSQL outage (the connection cut by a loopback proxy): cached answers are still served, marked stale
where they needed the database; anything else is a 503 with Retry-After, JSON under /api/, never a 500."""

from __future__ import annotations

import time

import pytest

from tests.api.test_caching import ENDPOINTS

pytest_plugins = ["tests.outage.fixtures"]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def warm(catalogue, database_outage, api) -> dict[str, bytes]:
    """Every endpoint answered once through the proxy (so cached), then the database cut."""
    bodies = {}
    for url in ENDPOINTS:
        response = api.get(url)
        assert response.status_code == 200 and response["X-Cache"] == "MISS", url
        bodies[url] = response.content
    database_outage.cut()
    return bodies


class TestDatabaseDown:
    def test_every_cached_answer_is_still_served(self, warm, api):
        for url, body in warm.items():
            response = api.get(url)
            assert response.status_code == 200, (url, response.content)
            assert response.content == body
            assert response["X-Cache"] in {"HIT", "STALE"}

    def test_answers_that_needed_the_database_are_marked_stale(self, warm, api):
        response = api.get("/api/models/gpt-4o")
        assert response["X-Cache"] == "STALE"
        assert response["Warning"] == '110 - "Response is stale"'
        assert response["Content-Type"] == "application/json"

    def test_an_answer_never_cached_is_a_json_503_with_retry_after(self, warm, api):
        response = api.get("/api/models/deepseek-r1")
        assert response.status_code == 503
        assert response["Content-Type"] == "application/json" and response["Retry-After"] == "30"
        assert response.json() == {"detail": "The database is unavailable; retry shortly."}

    def test_a_page_is_a_503_page_not_a_server_error(self, warm, client):
        response = client.get("/status")
        assert response.status_code == 503 and response["Retry-After"] == "30"
        assert b"Temporarily unavailable" in response.content

    def test_health_says_down_at_once_and_shows_no_error_text(self, warm, api):
        started = time.monotonic()
        response = api.get("/api/health")
        assert time.monotonic() - started < 1.5
        assert response.status_code == 503 and response["Retry-After"] == "30"
        assert response.json()["checks"]["database"] == {"status": "down"}

    def test_fresh_answers_again_once_the_database_is_back(self, warm, api, database_outage):
        assert api.get("/api/models/gpt-4o")["X-Cache"] == "STALE"
        database_outage.restore()
        response = api.get("/api/models/gpt-4o")
        assert response.status_code == 200 and response["X-Cache"] == "HIT"
        assert api.get("/api/models/deepseek-r1").status_code == 200


class TestStaleCopies:
    def test_the_last_good_copy_outlives_its_freshness_but_serves_only_outages(
        self, catalogue, api, settings, database_outage
    ):
        settings.API_CACHE_CATALOGUE_SECONDS = 0  # fresh for no time, kept only as the last good copy
        body = api.get("/api/models/gpt-4o").content
        assert api.get("/api/models/gpt-4o")["X-Cache"] == "MISS"  # the database is up: recomputed
        database_outage.cut()
        response = api.get("/api/models/gpt-4o")
        assert (response.status_code, response["X-Cache"], response.content) == (200, "STALE", body)
