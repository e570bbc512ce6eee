"""Redis down, throttling and /api/health: the API keeps answering from the database and says how it is."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest
import redis
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from catalog.models import Model
from modelgraph.api import cache as api_cache
from modelgraph.api.throttling import ClientRateThrottle
from modelgraph.models import ApiKey
from tests.api.test_caching import ENDPOINTS

pytest_plugins = ["tests.outage.fixtures"]
pytestmark = pytest.mark.django_db


def unreachable_redis(ignore_exceptions: bool) -> dict:
    """A real django-redis cache pointed at a loopback port nothing listens on."""
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "IGNORE_EXCEPTIONS": ignore_exceptions,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }


@pytest.mark.parametrize("ignore_exceptions", [True, False], ids=["ignoring", "raising"])
class TestRedisDown:
    def test_every_endpoint_answers_from_the_database(self, catalogue, api, ignore_exceptions):
        warm = {url: api.get(url).content for url in ENDPOINTS}  # cached in the real Redis first
        with override_settings(CACHES=unreachable_redis(ignore_exceptions)):
            for url in ENDPOINTS:
                response = api.get(url)
                assert response.status_code == 200, (url, response.content)
                assert response["X-Cache"] == "BYPASS"
                assert response.content == warm[url]
                assert api.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
            assert api.get("/api/models?status=bogus").status_code == 400
            assert api.get("/api/models/nope").status_code == 404

    def test_health_is_degraded_not_down(self, catalogue, api, ignore_exceptions):
        with override_settings(CACHES=unreachable_redis(ignore_exceptions)):
            response = api.get("/api/health")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        assert body["checks"]["cache"]["status"] == "down" and body["checks"]["database"]["status"] == "ok"

    def test_writes_during_the_outage_are_not_served_stale_afterwards(
        self, catalogue, api, ignore_exceptions, django_capture_on_commit_callbacks
    ):
        assert api.get("/api/models/gpt-4o").json()["name"] == "GPT-4o"  # cached in the real Redis
        with override_settings(CACHES=unreachable_redis(ignore_exceptions)):
            with django_capture_on_commit_callbacks(execute=True):
                model = Model.objects.get(slug="gpt-4o")
                model.name = "GPT-4o (renamed)"
                model.save()  # the version bump cannot reach the cache
            assert api.get("/api/models/gpt-4o").json()["name"] == "GPT-4o (renamed)"
        api_cache.breaker.reset()  # the cache is back
        response = api.get("/api/models/gpt-4o")
        assert response.json()["name"] == "GPT-4o (renamed)"  # the missed bump was replayed first
        assert api.get("/api/models/gpt-4o")["X-Cache"] == "HIT"


class TestCircuitBreaker:
    def test_a_failing_cache_is_skipped_for_a_while(self, catalogue, api):
        with override_settings(CACHES=unreachable_redis(False)):
            api.get("/api/models")
        assert api_cache.breaker.is_open  # the real Redis is back, but we wait before trusting it again
        assert api.get("/api/models")["X-Cache"] == "BYPASS"
        api.get("/api/health")  # a successful cache probe closes the breaker
        assert api.get("/api/models")["X-Cache"] in {"MISS", "HIT"}


class TestThrottling:
    @pytest.fixture(autouse=True)
    def _mid_window(self, monkeypatch):
        """Requests counted in fixed windows: keep the clock 20 s into one so a test never straddles two."""
        monkeypatch.setattr(ClientRateThrottle, "timer", staticmethod(lambda: 1_800_000_020.0))

    @pytest.mark.parametrize("url", ["/api/models", "/api/models/gpt-4o", "/api/resolve?name=gpt-4o", "/api/health"])
    @pytest.mark.parametrize("cache_enabled", [True, False], ids=["cached", "uncached"])
    def test_every_read_counts(self, catalogue, api, settings, url, cache_enabled):
        settings.API_THROTTLE_RATE = "2/min"
        settings.API_CACHE_ENABLED = cache_enabled
        statuses = [api.get(url).status_code for _ in range(3)]
        assert statuses == ([200, 200, 200] if url == "/api/health" else [200, 200, 429])

    def test_bad_requests_count_too(self, catalogue, api, settings):
        settings.API_THROTTLE_RATE = "2/min"
        assert [api.get("/api/models?search=a%00").status_code for _ in range(3)] == [400, 400, 429]

    def test_over_the_rate_is_429_saying_when_to_retry(self, catalogue, api, settings):
        settings.API_THROTTLE_RATE = "3/min"
        for _ in range(3):
            assert api.get("/api/models").status_code == 200
        response = api.get("/api/models")
        assert response.status_code == 429
        assert response["Retry-After"] == "40"  # the rest of the minute
        body = response.json()
        assert body["retry_after"] == 40
        assert body["detail"] == "Too many requests: the limit is 3/min per client. Retry after 40 seconds."

    def test_a_new_window_starts_a_new_count(self, catalogue, api, settings, monkeypatch):
        settings.API_THROTTLE_RATE = "1/min"
        assert api.get("/api/models").status_code == 200
        assert api.get("/api/models").status_code == 429
        monkeypatch.setattr(ClientRateThrottle, "timer", staticmethod(lambda: 1_800_000_060.0))
        assert api.get("/api/models").status_code == 200

    def test_each_client_has_its_own_budget_and_cannot_spoof_it(self, catalogue, api, settings):
        settings.API_THROTTLE_RATE = "2/min"
        for _ in range(2):
            api.get("/api/providers")
        assert api.get("/api/providers", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
        assert api.get("/api/providers", REMOTE_ADDR="10.1.2.3").status_code == 200


class TestOtherCacheBackends:
    def test_local_memory_cache_caches_and_throttles(self, catalogue, api, settings):
        locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-test"}}
        with override_settings(CACHES=locmem, API_THROTTLE_RATE="3/min"):
            cache.clear()
            assert api.get("/api/models")["X-Cache"] == "MISS"
            assert api.get("/api/models")["X-Cache"] == "HIT"
            assert api.get("/api/models/gpt-4o")["X-Cache"] == "MISS"
            assert api.get("/api/models").status_code == 429


@pytest.fixture
def admin_key() -> str:
    raw = ApiKey.generate()
    ApiKey.objects.create(name="ops", prefix=raw[:10], key_hash=ApiKey.hash(raw))
    return raw


@pytest.fixture
def hung_redis(tmp_path):
    """A real redis-server on a free loopback port, then frozen with SIGSTOP: connections are accepted by the kernel,
    nothing answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for line in server.stdout:  # its own log says when it listens: no polling
            if "Ready to accept connections" in line:
                break
        assert redis.Redis(port=port).ping()
        os.kill(server.pid, signal.SIGSTOP)
        yield port
    finally:
        server.kill()  # SIGKILL works on a stopped process; its sockets close and blocked clients return
        server.wait()


