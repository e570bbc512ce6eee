"""The fast lane while PostgreSQL is down: the last good copy Django serves then (`X-Cache: STALE`) is never kept as
a precomputed answer, so it is never replayed as a fresh one."""

from __future__ import annotations

import pytest

from tests.api.lane import call, make_apps

pytest_plugins = ["tests.outage.fixtures"]
pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/models/gpt-4o"


def test_stale_copy_served_in_an_outage_is_not_kept(catalogue, database_outage, api):
    apps = make_apps()
    assert api.get(URL)["X-Cache"] == "MISS"  # Django's own cache holds it (its last good copy too); the lane not
    database_outage.cut()
    answers = [call(apps.lane, URL) for _ in range(2)]
    assert [(a.status, a["X-Cache"]) for a in answers] == [(200, "STALE"), (200, "STALE")]
    assert apps.django_paths == [URL, URL]  # both answered by Django: the stale copy was not stored
    database_outage.restore()
    fresh = call(apps.lane, URL)
    assert fresh.status == 200 and "warning" not in fresh.headers
