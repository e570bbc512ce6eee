"""History tables keep the indexes their reads use and no more: every load writes a history row per changed row,
and each index a history table carries is written with it."""

from __future__ import annotations

import pytest
from django.db import connection

from catalog.models import Alias, Mapping, Model

pytestmark = pytest.mark.django_db


def _indexed_columns(model_class) -> set[str]:
    table = model_class.history.model._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {column for c in constraints.values() if c["index"] or c["primary_key"] for column in c["columns"]}


@pytest.mark.parametrize(
    ("model_class", "kept", "dropped"),
    [
        (Alias, {"id", "history_date", "model_id", "alias"}, {"in_registry", "provider_id"}),
        (Mapping, {"id", "history_date", "model_id"}, {"in_registry", "provider_id", "source"}),
        (Model, {"id", "history_date", "slug"}, {"in_registry", "family_id", "successor_id", "creator_id"}),
    ],
)
def test_history_indexes_serve_the_reads_by_object_date_and_model(model_class, kept, dropped):
    columns = _indexed_columns(model_class)
    assert kept <= columns  # obj.history, the admin's newest-first lists, a model page's alias and offer history
    assert not dropped & columns
    # The reads that need them still work through the ORM.
    assert list(model_class.history.filter(id=0).order_by("-history_date")) == []
