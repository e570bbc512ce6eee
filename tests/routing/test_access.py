"""Who may use /v1/ (routing/access.py): gateway keys issued in the admin or by command, literal and referenced keys
in settings, the loopback-only embedded default and the closed production gateway, on both lanes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import AsyncClient
from django.urls import reverse

from routing.models import GatewayKey
from tests.routing.conftest import chat_body, run

ROOT = Path(__file__).resolve().parents[2]


class ClientAt(AsyncClient):
    """Django's async test client connecting from `address` (its default is always 127.0.0.1)."""

    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def _base_scope(self, **request):
        return {**super()._base_scope(**request), "client": [self.address, 50000]}


async def post(body, *, headers=None, remote="127.0.0.1"):
    return await ClientAt(remote).post(
        "/v1/chat/completions", data=body, content_type="application/json", headers=headers or {}
    )


async def lane(method: str, path: str, *, body: bytes = b"", headers=(), client=("127.0.0.1", 50000)):
    """One request through the lean ASGI lane (routing.asgi), as a server would deliver it."""
    from routing.asgi import application

    raw_headers = [(b"content-type", b"application/json"), *((k.encode(), v.encode()) for k, v in headers)]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "client": client,
        "server": ("127.0.0.1", 8000),
        "headers": raw_headers,
    }
    sent, messages = [], [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await application(scope, receive, send)
    status = sent[0]["status"]
    response_headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return status, response_headers, b"".join(m.get("body", b"") for m in sent[1:])


def error_of(content: bytes) -> dict:
    body = json.loads(content)
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.django_db
class TestLoopbackDefault:
    def test_without_keys_the_embedded_gateway_answers_loopback_clients_only(self, catalogue, upstreams):
        assert run(post, chat_body("chat-model"), remote="127.0.0.1").status_code == 200
        assert run(post, chat_body("chat-model"), remote="::1").status_code == 200
        refused = run(post, chat_body("chat-model"), remote="203.0.113.7")
        assert refused.status_code == 401
        error = error_of(refused.content)
        assert error["code"] == "gateway_key_not_configured" and "gateway_key issue" in error["message"]
        assert len(upstreams.a.requests + upstreams.b.requests + upstreams.c.requests) == 2

    def test_a_request_relayed_by_a_local_proxy_is_not_a_loopback_client(self, catalogue):
        response = run(post, chat_body("chat-model"), headers={"X-Forwarded-For": "203.0.113.7"})
        assert response.status_code == 401

    def test_the_asgi_lane_applies_the_same_rule(self, catalogue, upstreams):
        status, _, content = run(
            lane, "POST", "/v1/chat/completions", body=chat_body("chat-model").encode(), client=("198.51.100.4", 40000)
        )
        assert status == 401 and error_of(content)["code"] == "gateway_key_not_configured"
        status, _, _ = run(lane, "GET", "/v1/models", client=("198.51.100.4", 40000))
        assert status == 401
        status, _, _ = run(lane, "GET", "/v1/models")
        assert status == 200


@pytest.mark.django_db
class TestClosedGateway:
    def test_closed_without_keys_even_for_loopback(self, catalogue, settings, upstreams):
        settings.ROUTING_GATEWAY_OPEN = False
        response = run(post, chat_body("chat-model"))
        assert response.status_code == 401 and response["Content-Type"] == "application/json"
        error = error_of(response.content)
        assert (error["type"], error["code"]) == ("authentication_error", "gateway_key_not_configured")
        assert "ROUTING_GATEWAY_KEYS" in error["message"]
        assert run(AsyncClient().get, "/v1/models").status_code == 401
        assert run(lane, "GET", "/v1/models")[0] == 401
        assert upstreams.a.requests == upstreams.b.requests == upstreams.c.requests == []

    def test_production_settings_close_the_gateway(self, transactional_db):
        """Under modelgraph.settings.production (a separate process), /v1/ is 401 until a key exists."""
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "modelgraph.settings.production",
            "DJANGO_SECRET_KEY": "production-test-secret-" + "x" * 40,
            "DATABASE_URL": _database_url(),
            "DJANGO_ALLOWED_HOSTS": "testserver",
        }
        env.pop("ROUTING_GATEWAY_OPEN", None)
        script = (
            "import django, json; django.setup()\n"
            "from django.conf import settings; from django.test import Client\n"
            "response = Client().get('/v1/models', secure=True, REMOTE_ADDR='127.0.0.1')\n"
            "print(json.dumps([settings.ROUTING_GATEWAY_OPEN, response.status_code, response.json()]))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr[-2000:]
        gateway_open, status, body = json.loads(done.stdout.strip().splitlines()[-1])
        assert gateway_open is False and status == 401
        assert body["error"]["code"] == "gateway_key_not_configured"


def _database_url() -> str:
    info = connection.settings_dict
    return f"postgres://{info['USER']}@{info['HOST']}:{info['PORT'] or 5432}/{info['NAME']}"


@pytest.mark.django_db
class TestConfiguredKeys:
    def test_literal_and_referenced_keys_in_settings_work(self, catalogue, settings, monkeypatch):
        monkeypatch.setenv("GATEWAY_KEY_ONE", "mg-gw-secret")
        settings.ROUTING_GATEWAY_KEYS = ["mg-literal-key-123", "${secrets:GATEWAY_KEY_ONE}"]
        assert run(post, chat_body("chat-model"), headers=bearer("mg-literal-key-123")).status_code == 200
        assert run(post, chat_body("chat-model"), headers=bearer("mg-gw-secret")).status_code == 200
        for wrong in ("mg-literal-key-12", "${secrets:GATEWAY_KEY_ONE}", ""):
            assert run(post, chat_body("chat-model"), headers=bearer(wrong)).status_code == 401
        assert run(post, chat_body("chat-model")).status_code == 401  # loopback too, once a key exists

    def test_issued_keys_work_on_both_lanes_until_revoked(self, catalogue, settings, capsys):
        settings.ROUTING_GATEWAY_OPEN = False
        call_command("gateway_key", "issue", "search backend")
        raw = capsys.readouterr().out.strip()
        key = GatewayKey.objects.get()
        assert raw.startswith(key.prefix) and key.key_hash == GatewayKey.hash(raw) and raw not in key.key_hash
        assert run(post, chat_body("chat-model"), headers=bearer(raw)).status_code == 200
        assert run(lane, "GET", "/v1/models", headers=[("authorization", f"Bearer {raw}")])[0] == 200
        assert run(post, chat_body("chat-model"), headers=bearer("mg_gw_wrong")).status_code == 401
        call_command("gateway_key", "list")
        assert key.prefix in capsys.readouterr().out
        call_command("gateway_key", "revoke", key.prefix)
        assert run(post, chat_body("chat-model"), headers=bearer(raw)).status_code == 401  # at once in this process
        capsys.readouterr()
        call_command("gateway_key", "list")
        assert "\trevoked " in capsys.readouterr().out

    def test_revoking_an_unknown_key_is_a_clear_error(self, db):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError, match="no gateway key has the id or prefix 'mg_gw_nope'"):
            call_command("gateway_key", "revoke", "mg_gw_nope")


