"""The one offer-ranking read: which offers of a model are ranked, in what order, and which are marked.

`/api/models/{id}/compare`, `/api/telemetry/ranked/{id}`, the model page and the gateway's `best_score` strategy all
go through here, so they cannot disagree. The rule:

- candidates: the model's offers still in the registry and not retired (`offers_to_rank`); the telemetry score
  of each is normalised among exactly these, so an offer scores the same wherever it is shown;
- measured or not: an offer with no probes of its own in the window has no score (`measured` False, "not
  measured"), whatever its price or its provider's health, so it sorts after every measured (scored) offer;
- order: score descending (unscored last), then blended price ascending (unpriced last), then provider slug, then
  mapping id (`offer_order_key`), so ties are deterministic;
- prices compete only among pay-per-use offers (billing per token or per request): a free tier's or a plan's $0 is
  not a price per use, so by default it neither sorts first nor takes `cheapest` (`include_plans` lets it);
- marks: `cheapest` on the one offer with the lowest blended price among the priced ones, `fastest` on the one with
  the lowest median time to first token among the timed ones, even when it is the only one; on a tie the mark goes
  to the first of the tied offers in the order above.

Scores come from telemetry, which depends on catalog: telemetry registers its scorer with
`offer_telemetry_register` when its app is ready, so this module never imports it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet
from django.db.models.base import ModelState

from catalog.models import Lifecycle, Mapping, Provider
from catalog.pricing import blended_price, compared_prices
from catalog.querysets import MAPPING_COLUMNS

# Telemetry figures per mapping id: {"uptime", "median_ttft_ms", "median_total_ms", "score", "measured",
# "provisional", "samples", "provider_uptime", "window"} (`provider_uptime` is the provider's API, labelled).
OfferTelemetry = Callable[[list[Mapping]], dict[int, dict]]
TELEMETRY_FIELDS = (
    "uptime",
    "median_ttft_ms",
    "median_total_ms",
    "score",
    "measured",
    "provisional",
    "samples",
    "provider_uptime",
    "window",
)

_telemetry_source: OfferTelemetry | None = None


def offer_telemetry_register(source: OfferTelemetry) -> None:
    """Telemetry's scorer (registered by `TelemetryConfig.ready`): scores each model's offers among themselves."""
    global _telemetry_source
    _telemetry_source = source


def offer_telemetry(mappings: list[Mapping]) -> dict[int, dict]:
    """The registered scorer's figures for these offers; none (price-only order) while telemetry is not installed."""
    if not mappings or _telemetry_source is None:
        return {}
    return _telemetry_source(mappings)


def offers_to_rank(model_ids: Iterable[int]) -> QuerySet[Mapping]:
    """The offers that are ranked: in the registry and not retired, with their provider."""
    return (
        Mapping.objects.filter(model_id__in=list(model_ids), in_registry=True)
        .exclude(status=Lifecycle.RETIRED)
        .select_related("provider")
        .only(*MAPPING_COLUMNS)
    )


@dataclass(frozen=True)
class _PlainRead:
    sql: str
    attnames: tuple[str, ...]  # the mapping's columns, in the order of the select list; the provider's follow
    converters: tuple[tuple[int, Callable, object], ...]  # (position, converter, column) as the ORM applies them


@functools.cache
def _offers_to_rank_read(columns: tuple[str, ...]) -> _PlainRead:
    """`offers_to_rank` of one model as plain SQL reading `columns`, built once per process and column set, with the
    database converters the ORM would apply to each column (JSON, and on SQLite decimals, booleans, dates)."""
    quote = connection.ops.quote_name
    fields = {field.name: field for field in Mapping._meta.concrete_fields}
    selected = [fields["id"], *(fields[name] for name in columns if "__" not in name)]
    table = Mapping._meta.db_table
    converters = []
    for position, field in enumerate(selected):
        column = field.get_col(table)
        for converter in (*connection.ops.get_db_converters(column), *column.get_db_converters(connection)):
            converters.append((position, converter, column))
    listed = ", ".join(f"m.{quote(str(field.column))}" for field in selected)
    sql = (
        f"SELECT {listed}, p.slug, p.name FROM {table} m JOIN {Provider._meta.db_table} p ON p.id = m.provider_id "
        "WHERE m.model_id = %s AND m.in_registry AND NOT (m.status = %s) ORDER BY p.slug, m.provider_model_id"
    )
    return _PlainRead(sql, tuple(field.attname for field in selected), tuple(converters))


def _loaded(model_class, values: dict, db: str):
    """An instance of a row already read and converted, made the way Django unpickles one (`__new__`, then the
    attributes): `Model.__init__` walks every field, and for the 50 offers of a ranking that cost more than the
    query. Columns not in `values` are deferred, as with `only()`; nothing listens to `post_init` on these models."""
    instance = model_class.__new__(model_class)
    instance.__dict__.update(values)
    state = instance._state = ModelState()
    state.adding, state.db = False, db
    return instance


