"""A database error during a registry load, traced back to the row (and so the file and line) that caused it."""

from __future__ import annotations

import django.db
import psycopg
from django.db import transaction

from catalog import bulk

# COPY runs on psycopg's own cursor, so its errors arrive unwrapped by Django.
DATABASE_ERRORS = (django.db.Error, psycopg.Error)


class RowRefused(Exception):
    """The database refused a registry row; `row` is None when no single row is refused on its own."""

    def __init__(self, model_class, row: dict | None, error: BaseException):
        self.model_class, self.row = model_class, row
        self.message = f"the database refused this {model_class._meta.verbose_name}: {database_error_text(error)}"
        super().__init__(self.message)


def database_error_text(error: BaseException) -> str:
    """The database's own one-line reason, without the row's values or a traceback."""
    for candidate in (error, error.__cause__):
        diag = getattr(candidate, "diag", None)
        if diag is not None and diag.message_primary:
            return diag.message_primary
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def upsert_naming_refused_row(
    model_class, natural_key: tuple[str, ...], columns: tuple[str, ...], rows: list[dict], *, new: bool = False
):
    """bulk.upsert (bulk.insert_new for rows the table does not hold, `new`) in a savepoint; when the database
    refuses it, raise RowRefused naming the first refused row."""
    if not rows:
        return {}
    write = bulk.insert_new if new else bulk.upsert
    try:
        with transaction.atomic():
            return write(model_class, natural_key, columns, rows)
    except DATABASE_ERRORS as error:
        refused = _first_refused_row(write, model_class, natural_key, columns, rows)
        raise RowRefused(model_class, refused, error) from None


def _refused(write, model_class, natural_key, columns, rows: list[dict]) -> bool:
    """Whether the database refuses these rows on their own; nothing of the attempt is kept."""
    savepoint = transaction.savepoint()
    try:
        write(model_class, natural_key, columns, rows)
    except DATABASE_ERRORS:
        return True
    else:
        return False
    finally:
        transaction.savepoint_rollback(savepoint)


def _first_refused_row(write, model_class, natural_key, columns, rows: list[dict]) -> dict | None:
    """Halve the rows until one is left (log2(n) attempts, on the failure path only)."""
    candidates = rows
    while len(candidates) > 1:
        half = len(candidates) // 2
        first = candidates[:half]
        candidates = first if _refused(write, model_class, natural_key, columns, first) else candidates[half:]
    return candidates[0] if _refused(write, model_class, natural_key, columns, candidates) else None
