"""An OpenRouter archive of six real-based hours for the archive's pages, synced from the loopback replay.

Hour 0 and 1 are complete (hour 1 reprices MODEL's first endpoint), hour 2 has no sync at all, hour 3 is complete,
hour 4 is incomplete (MODEL's endpoints fail, every other model is fetched) and hour 5 is complete again. Every
model has two endpoints (the real one and one clone at another real provider, 10% dearer).
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from snapshots.services import snapshot_sync
from tests.snapshots.replay import Catalogue, CatalogueServer

HOUR0 = dt.datetime(2025, 5, 20, 12, 0, tzinfo=dt.UTC)
MODEL = "mistralai/mistral-medium-3"  # real: $0.40 in, $2 out per million tokens at Mistral on 2025-05-20
OTHER = "arcee-ai/spotlight"  # observed in the incomplete hour
NEW_INPUT = "0.0000005"  # USD per token: $0.50 per million
MISSING_HOUR, INCOMPLETE_HOUR = 2, 4


@contextmanager
def archive_synced(settings):
    """Sync the six hours against a replay of the real catalogue (its first 12 models); yields what the tests need."""
    settings.SNAPSHOTS_BACKOFF = 0.01
    settings.SNAPSHOTS_RETRIES = 1
    catalogue = Catalogue(limit=12, extra_endpoints=1)
    with CatalogueServer(catalogue) as server:

        def sync(hour: int):
            catalogue.hour = hour
            return snapshot_sync(base_url=server.url, now=HOUR0 + dt.timedelta(hours=hour, minutes=5))

        old_input = catalogue.endpoints[MODEL][0]["pricing"]["prompt"]
        sync(0)
        catalogue.set_endpoint(MODEL, "pricing.prompt", NEW_INPUT)
        sync(1)
        sync(3)  # hour 2: no sync
        catalogue.fail(f"/api/v1/models/{MODEL}/endpoints", 500)
        incomplete = sync(INCOMPLETE_HOUR)
        catalogue.faults.clear()
        last = sync(5)
        yield {
            "catalogue": catalogue,
            "old_input": old_input,
            "incomplete": incomplete,
            "last": last,
            "tags": [endpoint["tag"] for endpoint in catalogue.endpoints[MODEL]],
        }