def offers_to_rank_of_model(model_pk: int, columns: tuple[str, ...] = MAPPING_COLUMNS) -> list[Mapping]:
    """`offers_to_rank([model_pk])` (in its order, with the provider's slug and name loaded), from SQL compiled once:
    compare and the model page rank one model per request, and compiling the ORM query cost more than running it.
    `columns` narrows the read (the ranking alone reads a handful); any other field is deferred, as with `only()`."""
    read = _offers_to_rank_read(columns)
    with connection.cursor() as cursor:
        cursor.execute(read.sql, [model_pk, Lifecycle.RETIRED])
        rows = cursor.fetchall()
    db, width, mappings = connection.alias, len(read.attnames), []
    for row in rows:
        values = list(row)
        for position, converter, column in read.converters:
            values[position] = converter(values[position], column, connection)
        mapping = _loaded(Mapping, dict(zip(read.attnames, values[:width], strict=True)), db)
        provider = _loaded(Provider, {"id": mapping.provider_id, "slug": row[width], "name": row[width + 1]}, db)
        mapping._state.fields_cache["provider"] = provider
        mappings.append(mapping)
    return mappings


@dataclass(frozen=True)
class OfferRank:
    """One ranked offer of a model: its place, its figures and its marks."""

    rank: int
    mapping: Mapping
    blended_price: Decimal | None
    uptime: float | None = None
    median_ttft_ms: float | None = None
    median_total_ms: float | None = None
    score: float | None = None
    measured: bool = False  # probed on its own in the window; unmeasured offers have no score
    provisional: bool = True
    samples: dict | None = None  # {"uptime": health checks counted, "latency": latency probes timed}
    provider_uptime: dict | None = None  # the provider's API uptime, {"scope": "provider_api", …}: not this offer's
    window: str | None = None  # the telemetry window of `uptime`, the medians and the score, e.g. "7d"
    cheapest: bool = False
    fastest: bool = False

    @property
    def provider(self) -> Provider:
        return self.mapping.provider


def offer_order_key(score: float | None, price: Decimal | float | None, provider_slug: str, mapping_id: int) -> tuple:
    """Best first: score descending, blended price ascending (missing values last), provider slug, mapping id."""
    return (score is None, -(score or 0), price is None, price or 0, provider_slug, mapping_id)


def _first_lowest(values: list[float | Decimal | None]) -> int | None:
    """Index of the lowest present value, the earliest one on a tie."""
    present = [(value, index) for index, value in enumerate(values) if value is not None]
    return min(present)[1] if present else None


def compared_price(mapping: Mapping, *, include_plans: bool = False) -> Decimal | None:
    """The blended price an offer competes with: none for free tiers and plans unless `include_plans`."""
    if include_plans:
        return blended_price(mapping.price_input, mapping.price_output)
    return blended_price(*compared_prices(mapping))


def offers_rank(
    mappings: Iterable[Mapping], measured: dict[int, dict], *, include_plans: bool = False
) -> list[OfferRank]:
    """Order and mark offers (with their provider loaded) from their telemetry figures, per the module's rule."""
    rows = []
    for mapping in mappings:
        figures = measured.get(mapping.pk, {})
        price = blended_price(mapping.price_input, mapping.price_output)
        compared = compared_price(mapping, include_plans=include_plans)
        rows.append((mapping, price, {name: figures[name] for name in TELEMETRY_FIELDS if name in figures}, compared))
    rows.sort(key=lambda row: offer_order_key(row[2].get("score"), row[3], row[0].provider.slug, row[0].pk))
    cheapest = _first_lowest([compared for *_, compared in rows])
    fastest = _first_lowest([figures.get("median_ttft_ms") for _, _, figures, _ in rows])
    return [
        OfferRank(
            rank=index + 1,
            mapping=mapping,
            blended_price=price,
            cheapest=index == cheapest,
            fastest=index == fastest,
            **figures,
        )
        for index, (mapping, price, figures, _) in enumerate(rows)
    ]


def model_offer_ranking(model_pk: int, *, include_plans: bool = False) -> list[OfferRank]:
    """The ranked offers of one model, best first, with `cheapest` and `fastest` marked (`cheapest` among pay-per-use
    offers unless `include_plans`)."""
    mappings = offers_to_rank_of_model(model_pk)
    return offers_rank(mappings, offer_telemetry(mappings), include_plans=include_plans)


def offer_scores(model_ids: Iterable[int]) -> dict[int, OfferRank]:
    """The ranked offers of several models at once (each scored among its own), by mapping id: the gateway's read."""
    mappings = list(offers_to_rank(model_ids))
    measured = offer_telemetry(mappings)
    by_model: dict[int, list[Mapping]] = {}
    for mapping in mappings:
        by_model.setdefault(mapping.model_id, []).append(mapping)
    return {row.mapping.pk: row for offers in by_model.values() for row in offers_rank(offers, measured)}
