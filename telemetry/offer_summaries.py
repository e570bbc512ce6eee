"""Per-offer summaries of the ranking window: the one row per offer (and per provider API) ranking and compare read.

A summary holds what the score is made of over the window (`TELEMETRY_RANKING_DAYS`, whole hours): the offer's own
health-check counts (measured or not is read from them, as from the hourly roll-ups), its successful latency
samples, its median TTFT and total time (from the merged histograms, as `telemetry.windows` gives them), and when it
was last probed. Rows with the mapping empty hold a provider's API health, shown beside its offers and never as theirs.

Figures are computed from the hourly and daily roll-ups by the same reads the ranking used before (so the answers are
the same), for the affected offers only:

- when probes land (`telemetry.services.telemetry_record_results`): the offers and provider APIs of the batch, one
  upsert statement for the offers and one for the provider APIs;
- when the window moves (`offer_summaries_refresh_stale`, a django-q2 schedule every minute): rows whose
  `window_start` is not the current window's, and offers with no row yet;
- after a rebuild of the roll-ups (`telemetry_rollup_range`): every offer.

A reader that finds no current row for an offer (the window moved since its last refresh, a new offer, roll-ups
written by hand) computes that offer from the roll-ups instead, so a summary is never stale, only slower to read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from catalog.models import Mapping, Provider
from telemetry.conf import setting
from telemetry.models import HealthCheck, LatencySample, OfferSummary
from telemetry.percentiles import histogram_percentiles
from telemetry.rollups import floor_hour
from telemetry.uptime import COUNT_FIELDS, offer_uptimes, provider_api_uptimes
from telemetry.windows import latency_sums, merged_histograms

CHUNK = 1000  # offers per refresh statement: a probe round of up to this many offers is one upsert
# One refresh at a time across processes (PostgreSQL advisory lock, held to the end of the transaction): a refresh
# that read the roll-ups before a probe batch committed must not overwrite the summaries the batch wrote after it.
_LOCK_ID = 0x73756D6D  # "summ"
FIGURES = (*COUNT_FIELDS, "latency_samples", "median_ttft_ms", "median_total_ms")


def ranking_window_start(now: datetime | None = None) -> datetime:
    """The first hour of the ranking window at `now`: the window is whole hours, `TELEMETRY_RANKING_DAYS` long."""
    return floor_hour((now or timezone.now()) - timedelta(days=setting("TELEMETRY_RANKING_DAYS")))


@dataclass(frozen=True)
class WindowFigures:
    """The window's figures of the offers asked for (every one present, zeros when unprobed) and of provider APIs
    (present only when checked in the window), by mapping id and by provider id."""

    offers: dict[int, dict]
    providers: dict[int, dict]


def _zero() -> dict:
    return {**dict.fromkeys(COUNT_FIELDS, 0), "latency_samples": 0, "median_ttft_ms": None, "median_total_ms": None}


def window_figures_from_rollups(
    mapping_ids: Collection[int], provider_ids: Collection[int], since: datetime, now: datetime | None = None
) -> WindowFigures:
    """Aggregate the hourly (and daily) roll-ups of these offers and provider APIs since `since`: five queries."""
    now = now or timezone.now()
    ids = list(mapping_ids)
    offers = {pk: _zero() for pk in ids}
    if ids:
        for pk, row in offer_uptimes(since, mapping_id__in=ids).items():
            offers[pk].update({name: row[name] for name in COUNT_FIELDS})
        for (pk,), row in latency_sums(since, now, by=("mapping_id",), mapping_id__in=ids).items():
            offers[pk]["latency_samples"] = row["ttft_count"]
        histograms = merged_histograms(since, now, mapping_ids=ids)
        for column, name in (("ttft_histogram", "median_ttft_ms"), ("total_histogram", "median_total_ms")):
            for pk, histogram in histograms[column].items():
                offers[pk][name] = histogram_percentiles(histogram, [0.5])[0.5]
    providers = provider_api_uptimes(provider_ids, since) if provider_ids else {}
    return WindowFigures(
        offers=offers,
        providers={pk: {name: row[name] for name in COUNT_FIELDS} for pk, row in providers.items()},
    )


def _current_rows(ids: Collection[int], provider_ids: Collection[int], since: datetime) -> list[tuple]:
    """The summary rows of these offers and provider APIs for the window starting at `since`, in one query.

    Plain SQL: it runs on every ranking, and compiling the ORM query cost more than running it."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in FIGURES)  # plain fields: the column is the name
    table = quote(OfferSummary._meta.db_table)
    head = f"SELECT mapping_id, provider_id, {columns} FROM {table} WHERE window_start = %s"
    since_value = connection.ops.adapt_datetimefield_value(since)
    if connection.vendor == "postgresql":  # two array parameters: a query text that does not grow with the offers
        sql = f"{head} AND (mapping_id = ANY(%s) OR (mapping_id IS NULL AND provider_id = ANY(%s)))"
        parameters: list[Any] = [since_value, list(ids), list(provider_ids)]
    else:
        sql = (
            f"{head} AND (mapping_id IN ({', '.join(['%s'] * len(ids))}) "
            f"OR (mapping_id IS NULL AND provider_id IN ({', '.join(['%s'] * len(provider_ids))})))"
        )
        parameters = [since_value, *ids, *provider_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return cursor.fetchall()


def window_figures(mappings: Iterable[Mapping], since: datetime) -> WindowFigures:
    """The window's figures of these offers and their providers' APIs: one query for the summaries that are current
    for `since`; any offer or provider without one is aggregated from the roll-ups instead."""
    mappings = list(mappings)
    ids, provider_ids = {m.pk for m in mappings}, {m.provider_id for m in mappings}
    if not mappings:
        return WindowFigures(offers={}, providers={})
    offers, providers = {}, {}
    for mapping_id, provider_id, *values in _current_rows(ids, provider_ids, since):
        row = dict(zip(FIGURES, values, strict=True))
        if mapping_id is None:
            providers[provider_id] = {name: row[name] for name in COUNT_FIELDS}
        else:
            offers[mapping_id] = row
    # Every provider gets an API row at the refresh, zeros when unchecked: a missing one means not current.
    missing = WindowFigures(offers={}, providers={})
    missing_ids, missing_providers = ids - offers.keys(), provider_ids - providers.keys()
    if missing_ids or missing_providers:
        missing = window_figures_from_rollups(missing_ids, missing_providers, since)
    providers.update(missing.providers)
    return WindowFigures(
        offers={**offers, **missing.offers},
        providers={pk: row for pk, row in providers.items() if any(row.values())},
    )


def _upsert(rows: list[dict], *, provider_api: bool) -> None:
    """INSERT … ON CONFLICT DO UPDATE of summary rows; `last_probed_at` only moves forward."""
    if not rows:
        return
    model, quote = OfferSummary, connection.ops.quote_name
    concrete = {field.name: field for field in model._meta.concrete_fields}
    fields = [concrete[name] for name in rows[0]]
    columns = [str(field.column) for field in fields]
    table = quote(model._meta.db_table)
    target = "(provider_id) WHERE mapping_id IS NULL" if provider_api else "(mapping_id)"
    latest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    updates = [
        f"{quote(c)} = EXCLUDED.{quote(c)}" for c in columns if c not in ("provider_id", "mapping_id", "last_probed_at")
    ]
    # NULL-safe on both backends: the newer of the stored and the new probe time, whichever is set.
    updates.append(
        f"last_probed_at = {latest}(COALESCE({table}.last_probed_at, EXCLUDED.last_probed_at), "
        f"COALESCE(EXCLUDED.last_probed_at, {table}.last_probed_at))"
    )
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params = [field.get_db_prep_save(row[field.name], connection) for row in rows for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(map(quote, columns))}) VALUES {', '.join([row_sql] * len(rows))} "
            f"ON CONFLICT {target} DO UPDATE SET {', '.join(updates)}",
            params,
        )


