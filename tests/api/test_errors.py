"""Errors under /api/ and /v1/ are JSON in one shape, whatever raised them; pages keep their HTML."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import include, path
from django.views.decorators.http import require_POST

from modelgraph.models import ApiKey

pytestmark = pytest.mark.django_db


def explode(request, **kwargs):
    raise RuntimeError("secret internals: /etc/modelgraph.env")


@require_POST
def post_only(request):
    return HttpResponse("ok")


# The project's routes plus a view that fails under each surface (tests only: this URLconf is never served).
urlpatterns = [
    path("api/boom", explode),
    path("api/post-only", post_only),
    path("v1/boom", explode),
    path("boom", explode),
    path("", include("modelgraph.urls")),
]
handler400 = "modelgraph.api.errors.bad_request"
handler404 = "web.views.not_found"
handler500 = "modelgraph.api.errors.server_error"


@pytest.fixture
def raw_key() -> str:
    raw = ApiKey.generate()
    ApiKey.objects.create(name="ops", prefix=raw[:10], key_hash=ApiKey.hash(raw))
    return raw


@pytest.fixture
def failing(client):
    client.raise_request_exception = False
    with override_settings(ROOT_URLCONF=__name__):
        yield client


class TestServerErrors:
    def test_under_the_api_a_server_error_is_json_without_internals(self, failing):
        response = failing.get("/api/boom")
        assert response.status_code == 500 and response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Server error: the request could not be answered; it has been logged."}
        assert b"secret" not in response.content

    def test_under_the_gateway_it_is_openai_shaped(self, failing):
        response = failing.get("/v1/boom")
        assert response.status_code == 500 and response["Content-Type"] == "application/json"
        assert response.json()["error"]["type"] == "server_error"

    def test_a_page_keeps_its_html(self, failing):
        response = failing.get("/boom")
        assert response.status_code == 500 and response["Content-Type"].startswith("text/html")


class TestMethodNotAllowed:
    def test_a_plain_django_view_under_the_api_answers_json_with_allow(self, failing):
        response = failing.get("/api/post-only")
        assert response.status_code == 405 and response["Allow"] == "POST"
        assert response.json() == {"detail": 'Method "GET" not allowed.'}

    @pytest.mark.parametrize("url", ["/api/v1/admin/ingestion-runs", "/api/routing/stats"])
    def test_an_unserved_method_is_405_before_authentication(self, client, url):
        response = client.generic("TRACE", url)
        assert response.status_code == 405, response.content
        assert response.json() == {"detail": 'Method "TRACE" not allowed.'}
        assert "GET" in response["Allow"] and "TRACE" not in response["Allow"]


class TestOneErrorShape:
    def test_the_admin_api_names_the_bad_parameter_like_the_public_api(self, client, raw_key):
        response = client.get("/api/v1/admin/ingestion-runs?status=bogus", HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        assert response.status_code == 400
        body = response.json()
        assert set(body) == {"detail", "errors"} and "status" in body["errors"]
        assert body["detail"].startswith("Invalid parameter 'status':")

    def test_a_bad_host_under_the_api_is_a_json_400(self, client):
        response = client.get("/api/models", HTTP_HOST="evil.example")
        assert response.status_code == 400 and response["Content-Type"] == "application/json"
        assert set(response.json()) == {"detail"}

    def test_the_bare_api_prefix_is_a_json_404(self, client):
        response = client.get("/api")
        assert response.status_code == 404 and response["Content-Type"] == "application/json"

    def test_a_nul_in_an_admin_api_parameter_is_a_400_naming_it(self, client, raw_key):
        response = client.get("/api/routing/requests?pool=a%00b", HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        assert response.status_code == 400
        assert response.json()["errors"] == {"pool": ["Must not contain NUL characters."]}

    def test_a_nul_in_a_page_parameter_is_a_400_page(self, client):
        response = client.get("/search?q=a%00b")
        assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
        assert b"Must not contain NUL characters." in response.content
