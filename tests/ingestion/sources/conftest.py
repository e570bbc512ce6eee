"""Fixtures of the source-adapter tests: adapters with fast retries and a plain HTTP client."""

from __future__ import annotations

import pytest

from ingestion.sources import make_client
from modelgraph.outbound import RetryPolicy
from tests.ingestion.sources.support import ADAPTERS


@pytest.fixture(autouse=True)
def _clear_cache():
    """These tests touch neither the cache nor the database: replace the project-wide cache reset."""
    yield


@pytest.fixture
def client():
    with make_client(timeout=5.0) as http_client:
        yield http_client


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def build(sleeps):
    """An adapter with fast retries (3 tries, waits recorded instead of slept) and a short timeout."""

    def _build(name: str, **attributes):
        retry = RetryPolicy(
            attempts=3, backoff=0.01, backoff_max=0.02, retry_after_max=0.05, jitter=0, sleep=sleeps.append
        )
        adapter = ADAPTERS[name](retry=retry, timeout=attributes.pop("timeout", 2.0))
        for key, value in attributes.items():
            setattr(adapter, key, value)
        return adapter

    return _build
