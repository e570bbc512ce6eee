"""An endpoint's series from the column blocks: a fixed number of queries, decoded blocks kept by the process."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from snapshots.entities import endpoints_path
from snapshots.figures import BLOCKS, BlockCache, figures_series
from snapshots.frames import COUNTER
from snapshots.models import Entity
from snapshots.storage import BatchReader
from tests.snapshots.test_sync import key_of, simple_models

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_kept_blocks():
    BLOCKS.clear()
    yield
    BLOCKS.clear()


def endpoint_of(catalogue) -> Entity:
    return Entity.objects.get(kind="endpoint", key=key_of(catalogue, simple_models(catalogue)[0]))


def uptimes(series) -> list:
    return [(f.batch.hour, f.uptime_last_30m, f.latency_p50) for f in series]


class TestSeriesReads:
    def test_the_queries_of_a_series_do_not_grow_with_its_hours(self, sync, catalogue):
        def queries(endpoint: Entity) -> int:
            BLOCKS.clear()
            with CaptureQueriesContext(connection) as captured:
                series = figures_series([endpoint.pk], 24, endpoints_path(endpoint.model_key))[endpoint.pk]
            assert len(series) == hours
            return len(captured)

        for hours in (1, 2):
            catalogue.hour = hours - 1
            sync(hours - 1)
        two = queries(endpoint_of(catalogue))
        for hours in (3, 4, 5):
            catalogue.hour = hours - 1
            sync(hours - 1)
        assert queries(endpoint_of(catalogue)) == two <= 6

    def test_a_kept_block_gives_the_same_figures_without_being_read_again(self, sync, catalogue):
        for hour in range(3):
            catalogue.hour = hour
            sync(hour)
        endpoint = endpoint_of(catalogue)
        path = endpoints_path(endpoint.model_key)
        COUNTER.reset()
        first = figures_series([endpoint.pk], 24, path)[endpoint.pk]
        assert len(first) == 3 and len({f.uptime_last_30m for f in first}) > 1
        cold = COUNTER.frames
        COUNTER.reset()
        again = figures_series([endpoint.pk], 24, path)[endpoint.pk]
        assert uptimes(again) == uptimes(first)
        assert COUNTER.frames == 3 < cold  # each batch's page index only: no column block decompressed

    def test_a_series_longer_than_the_cache_keeps_its_newest_blocks(self, sync, catalogue, monkeypatch):
        for hour in range(3):
            catalogue.hour = hour
            sync(hour)
        endpoint = endpoint_of(catalogue)
        monkeypatch.setattr(BLOCKS, "size", 2)
        path = endpoints_path(endpoint.model_key)
        series = figures_series([endpoint.pk], 24, path)[endpoint.pk]
        blocks = [BatchReader(f.batch).page_of(path).volatile for f in series]
        assert len(set(blocks)) == 3 and list(BLOCKS.blocks) == blocks[-2:]


class TestBlockCache:
    def test_the_least_recently_used_block_goes_first(self):
        cache = BlockCache(size=2)
        a, b, c = object(), object(), object()
        cache.put(1, a)  # type: ignore[arg-type]
        cache.put(2, b)  # type: ignore[arg-type]
        assert cache.get(1) is a
        cache.put(3, c)  # type: ignore[arg-type]
        assert cache.get(2) is None and cache.get(1) is a and cache.get(3) is c
