"""Abuse: failed admin keys, admin logins and pages are throttled per client, and a forged X-Forwarded-For from a
client that is not a trusted proxy changes nothing."""

from __future__ import annotations

import pytest
from django.core import checks
from rest_framework.test import APIClient

from modelgraph.api import cache as api_cache
from modelgraph.api.client_ip import client_ip
from modelgraph.models import ApiKey
from registry.loading import registry_load

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/admin/ingestion-runs"


@pytest.fixture(autouse=True)
def _fresh_cache_state():
    api_cache.forget_state()
    yield
    api_cache.forget_state()


@pytest.fixture
def catalogue(db, registry_dir):
    registry_load(path=registry_dir)


@pytest.fixture
def api(client):
    return client


@pytest.fixture
def admin_key(db) -> str:
    raw = ApiKey.generate()
    ApiKey.objects.create(name="ops", prefix=raw[:10], key_hash=ApiKey.hash(raw))
    return raw


def bearer(key: str, **extra) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}", **extra}


class TestFailedAdminKeys:
    def test_past_the_limit_every_key_from_that_address_is_429_with_retry_after(self, admin_key, settings):
        settings.API_ADMIN_KEY_FAILURE_RATE = "3/min"
        api = APIClient()
        assert {api.get(RUNS, **bearer(admin_key)).status_code for _ in range(5)} == {200}  # good keys do not count
        assert [api.get(RUNS, **bearer(f"mg_guess-{n}")).status_code for n in range(3)] == [401, 401, 401]
        refused = api.get(RUNS, **bearer("mg_guess-4"))
        assert refused.status_code == 429
        assert 1 <= int(refused["Retry-After"]) <= 61
        assert "failed API keys" in refused.json()["detail"]
        # The right key too: otherwise the 429 would only slow guessing down, not stop it answering "that one".
        assert api.get(RUNS, **bearer(admin_key)).status_code == 429
        assert api.get(RUNS, **bearer(admin_key, REMOTE_ADDR="10.0.0.7")).status_code == 200

    def test_a_forged_forwarded_for_does_not_reset_the_count(self, admin_key, settings):
        settings.API_ADMIN_KEY_FAILURE_RATE = "2/min"
        settings.API_NUM_PROXIES = 1
        api = APIClient()
        statuses = [
            api.get(RUNS, **bearer("mg_x", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")).status_code for n in range(4)
        ]
        assert statuses == [401, 401, 429, 429]

    def test_routing_admin_api_counts_too(self, settings):
        settings.API_ADMIN_KEY_FAILURE_RATE = "1/min"
        api = APIClient()
        assert api.get("/api/routing/stats", **bearer("mg_x")).status_code == 401
        assert api.get("/api/routing/stats", **bearer("mg_y")).status_code == 429


class TestMethodBeforeAuthentication:
    @pytest.mark.parametrize("path", [RUNS, "/api/v1/admin/ingest/openai", "/api/routing/stats"])
    @pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE"])
    def test_an_unsupported_method_is_405_without_a_key(self, client, path, method):
        response = client.generic(method, path)
        assert response.status_code == 405, response.content


class TestForwardedFor:
    """The trap: with API_NUM_PROXIES=1 and no proxy in front, X-Forwarded-For used to be believed from anyone."""

    def test_a_forged_header_cannot_escape_the_api_throttle(self, catalogue, api, settings):
        settings.API_THROTTLE_RATE = "2/min"
        settings.API_NUM_PROXIES = 1
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
        statuses = [api.get("/api/providers", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(4)]
        assert statuses == [200, 200, 429, 429]

    def test_a_trusted_proxy_names_the_client(self, catalogue, api, settings):
        settings.API_THROTTLE_RATE = "2/min"
        settings.API_TRUSTED_PROXIES = ["10.0.0.0/8"]
        via_proxy = {"REMOTE_ADDR": "10.1.2.3"}
        for _ in range(2):
            assert api.get("/api/providers", HTTP_X_FORWARDED_FOR="203.0.113.1", **via_proxy).status_code == 200
        assert api.get("/api/providers", HTTP_X_FORWARDED_FOR="203.0.113.1", **via_proxy).status_code == 429
        assert api.get("/api/providers", HTTP_X_FORWARDED_FOR="203.0.113.2", **via_proxy).status_code == 200

    def test_what_the_client_wrote_left_of_the_proxy_is_ignored(self, rf, settings):
        settings.API_TRUSTED_PROXIES = ["10.0.0.0/8", "192.168.0.1"]
        request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9, 192.168.0.1")
        assert client_ip(request) == "203.0.113.9"
        assert client_ip(rf.get("/", REMOTE_ADDR="203.0.113.50", HTTP_X_FORWARDED_FOR="1.2.3.4")) == "203.0.113.50"

    def test_num_proxies_without_trusted_proxies_is_a_deploy_warning(self, settings):
        settings.API_NUM_PROXIES = 1
        settings.API_TRUSTED_PROXIES = []
        ids = {message.id for message in checks.run_checks(include_deployment_checks=True)}
        assert "modelgraph.W001" in ids
        settings.API_TRUSTED_PROXIES = ["10.0.0.1"]
        assert "modelgraph.W001" not in {m.id for m in checks.run_checks(include_deployment_checks=True)}

    def test_a_trusted_proxy_that_is_not_an_address_is_an_error_naming_it(self, settings):
        settings.API_TRUSTED_PROXIES = ["10.0.0.0/8", "proxy.internal"]
        errors = [m for m in checks.run_checks(include_deployment_checks=True) if m.id == "modelgraph.E001"]
        assert len(errors) == 1 and "API_TRUSTED_PROXIES" in errors[0].msg and "proxy.internal" in errors[0].msg


class TestPages:
    def test_past_the_page_rate_is_429_with_retry_after(self, catalogue, client, settings):
        settings.PAGE_THROTTLE_RATE = "3/min"
        for _ in range(2):  # the API and static files are not pages
            assert client.get("/api/providers").status_code == 200
            assert client.get("/static/css/site.css").status_code != 429  # (served by WhiteNoise in production)
        assert [client.get("/providers").status_code for _ in range(3)] == [200, 200, 200]
        response = client.get("/models")
        assert response.status_code == 429 and int(response["Retry-After"]) >= 1
        assert client.get("/providers", REMOTE_ADDR="10.3.3.3").status_code == 200  # another client


class TestAdminLogin:
    def login(self, client, username: str, password: str, **extra):
        return client.post("/admin/login/?next=/admin/", {"username": username, "password": password}, **extra)

    @pytest.fixture
    def curator(self, django_user_model):
        return django_user_model.objects.create_user("curator", password="right-password-123", is_staff=True)

    def test_after_five_failures_that_user_is_locked_out_from_that_address(self, client, curator, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert self.login(client, "curator", "wrong").status_code == 200  # the form again, with an error
        assert self.login(client, "curator", "wrong").status_code == 429
        assert self.login(client, "curator", "right-password-123").status_code == 429  # locked: even the right one
        # Another address may still sign in as that user (a lockout of the pair, not a denial of service on a name).
        assert self.login(client, "curator", "right-password-123", REMOTE_ADDR="10.4.4.4").status_code == 302

    def test_a_success_resets_the_count(self, client, curator, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            self.login(client, "curator", "wrong")
        assert self.login(client, "curator", "right-password-123").status_code == 302
        client.logout()
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert self.login(client, "curator", "wrong").status_code == 200