def redis_cache(port: int, socket_timeout: float) -> dict:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": socket_timeout,
                "SOCKET_TIMEOUT": socket_timeout,
            },
        }
    }


class TestHealth:
    def test_all_ok(self, db, api, admin_key):
        response = api.get("/api/health/", HTTP_AUTHORIZATION=f"Bearer {admin_key}")
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        body = response.json()
        assert body["status"] == "ok"
        assert {name: check["status"] for name, check in body["checks"].items()} == {
            "database": "ok",
            "cache": "ok",
            "worker": "ok",
        }
        assert all(check["latency_ms"] >= 0 for check in body["checks"].values())

    def test_worker_cluster_not_running_is_degraded(self, db, api, settings, admin_key):
        settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
        body = api.get("/api/health", HTTP_AUTHORIZATION=f"Bearer {admin_key}").json()
        assert body["status"] == "degraded"
        assert body["checks"]["worker"] == {**body["checks"]["worker"], "status": "degraded", "detail": "not running"}

    def test_running_cluster_is_ok(self, db, api, settings, monkeypatch, admin_key):
        from django_q.status import Stat

        class Running:
            cluster_id, status, workers = "c1", "Idle", [101, 102]

        settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
        monkeypatch.setattr(Stat, "get_all", staticmethod(lambda broker=None: [Running()]))
        worker = api.get("/api/health", HTTP_AUTHORIZATION=f"Bearer {admin_key}").json()["checks"]["worker"]
        assert (worker["status"], worker["clusters"], worker["workers"]) == ("ok", 1, 2)

    @pytest.mark.django_db(transaction=True)
    def test_database_down_is_503(self, api, database_outage):
        database_outage.cut()
        response = api.get("/api/health")
        assert response.status_code == 503
        assert response.json()["status"] == "down"
        assert response.json()["checks"]["database"] == {"status": "down"}


