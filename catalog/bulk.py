"""Set-based writes for registry loads: upsert on a natural key and history copied from the rows, in a few statements.

On PostgreSQL rows travel by COPY into a temporary table and are merged with INSERT … ON CONFLICT DO UPDATE; on the
embedded SQLite the same upsert goes through Django's bulk_create(update_conflicts=True).
"""

from __future__ import annotations

import itertools

from django.db import connection
from django.db.models import JSONField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from psycopg.types.json import Jsonb

BATCH_SIZE = 2000
_counter = itertools.count()


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def ids_in(ids, field: str = "pk") -> Q:
    """`field IN ids` as one array parameter on PostgreSQL (10,000 placeholders cost more to send than to run)."""
    ids = list(ids)
    if connection.vendor == "postgresql" and len(ids) > 100:
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", (ids,))})
    return Q(**{f"{field}__in": ids})


def insert(model_class, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert new rows (tuples of attnames in `columns` order): COPY on PostgreSQL, bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objects = [model_class(**dict(zip(columns, row, strict=True))) for row in rows]
        model_class.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        return
    json_at = [i for i, c in enumerate(columns) if isinstance(model_class._meta.get_field(c), JSONField)]
    table = _quote(model_class._meta.db_table)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(map(_quote, columns))}) FROM STDIN") as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = Jsonb(row[i])
                copy.write_row(row)


def upsert(model_class, natural_key: tuple[str, ...], columns: tuple[str, ...], rows: list[dict]) -> dict:
    """Insert or update rows (dicts of attnames) on natural_key; returns natural key tuple -> pk of each row."""
    if not rows:
        return {}
    if connection.vendor == "postgresql":
        return _upsert_postgresql(model_class, natural_key, columns, rows)
    return _upsert_portable(model_class, natural_key, columns, rows)


def next_ids(model_class, count: int) -> list[int] | None:
    """`count` ids drawn from the table's id sequence, for rows inserted with their ids (PostgreSQL); None where ids
    cannot be drawn ahead of the insert."""
    if connection.vendor != "postgresql":
        return None
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model_class._meta.db_table, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def insert_new(model_class, natural_key: tuple[str, ...], columns: tuple[str, ...], rows: list[dict]) -> dict:
    """Insert rows whose natural keys the table does not hold (dicts of attnames); returns natural key -> pk.

    On PostgreSQL the ids are drawn from the table's sequence first and the rows COPied straight into the table: no
    temporary table and no conflict check per row (a first load of the 2,000-model registry inserts 32,000 rows). A
    key that exists after all (written meanwhile by another transaction) fails on the unique constraint, as an
    upsert's caller expects from a row the database refuses. Elsewhere this is `upsert`."""
    if not rows:
        return {}
    if connection.vendor != "postgresql":
        return _upsert_portable(model_class, natural_key, columns, rows)
    defaults = _unmanaged_defaults(model_class, natural_key, columns)
    all_columns = ("id", *natural_key, *columns, *defaults, "created_at", "updated_at")
    now = timezone.now()
    ids = next_ids(model_class, len(rows)) or []
    insert(
        model_class,
        all_columns,
        [
            (pk, *(row[c] for c in (*natural_key, *columns)), *defaults.values(), now, now)
            for pk, row in zip(ids, rows, strict=True)
        ],
    )
    return {tuple(row[k] for k in natural_key): pk for pk, row in zip(ids, rows, strict=True)}


def _unmanaged_defaults(model_class, natural_key, columns) -> dict:
    """Columns the registry does not manage still need their model default on insert (they are never updated)."""
    return {
        f.attname: f.get_default()
        for f in model_class._meta.concrete_fields
        if f.attname not in (*natural_key, *columns, "id", "created_at", "updated_at")
    }


def _upsert_postgresql(model_class, natural_key, columns, rows) -> dict:
    table = _quote(model_class._meta.db_table)
    temp = f"mg_upsert_{next(_counter)}"
    defaults = _unmanaged_defaults(model_class, natural_key, columns)
    all_columns = (*natural_key, *columns, *defaults)
    rows = [{**defaults, **row} for row in rows]
    json_columns = {f.attname for f in model_class._meta.concrete_fields if isinstance(f, JSONField)}
    column_list = ", ".join(map(_quote, all_columns))
    assignments = ", ".join(f"{_quote(c)} = EXCLUDED.{_quote(c)}" for c in (*columns, "updated_at"))
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} AS SELECT {column_list} FROM {table} WITH NO DATA")
        with cursor.cursor.copy(f"COPY {temp} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([Jsonb(row[c]) if c in json_columns else row[c] for c in all_columns])
        cursor.execute(
            f"INSERT INTO {table} ({column_list}, created_at, updated_at) "
            f"SELECT {column_list}, %s, %s FROM {temp} "
            f"ON CONFLICT ({', '.join(map(_quote, natural_key))}) DO UPDATE SET {assignments} "
            f"RETURNING id, {', '.join(map(_quote, natural_key))}",
            [now, now],
        )
        pks = {tuple(rest): pk for pk, *rest in cursor.fetchall()}
        cursor.execute(f"DROP TABLE {temp}")
    return pks


def _upsert_portable(model_class, natural_key, columns, rows) -> dict:
    objects = [model_class(**row) for row in rows]
    field_name = model_class._meta.get_field
    for start in range(0, len(objects), BATCH_SIZE):
        model_class.objects.bulk_create(
            objects[start : start + BATCH_SIZE],
            update_conflicts=True,
            unique_fields=[field_name(k).name for k in natural_key],
            update_fields=[field_name(c).name for c in columns] + ["updated_at"],
        )
    return {tuple(getattr(obj, k) for k in natural_key): obj.pk for obj in objects}


def copy_to_history(model_class, pks: list[int], history_type: str, reason: str, user_id: int | None = None) -> None:
    """Write one django-simple-history record per row, copied from the rows themselves in one statement per batch."""
    history = getattr(model_class, "history", None)
    if history is None or not pks:
        return
    tracked = [f.attname for f in model_class._meta.concrete_fields]
    column_list = ", ".join(map(_quote, tracked))
    table = _quote(model_class._meta.db_table)
    history_table = _quote(history.model._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one array parameter, however many rows
            cursor.execute(
                f"INSERT INTO {history_table} ({column_list}, history_date, history_change_reason, history_type, "
                f"history_user_id) SELECT {column_list}, %s, %s, %s, %s FROM {table} WHERE id = ANY(%s)",
                [now, reason[:100], history_type, user_id, list(pks)],
            )
            return
        for start in range(0, len(pks), BATCH_SIZE):
            batch = pks[start : start + BATCH_SIZE]
            cursor.execute(
                f"INSERT INTO {history_table} ({column_list}, history_date, history_change_reason, history_type, "
                f"history_user_id) SELECT {column_list}, %s, %s, %s, %s FROM {table} "
                f"WHERE id IN ({', '.join(['%s'] * len(batch))})",
                [now, reason[:100], history_type, user_id, *batch],
            )
