"""The model list's read model: each model's list row rendered once per catalogue change (`ModelListRow`), so the
unfiltered list reads stored JSON instead of aggregating the offers and aliases of every model on the page.

Rows are refreshed by `catalogue_invalidate` (catalog/invalidation.py) for exactly what a write changed, before it
bumps the cache versions: after every admin save and delete (per transaction, once it commits), and after every bulk
write that sends `catalogue_changed` (registry loads, ingestion runs, curation). A model's row shows its own columns,
its creator's and family's names, its aliases and its offers' summary, so the refresh of a provider or family covers
the models it created or groups (by the ids the rows hold, which survive the provider's deletion).

A model with no row yet (created by a write whose refresh has not run) is rendered from the catalogue on read: a
missing row is never a missing model, only a slower page.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from django.db import connection, transaction
from django.db.models import Q
from rest_framework.renderers import JSONRenderer

from catalog import bulk
from catalog.models import Model, ModelListRow

CHUNK = 500  # models per refresh query
# One refresh at a time across processes (PostgreSQL advisory lock, to the end of the transaction): a refresh that
# read the catalogue before another write committed must not overwrite the rows that write's refresh stored after it.
_LOCK_ID = 0x6C697374  # "list"


def _rendered(model_ids: Collection[int]) -> dict[int, ModelListRow]:
    """The rows of these models as `ModelListSerializer` renders them (without `url`), from the catalogue."""
    from catalog import selectors  # selectors reads these rows
    from catalog.api.serializers import list_row_body  # the API's row shape, rendered by the API's renderer

    renderer = JSONRenderer()
    queryset = Model.objects.for_api_list().filter(pk__in=model_ids)
    aliases = ["alias_names"] if "alias_names" in queryset.query.annotations else []
    rows = list(queryset.values(*selectors.LIST_ROW_FIELDS, *aliases, "creator", "family"))
    selectors.attach_alias_names(rows)
    return {
        row["pk"]: ModelListRow(
            model_id=row["pk"],
            creator_id=row["creator"],
            family_id=row["family"],
            body=renderer.render(list_row_body(row)).decode(),
        )
        for row in rows
    }


def list_rows_render(model_ids: Collection[int]) -> dict[int, str]:
    """The stored body of each of these models' rows, computed now (for models whose row is missing)."""
    return {pk: row.body for pk, row in _rendered(model_ids).items()} if model_ids else {}


@transaction.atomic
def model_list_rows_refresh(
    *,
    model_ids: Iterable[int] = (),
    provider_ids: Iterable[int] = (),
    family_ids: Iterable[int] = (),
    everything: bool = False,
) -> int:
    """Re-render the list rows of these models, of the models these providers created and these families group
    (before or after the write), or of every model with `everything`; rows of deleted models go. Returns the rows
    written."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
    if everything:
        ids = set(Model.objects.values_list("pk", flat=True))
        ModelListRow.objects.exclude(model_id__in=ids).delete()
    else:
        ids = {pk for pk in model_ids if pk}
        providers, families = {pk for pk in provider_ids if pk}, {pk for pk in family_ids if pk}
        if providers or families:
            related = Q(creator_id__in=providers) | Q(family_id__in=families)
            ids |= set(Model.objects.filter(related).values_list("pk", flat=True))
            ids |= set(ModelListRow.objects.filter(related).values_list("model_id", flat=True))
    ordered, written = sorted(ids), 0
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        rows = _rendered(chunk)
        # Replaced, not upserted: one DELETE and one COPY (binding 500 bodies as array parameters cost more in
        # psycopg's quoting than the whole refresh's queries).
        ModelListRow.objects.filter(bulk.ids_in(chunk, "model_id")).delete()
        bulk.insert(
            ModelListRow,
            ("model_id", "creator_id", "family_id", "body"),
            [(row.model_id, row.creator_id, row.family_id, row.body) for row in rows.values()],
        )
        written += len(rows)
    return written


class ModelListBodies:
    """The unfiltered model list (reviewed models by slug, as `model_list` with no filter) as a paginatable sequence
    of (slug, stored body) rows: one plain query a page, and the count of the models table."""

    ordered = True
    COUNT_SQL = f"SELECT COUNT(*) FROM {Model._meta.db_table} WHERE NOT needs_review"
    PAGE_SQL = (
        f"SELECT m.id, m.slug, r.body FROM {Model._meta.db_table} m LEFT JOIN {ModelListRow._meta.db_table} r "
        "ON r.model_id = m.id WHERE NOT m.needs_review ORDER BY m.slug LIMIT %s OFFSET %s"
    )

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(self.COUNT_SQL)
            return cursor.fetchone()[0]

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[tuple[str, str]]:
        start, stop = index.start or 0, index.stop
        with connection.cursor() as cursor:
            cursor.execute(self.PAGE_SQL, [stop - start, start])
            rows = cursor.fetchall()
        missing = list_rows_render([pk for pk, _, body in rows if body is None])
        bodies = [(slug, body if body is not None else missing.get(pk)) for pk, slug, body in rows]
        return [(slug, body) for slug, body in bodies if body is not None]  # (a model deleted meanwhile)
