"""A JSON body nested a few thousand levels deep is a 400 naming the limit on every API that takes JSON, never a
RecursionError (500): the admin and curation APIs (DRF) measure nesting before parsing, as the gateway does."""

from __future__ import annotations

import json

import pytest

from catalog.models import Model
from modelgraph.models import ApiKey, ApiScope
from tests import recipes

pytestmark = pytest.mark.django_db


def nested(depth: int) -> str:
    return '{"alias": ' + "[" * depth + "]" * depth + "}"


@pytest.fixture
def admin_api(client):
    raw = ApiKey.generate()
    ApiKey.objects.create(
        name="deep", prefix=raw[:10], key_hash=ApiKey.hash(raw), scopes=[scope.value for scope in ApiScope]
    )
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    client.raise_request_exception = False
    return client


def test_a_body_nested_past_the_limit_is_a_400_on_every_admin_write(admin_api, settings):
    model = recipes.text_model.make(slug="deep-model", name="Deep")
    urls = [
        "/api/v1/admin/aliases",
        f"/api/v1/admin/models/{model.slug}/pins",
        f"/api/v1/admin/models/{model.slug}/lifecycle",
        f"/api/v1/admin/models/{model.slug}/merge",
        "/api/routing/keys",
    ]
    for url in urls:
        response = admin_api.post(url, nested(5000), content_type="application/json")
        assert response.status_code == 400, (url, response.status_code)
        assert response["Content-Type"].startswith("application/json")
        assert f"more than {settings.API_MAX_JSON_DEPTH} deep" in response.json()["detail"], url
    assert Model.objects.count() == 1


def test_the_limit_is_the_setting_and_a_body_within_it_is_read(admin_api, settings):
    settings.API_MAX_JSON_DEPTH = 8
    too_deep = admin_api.post("/api/v1/admin/aliases", nested(8), content_type="application/json")
    assert too_deep.status_code == 400 and "more than 8 deep" in too_deep.json()["detail"]
    # Seven levels inside the object: parsed, then refused by the endpoint's own validation (not the depth rule).
    within = admin_api.post("/api/v1/admin/aliases", nested(7), content_type="application/json")
    assert within.status_code == 400 and "deep" not in json.dumps(within.json())
    # Brackets inside strings are text, not nesting.
    text = admin_api.post(
        "/api/v1/admin/aliases", json.dumps({"alias": "[" * 100, "model": "nope"}), content_type="application/json"
    )
    assert text.status_code in (400, 404) and "deep" not in json.dumps(text.json())


def test_a_nul_character_anywhere_in_a_json_body_is_a_400_naming_where(admin_api):
    """PostgreSQL can neither store nor compare a NUL: one in a slug list was a database error (500)."""
    from routing.models import GatewayKey

    body = {"name": "k", "allowed_models": ["ok", "a\x00"]}
    response = admin_api.post("/api/routing/keys", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "allowed_models": ["a NUL character (\\u0000) in allowed_models[1]: it cannot be stored"]
    }
    assert response.json()["detail"].startswith("Invalid parameter 'allowed_models': a NUL character")
    assert not GatewayKey.objects.exists()
    for body, parameter in (({"alias": "x", "model": {"a\x00": 1}}, "model"), ({"reason\x00": "x"}, "reason\\u0000")):
        response = admin_api.post("/api/v1/admin/aliases", json.dumps(body), content_type="application/json")
        assert response.status_code == 400 and list(response.json()["errors"]) == [parameter], response.json()
