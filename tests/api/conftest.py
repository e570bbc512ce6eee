"""API fixtures: the small real registry loaded, an anonymous client, a closed cache circuit breaker."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from modelgraph.api import cache as api_cache
from registry.loading import registry_load
from tests.api.lane import make_apps

SMALL_REGISTRY = Path(__file__).resolve().parent.parent / "fixtures" / "registry_small"


@pytest.fixture(autouse=True)
def _api_defaults(settings):
    api_cache.forget_state()
    settings.API_THROTTLE_RATE = "100000/min"  # throttling has its own tests
    settings.API_CACHE_ENABLED = True
    yield
    api_cache.forget_state()


@pytest.fixture
def registry_copy(tmp_path) -> Path:
    target = tmp_path / "registry"
    shutil.copytree(SMALL_REGISTRY, target)
    return target


@pytest.fixture
def catalogue(db, registry_copy) -> Path:
    """The small registry loaded; returns the writable copy it was loaded from."""
    registry_load(path=registry_copy)
    return registry_copy


@pytest.fixture
def api(client):
    return client


@pytest.fixture
def uncached_apps(settings):
    """Django's handler and the fast lane in front of it, with the response cache off: the lane answers only what
    its routes compute (catalog/api/*_lane.py)."""
    settings.API_CACHE_ENABLED = False
    return make_apps()
