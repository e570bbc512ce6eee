"""The fast lane across processes: a write committed here is never answered stale by another process's lane (both
read the version tokens from the same Redis)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from registry.loading import registry_load

ROOT = Path(__file__).resolve().parents[2]
SERVER = """
import os, sys
import django
django.setup()
from wsgiref.simple_server import WSGIRequestHandler, make_server
from modelgraph.wsgi import application

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

server = make_server("127.0.0.1", 0, application, handler_class=Quiet)
print(server.server_port, flush=True)
server.serve_forever()
"""


def _empty(cache) -> None:
    """This test process's keys only (its KEY_PREFIX): parallel workers share the Redis database, and FLUSHDB
    would take theirs too."""
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture
def other_process(transactional_db):
    """A WSGI server (modelgraph.wsgi: the lane in front of Django) in its own process, on this test database."""
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    host = f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    url = f"postgres://{database['USER']}{password}@{host}/{database['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "modelgraph.settings.test"}
    env["API_THROTTLE_RATE"] = settings.API_THROTTLE_RATE
    process = subprocess.Popen([sys.executable, "-c", SERVER], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline())  # printed once the socket listens
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)
        _empty(cache)  # the host the other process's lane noted: later tests must not precompute for it


def get(url: str) -> tuple[dict, dict]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return {k.lower(): v for k, v in response.headers.items()}, json.loads(response.read())


def test_registry_load_here_is_seen_by_the_lane_there(other_process, registry_copy):
    assert "redis" in settings.CACHES["default"]["BACKEND"].lower()  # the cache both processes share
    registry_load(path=registry_copy)
    first_headers, first = get(other_process + "/api/models/gpt-4o")
    hit_headers, _ = get(other_process + "/api/models/gpt-4o")
    assert first_headers["x-cache"] == "MISS" and hit_headers["x-cache"] == "HIT"
    path = registry_copy / "mappings" / "openai" / "gpt-4o.yaml"
    path.write_text(path.read_text().replace("input: 2.5", "input: 2.0"))
    registry_load(path=registry_copy)  # commits here: catalogue_changed bumps the versions in Redis
    headers, body = get(other_process + "/api/models/gpt-4o")
    assert (first["min_price_input"], body["min_price_input"]) == (2.5, 2.0)
    assert headers["etag"] != first_headers["etag"] and headers["x-cache"] == "MISS"
