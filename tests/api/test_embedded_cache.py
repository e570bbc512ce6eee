"""The embedded default's cache (local memory, no REDIS_URL) holds every version token a registry load bumps: a
bump of thousands of tags is read back whole, so the breaker stays shut and the API keeps its cache."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from modelgraph.api import cache as api_cache
from modelgraph.env import cache_setting


@pytest.fixture
def embedded_cache(settings, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings.CACHES = {"default": cache_setting("mg-embedded-test")}
    caches["default"].clear()
    api_cache.breaker.reset()
    yield caches["default"]
    caches["default"].clear()
    api_cache.breaker.reset()


def test_a_load_sized_bump_fits(embedded_cache):
    tags = [f"model:{pk}" for pk in range(2_500)] + [f"provider:{pk}" for pk in range(200)] + ["catalogue"]
    api_cache.bump(tags)
    assert not api_cache.breaker.is_open
    versions = api_cache.versions(tags)
    assert versions is not None and len(versions) == len(tags)
    assert api_cache.versions(tags) == versions  # kept, not re-created: answers stored under them stay valid