@pytest.mark.django_db
class TestGatewayKeyAdmin:
    def test_issue_shows_the_key_once_and_revoke_closes_it(self, admin_client, catalogue, settings):
        settings.ROUTING_GATEWAY_OPEN = False
        response = admin_client.post(reverse("admin:routing_gatewaykey_add"), {"name": "notebook"}, follow=True)
        text = response.content.decode()
        key = GatewayKey.objects.get()
        raw = text[text.index(key.prefix) :].split(" ", 1)[0]
        assert key.created_by.username == "admin" and GatewayKey.hash(raw) == key.key_hash
        assert raw not in admin_client.get(reverse("admin:routing_gatewaykey_change", args=[key.pk])).content.decode()
        assert run(post, chat_body("chat-model"), headers=bearer(raw)).status_code == 200
        admin_client.post(
            reverse("admin:routing_gatewaykey_changelist"), {"action": "revoke", "_selected_action": [key.pk]}
        )
        key.refresh_from_db()
        assert key.revoked_at is not None
        assert run(post, chat_body("chat-model"), headers=bearer(raw)).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_the_closed_gateway_under_uvicorn_on_both_lanes(catalogue, settings, live_gateway):
    settings.ROUTING_GATEWAY_OPEN = False
    with httpx.Client(base_url=live_gateway.url, timeout=10) as client:
        refused = client.post(
            "/v1/chat/completions", content=chat_body("chat-model"), headers={"Content-Type": "application/json"}
        )
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "gateway_key_not_configured"
        key = GatewayKey(name="live")
        from routing.access import gateway_key_issue

        raw = gateway_key_issue(key=key)
        answered = client.post(
            "/v1/chat/completions",
            content=chat_body("chat-model"),
            headers={"Content-Type": "application/json", **bearer(raw)},
        )
        assert answered.status_code == 200


@pytest.mark.django_db
class TestOddModelNames:
    def test_a_control_character_in_a_model_path_is_a_json_404_on_both_lanes(self, catalogue):
        code, headers, content = run(lane, "GET", "/v1/models/a\x00b")
        assert code == 404 and headers["content-type"] == "application/json"
        assert error_of(content)["code"] == "model_not_found"
        for path in ("/v1/a%0Ab", "/v1/models/a%0Ab", "/v1/models/a%00b"):
            response = run(AsyncClient().get, path)
            assert response.status_code in (400, 404), path  # (a NUL may be refused before the view: 400)
            assert response["Content-Type"] == "application/json", path
            error_of(response.content)
