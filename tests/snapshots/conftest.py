"""Snapshot fixtures: a replay of OpenRouter on loopback, and a sync that runs against it at a chosen hour."""

from __future__ import annotations

import datetime as dt

import pytest

from snapshots.services import snapshot_sync
from tests.snapshots.replay import Catalogue, CatalogueServer

HOUR0 = dt.datetime(2025, 5, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def core_sources_only(settings):
    """Syncs fetch the core sources only: these tests count their requests and bodies. The extras (endpoint
    details, uptime series, provider capabilities, app usage) are on by default and tested in test_coverage*.py."""
    settings.SNAPSHOTS_EXTRAS = ()


@pytest.fixture
def catalogue() -> Catalogue:
    """The real catalogue cut to its first 40 models and 10 orphans (the whole one: `Catalogue()`)."""
    return Catalogue(limit=40)


@pytest.fixture
def replay(catalogue):
    with CatalogueServer(catalogue) as server:
        yield server


@pytest.fixture
def sync(replay, settings):
    """`sync(hour)` runs a whole sync against the replay at HOUR0 + `hour` hours (plus a few minutes)."""
    settings.SNAPSHOTS_BACKOFF = 0.01
    settings.SNAPSHOTS_RETRIES = 2

    def run(hour: int = 0, minute: int = 5, **kwargs):
        return snapshot_sync(base_url=replay.url, now=HOUR0 + dt.timedelta(hours=hour, minutes=minute), **kwargs)

    return run