class TestHealthBudget:
    def test_a_hung_redis_costs_at_most_the_budget(self, db, api, hung_redis):
        with override_settings(CACHES=redis_cache(hung_redis, socket_timeout=5)):
            started = time.monotonic()
            response = api.get("/api/health")
            elapsed = time.monotonic() - started
        assert elapsed < 1.5, elapsed
        body = response.json()
        assert response.status_code == 200 and body["status"] == "degraded"
        assert body["checks"]["cache"] == {"status": "down", "detail": "timeout"}
        assert body["checks"]["database"] == {"status": "ok"}

    def test_staff_see_which_check_timed_out_and_why(self, db, api, hung_redis, admin_key):
        with override_settings(CACHES=redis_cache(hung_redis, socket_timeout=5)):
            body = api.get("/api/health", HTTP_AUTHORIZATION=f"Bearer {admin_key}").json()
        assert body["checks"]["cache"]["error"] == "no answer within 1 s"


class TestHealthDisclosure:
    def test_anonymous_callers_see_statuses_only(self, db, api):
        with override_settings(CACHES=unreachable_redis(False)):
            response = api.get("/api/health")
        checks = response.json()["checks"]
        assert checks == {"database": {"status": "ok"}, "cache": {"status": "down"}, "worker": {"status": "ok"}}
        for secret in (b"127.0.0.1", b"Error", b"postgresql", b"RedisCache", b"latency"):
            assert secret not in response.content

    def test_an_admin_key_sees_what_anonymous_callers_do_not(self, db, api, admin_key):
        with override_settings(CACHES=unreachable_redis(False)):
            anonymous = api.get("/api/health").json()["checks"]
            checks = api.get("/api/health", HTTP_AUTHORIZATION=f"Bearer {admin_key}").json()["checks"]
        assert "vendor" not in anonymous["database"] and "error" not in anonymous["cache"]
        assert checks["database"]["vendor"] == "postgresql"
        assert "Connection" in checks["cache"]["error"] or "127.0.0.1" in checks["cache"]["error"]

    def test_a_staff_session_sees_what_anonymous_callers_do_not(self, db, api, django_user_model):
        assert "backend" not in api.get("/api/health").json()["checks"]["cache"]
        api.force_login(django_user_model.objects.create_user("ops", password="pw", is_staff=True))
        assert api.get("/api/health").json()["checks"]["cache"]["backend"] == "RedisCache"

    def test_a_revoked_key_and_a_plain_user_see_statuses_only(self, db, api, admin_key, django_user_model):
        ApiKey.objects.update(revoked_at=timezone.now())
        assert api.get("/api/health", HTTP_AUTHORIZATION=f"Bearer {admin_key}").json()["checks"]["database"] == {
            "status": "ok"
        }
        api.force_login(django_user_model.objects.create_user("reader", password="pw"))
        assert api.get("/api/health").json()["checks"]["database"] == {"status": "ok"}

    def test_an_unknown_key_is_401(self, db, api):
        response = api.get("/api/health", HTTP_AUTHORIZATION="Bearer mg_not-a-key")
        assert response.status_code == 401 and "detail" in response.json()
