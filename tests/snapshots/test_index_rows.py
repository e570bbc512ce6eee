"""The index without bloat: no row per endpoint-hour, entity rows written only on a change, figures from columns."""

from __future__ import annotations

import pytest
from django.db import connection

from snapshots.entities import endpoints_path
from snapshots.figures import batch_figures
from snapshots.models import Entity, EntityVersion
from snapshots.selectors import entity_get, entity_history, model_price_history
from tests.snapshots.test_sync import key_of, simple_models

pytestmark = pytest.mark.django_db


class Writes:
    """Counts the statements that write a table (a connection execute_wrapper)."""

    def __init__(self, table: str):
        self.table = f'"{table}"'
        self.counts = {"INSERT": 0, "UPDATE": 0, "DELETE": 0}

    def __call__(self, execute, sql, params, many, context):
        head = sql.lstrip()[:6].upper()
        if head in self.counts and self.table in sql.split("WHERE")[0]:
            self.counts[head] += 1
        return execute(sql, params, many, context)


class TestEntityRows:
    def test_an_unchanged_hour_writes_no_entity_row(self, sync, catalogue):
        first = sync(0)
        catalogue.hour += 1  # new volatile figures only
        writes = Writes("snapshots_entity")
        rows = list(Entity.objects.order_by("pk").values())
        with connection.execute_wrapper(writes):
            second = sync(1)
        assert second.complete and writes.counts == {"INSERT": 0, "UPDATE": 0, "DELETE": 0}
        assert list(Entity.objects.order_by("pk").values()) == rows
        assert rows and all(row["last_seen_id"] == first.pk for row in rows)
        # ... and yet every entity was last seen in the second hour, in the API too
        entity = entity_get("model", next(iter(catalogue.models)))
        assert entity.seen_until == second and entity_history(entity)["versions"][-1].last_seen == second

    def test_a_new_entity_is_written_once_pointing_at_its_first_version(self, sync, catalogue):
        writes = Writes("snapshots_entity")
        with connection.execute_wrapper(writes):
            first = sync(0)
        assert first.complete and writes.counts["INSERT"] > 0
        assert writes.counts["UPDATE"] == 0  # no insert-then-update (a dead row per entity)
        entities = list(Entity.objects.select_related("current"))
        assert entities and all(e.current is not None and e.current.entity_id == e.pk for e in entities)
        assert all(e.current.first_batch_id == first.pk and e.current.last_batch_id is None for e in entities)
        # a later version of a known entity still moves `current`
        model = simple_models(catalogue)[0]
        catalogue.hour += 1
        catalogue.set_model_field(model, "name", "Renamed")
        sync(1)
        entity = Entity.objects.select_related("current").get(kind="model", key=model)
        assert entity.current.first_batch_id != first.pk and entity.current.entity_id == entity.pk

    def test_an_incomplete_hour_records_who_it_missed(self, sync, catalogue):
        sync(0)
        model = simple_models(catalogue)[0]
        catalogue.hour += 1
        catalogue.fail(endpoints_path(model), status=500)
        second = sync(1)
        assert not second.complete
        missed = Entity.objects.get(key=key_of(catalogue, model))
        seen = Entity.objects.get(key=key_of(catalogue, simple_models(catalogue)[1]))
        assert missed.seen_until.hour < second.hour and seen.seen_until == second

    def test_a_disappearance_writes_when_it_was_last_seen(self, sync, catalogue):
        sync(0)
        catalogue.hour += 1
        last = sync(1)
        model = simple_models(catalogue)[0]
        catalogue.remove_model(model)
        catalogue.hour += 1
        sync(2)
        gone = Entity.objects.get(kind="model", key=model)
        assert gone.state == "absent" and gone.last_seen == last and gone.seen_until == last
        version = EntityVersion.objects.filter(entity=gone).for_history().get()
        assert version.last_seen == last


class TestFiguresFromColumns:
    def test_an_endpoint_s_history_holds_the_figures_served_each_hour(self, sync, catalogue):
        model = simple_models(catalogue)[0]
        served = []
        for hour in range(3):
            catalogue.hour = hour
            served.append(catalogue._volatile(model, catalogue.endpoints[model][0])["uptime_last_30m"])
            sync(hour)
        entity = entity_get("endpoint", key_of(catalogue, model))
        metrics = entity_history(entity)["metrics"]
        assert [m.uptime_last_30m for m in metrics] == served
        assert [m.batch.hour.hour for m in metrics] == [12, 13, 14]
        prices = model_price_history(model)
        assert [m.uptime_last_30m for m in prices["endpoints"][0]["metrics"]] == served

    def test_a_batch_has_figures_for_every_endpoint_and_no_metric_rows(self, sync):
        batch = sync(0)
        figures = batch_figures(batch)
        assert len(figures) == Entity.objects.filter(kind="endpoint").count()
        assert all(f.status == 0 and f.values["uptime_last_30m"] is not None for f in figures.values())
        tables = connection.introspection.table_names()
        assert "snapshots_volatilemetric" not in tables
