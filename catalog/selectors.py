"""Catalogue reads for the API and pages: each returns a QuerySet (or rows) shaped once for its caller."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import connection
from django.db.models import Prefetch, QuerySet

from catalog.list_rows import ModelListBodies
from catalog.models import Alias, Mapping, Model, Provider
from catalog.pricing import blended_price  # noqa: F401 (re-exported for the catalogue's API callers)
from catalog.querysets import LIST_COLUMNS
from catalog.ranking import OfferRank, model_offer_ranking
from catalog.resolution import EXACT_ALIAS, EXACT_SLUG


@functools.cache
def _template(name: str) -> QuerySet:
    """Unevaluated base querysets, built once per process: composing four annotated subqueries costs milliseconds
    of ORM work per request, cloning a finished queryset a fraction of that. Callers always get a clone."""
    if name == "models":
        return Model.objects.for_api_list().order_by("slug")
    if name == "providers":
        return Provider.objects.for_api().order_by("slug")
    if name == "offers":
        return Mapping.objects.for_api()
    raise KeyError(name)


def model_list(*, filters=None) -> QuerySet[Model]:
    """Models for listing, with `providers_count` and cheapest prices; `filters` (query parameters) narrow them."""
    queryset = _template("models").all()
    if filters is None:
        return queryset
    from catalog.filtersets import ModelFilterSet  # the filter set imports this module's helpers

    filterset = ModelFilterSet(filters, queryset=queryset)
    if not filterset.is_valid():
        from django.core.exceptions import ValidationError

        raise ValidationError(filterset.errors.get_json_data())
    return filterset.qs


def model_list_bodies() -> ModelListBodies:
    """The unfiltered model list as stored rendered rows: (slug, body without `url`) per model, paginatable."""
    return ModelListBodies()


# The list row: the model's own columns, its creator's and family's slug and name, and the offer summary.
LIST_ROW_FIELDS = (
    "pk",
    *(column for column in LIST_COLUMNS if column not in ("creator", "family")),
    *("providers_count", "min_price_input", "min_price_output"),
)


class ModelRows:
    """`model_list` (filtered) as a paginatable sequence of plain dict rows: a page costs no model objects to build,
    and the count is the model queryset's (no joins, no annotations)."""

    ordered = True

    def __init__(self, queryset: QuerySet[Model]):
        self.queryset = queryset
        fields = [*LIST_ROW_FIELDS, *(["alias_names"] if "alias_names" in queryset.query.annotations else [])]
        self.rows = queryset.values(*fields)

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        return list(self.rows[index]) if isinstance(index, slice) else self.rows[index]


def attach_alias_names(rows: list[dict]) -> list[dict]:
    """Give each row its sorted `alias_names` with one query of plain tuples, unless the list query already brought
    them (PostgreSQL, `for_api_list`)."""
    if not rows or "alias_names" in rows[0]:
        return rows
    names: dict[int, list[str]] = {row["pk"]: [] for row in rows}
    for model_id, alias in Alias.objects.filter(model_id__in=names).order_by("alias").values_list("model_id", "alias"):
        names[model_id].append(alias)
    for row in rows:
        row["alias_names"] = names[row["pk"]]
    return rows


@dataclass(frozen=True)
class ModelRef:
    """Just enough of a model to key its cached answers: its id and the ids of what its answers show."""

    pk: int
    slug: str
    name: str
    match: str
    creator_id: int | None
    family_id: int | None
    successor_id: int | None


# The models whose slug is the name or its lowercase, and the models of the aliases equal to its lowercase ignoring
# case (the lower(alias) b-tree; each an equality, as catalog/resolution.py explains): one round trip.
_MODEL, _ALIAS = Model._meta.db_table, Alias._meta.db_table
_REF_SQL = (
    f"SELECT m.id, m.slug, m.name, m.creator_id, m.family_id, m.successor_id, NULL FROM {_MODEL} m "
    "WHERE m.slug = %s OR m.slug = %s UNION ALL "
    f"SELECT m.id, m.slug, m.name, m.creator_id, m.family_id, m.successor_id, a.alias FROM {_ALIAS} a "
    f"JOIN {_MODEL} m ON m.id = a.model_id WHERE LOWER(a.alias) = %s"
)


def model_ref_by_id_or_alias(identifier: str) -> ModelRef | None:
    """`model_lookup_exact`'s answer (exact slug, exact alias, then case-insensitive slug, then the first alias
    equal ignoring case) as a `ModelRef`, from one plain query: every model answer of the API starts here."""
    if not identifier:
        return None
    lowered = identifier.lower()
    with connection.cursor() as cursor:
        cursor.execute(_REF_SQL, [identifier, lowered, lowered])
        rows = cursor.fetchall()
    slugs = {row[1]: row for row in rows if row[6] is None}
    aliases = sorted((row for row in rows if row[6] is not None), key=lambda row: row[6])
    exact_alias = next((row for row in aliases if row[6] == identifier), None)
    for row, match in (
        (slugs.get(identifier), EXACT_SLUG),
        (exact_alias, EXACT_ALIAS),
        (slugs.get(lowered), EXACT_SLUG),
        (aliases[0] if aliases else None, EXACT_ALIAS),
    ):
        if row is not None:
            pk, slug, name, creator_id, family_id, successor_id, _ = row
            return ModelRef(pk, slug, name, match, creator_id, family_id, successor_id)
    return None


def model_get_by_id_or_alias(identifier: str) -> Model | None:
    """The model whose slug or alias is `identifier` (exact, then case-insensitive), ready for its detail body."""
    ref = model_ref_by_id_or_alias(identifier)
    return model_get(ref.pk) if ref else None


def model_get(pk: int) -> Model:
    aliases = Prefetch("aliases", queryset=Alias.objects.select_related("provider"))
    return Model.objects.for_api().prefetch_related(aliases).get(pk=pk)


def model_provider_ids(model_pk: int) -> list[tuple[int, int]]:
    """(mapping id, provider id) of every offer of a model: the ids its provider answers depend on."""
    return list(Mapping.objects.filter(model_id=model_pk).order_by("pk").values_list("pk", "provider_id"))


def model_providers(model_pk: int, *, include_plans: bool = False) -> QuerySet[Mapping]:
    """The offers of a model with their provider, cheapest (blended) first: pay-per-use offers before free tiers and
    plans unless `include_plans` orders them all by stated price."""
    if include_plans:
        return Mapping.objects.for_api(include_plans=True).filter(model_id=model_pk)
    return _template("offers").filter(model_id=model_pk)


def model_compare(model_pk: int, *, include_plans: bool = False) -> list[OfferRank]:
    """The offers of a model side by side, best first, with `cheapest` and `fastest` marked: `catalog.ranking`
    (free tiers and plans compete on price only with `include_plans`)."""
    return model_offer_ranking(model_pk, include_plans=include_plans)


def provider_list() -> QuerySet[Provider]:
    return _template("providers").all()


def provider_get(identifier: str) -> Provider | None:
    """A provider by slug (exact, then case-insensitive)."""
    providers = {p.slug: p for p in provider_list().filter(slug__in={identifier, identifier.lower()})}
    return providers.get(identifier) or providers.get(identifier.lower())