@transaction.atomic
def offer_summaries_refresh(
    *,
    mapping_ids: Collection[int] | None = None,
    provider_ids: Collection[int] | None = None,
    last_probed: dict[int, datetime] | None = None,
    provider_last_probed: dict[int, datetime] | None = None,
    now: datetime | None = None,
) -> int:
    """Recompute the window's summaries of these offers and provider APIs (all of them when None) from the roll-ups
    and upsert them: one statement per `CHUNK` offers and one for the providers. `last_probed` (by mapping id) and
    `provider_last_probed` (by provider id) move each row's last probe time forward. Returns rows written."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
    now = now or timezone.now()
    since = ranking_window_start(now)
    if mapping_ids is None:
        mapping_ids = list(Mapping.objects.order_by("pk").values_list("pk", flat=True))
    if provider_ids is None:
        provider_ids = Provider.objects.values_list("pk", flat=True)
    last_probed, provider_last_probed = last_probed or {}, provider_last_probed or {}
    ids, written = sorted(set(mapping_ids)), 0
    provider_of = dict(Mapping.objects.filter(pk__in=ids).values_list("pk", "provider_id")) if ids else {}
    common = {"window_start": since, "refreshed_at": now}
    for start in range(0, len(ids), CHUNK):
        chunk = [pk for pk in ids[start : start + CHUNK] if pk in provider_of]  # deleted meanwhile: nothing to keep
        figures = window_figures_from_rollups(chunk, (), since, now).offers
        rows = [
            {"provider": provider_of[pk], "mapping": pk, **common, **figures[pk], "last_probed_at": last_probed.get(pk)}
            for pk in chunk
        ]
        _upsert(rows, provider_api=False)
        written += len(rows)
    providers = sorted(Provider.objects.filter(pk__in=set(provider_ids)).values_list("pk", flat=True))
    if providers:
        checked = window_figures_from_rollups((), providers, since, now).providers
        rows = [
            {
                "provider": pk,
                "mapping": None,
                **common,
                **_zero(),
                **checked.get(pk, {}),
                "last_probed_at": provider_last_probed.get(pk),
            }
            for pk in providers
        ]
        _upsert(rows, provider_api=True)
        written += len(rows)
    return written


def offer_summaries_refresh_stale(*, now: datetime | None = None) -> int:
    """Bring every summary to the current window: offers and provider APIs whose row is for an older window (an hour
    left the window) or that have none yet. Cheap when all are current: two queries."""
    now = now or timezone.now()
    current = OfferSummary.objects.filter(window_start=ranking_window_start(now))
    stale = Mapping.objects.exclude(pk__in=current.filter(mapping__isnull=False).values("mapping_id"))
    stale_providers = Provider.objects.exclude(pk__in=current.filter(mapping__isnull=True).values("provider_id"))
    mapping_ids = list(stale.order_by("pk").values_list("pk", flat=True))
    provider_ids = list(stale_providers.order_by("pk").values_list("pk", flat=True))
    if not mapping_ids and not provider_ids:
        return 0
    return offer_summaries_refresh(mapping_ids=mapping_ids, provider_ids=provider_ids, now=now)


def last_probed_between(start: datetime, end: datetime) -> tuple[dict[int, datetime], dict[int, datetime]]:
    """The latest probe of each offer (health or latency) and of each provider API in [start, end), from raw rows."""
    offers: dict[int, datetime] = {}
    providers: dict[int, datetime] = {}
    for model in (HealthCheck, LatencySample):
        rows = model.objects.filter(checked_at__gte=start, checked_at__lt=end)
        for provider_id, mapping_id, latest in (
            rows.values_list("provider_id", "mapping_id").annotate(latest=Max("checked_at")).order_by()
        ):
            into, key = (offers, mapping_id) if mapping_id is not None else (providers, provider_id)
            into[key] = max(latest, into.get(key, latest))
    return offers, providers
