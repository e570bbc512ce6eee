"""Security headers: `check --deploy` clean under production settings, HTTPS enforced there (HSTS, redirect, the
health probe exempt), and a strict Content Security Policy everywhere that the pages, the admin and the Swagger UI
live with (no inline script)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from registry.loading import registry_load

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.IGNORECASE)


def production_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "API_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="modelgraph.settings.production",
        DJANGO_SECRET_KEY="k" * 20 + "-production-secret-for-tests-only-0123456789abcdef",
        DJANGO_ALLOWED_HOSTS="modelgraph.example",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/modelgraph"),
        **extra,
    )
    return env


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=production_env(**env), capture_output=True, text=True, timeout=120
    )


class TestProduction:
    def test_check_deploy_has_nothing_to_say(self):
        result = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=ROOT,
            env=production_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "System check identified no issues" in result.stdout, result.stdout + result.stderr

    PROBE = """
import django, json
django.setup()
from django.test import Client
client = Client(HTTP_HOST="modelgraph.example")
out = {}
for name, path, extra in [("plain", "/api/schema", {}), ("health", "/api/health", {}),
                          ("tls", "/api/schema", {"HTTP_X_FORWARDED_PROTO": "https"})]:
    response = client.get(path, **extra)
    out[name] = {"status": response.status_code, "headers": dict(response.items())}
print(json.dumps(out))
"""

    def probe(self, **env: str) -> dict:
        result = run_python(self.PROBE, **env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    def test_https_is_enforced_and_remembered(self):
        answers = self.probe()
        assert answers["plain"]["status"] == 301
        assert answers["plain"]["headers"]["Location"] == "https://modelgraph.example/api/schema"
        tls = answers["tls"]
        assert tls["status"] == 200
        assert tls["headers"]["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert "upgrade-insecure-requests" in tls["headers"]["Content-Security-Policy"]
        assert tls["headers"]["X-Content-Type-Options"] == "nosniff"

    def test_load_balancers_probe_health_over_plain_http(self):
        answers = self.probe()
        assert answers["health"]["status"] != 301
        assert answers["plain"]["status"] == 301  # while everything else is redirected

    def test_the_redirect_can_be_turned_off_behind_a_proxy_that_does_not_forward_the_proto(self):
        answers = self.probe(DJANGO_SECURE_SSL_REDIRECT="false")
        assert answers["plain"]["status"] == 200
        assert answers["tls"]["headers"]["Strict-Transport-Security"].startswith("max-age=31536000")  # HSTS stays


@pytest.mark.django_db
class TestContentSecurityPolicy:
    @pytest.fixture
    def catalogue(self, db, registry_dir):
        registry_load(path=registry_dir)

    def policy(self, response) -> dict[str, list[str]]:
        header = response["Content-Security-Policy"]
        return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}

    @pytest.mark.parametrize("path", ["/", "/models", "/models/gpt-4o", "/providers", "/search?q=llama", "/telemetry"])
    def test_pages_are_strict_and_need_no_inline_script(self, catalogue, client, path):
        response = client.get(path)
        assert response.status_code == 200
        policy = self.policy(response)
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
        assert INLINE_SCRIPT.findall(response.content.decode()) == []

    def test_the_admin_lives_with_it(self, admin_client):
        for path in ("/admin/", "/admin/catalog/model/", "/admin/catalog/model/add/"):
            response = admin_client.get(path)
            assert response.status_code == 200, path
            assert self.policy(response)["script-src"] == ["'self'"]
            assert INLINE_SCRIPT.findall(response.content.decode()) == [], path

    def test_the_swagger_ui_lives_with_it(self, client):
        response = client.get("/api/docs")
        assert self.policy(response)["script-src"] == ["'self'"]
        assert INLINE_SCRIPT.findall(response.content.decode()) == []
        script = client.get("/api/docs?script=")
        assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
