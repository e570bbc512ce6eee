"""Telemetry reads: uptime, percentiles and the ranking, all from the roll-ups (never by scanning raw rows)."""

from __future__ import annotations

from collections.abc import Mapping as RowMapping
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone

from catalog.models import Mapping, Model, Provider
from catalog.pricing import compared_prices
from catalog.ranking import offers_rank, offers_to_rank, offers_to_rank_of_model
from catalog.selectors import model_ref_by_id_or_alias
from modelgraph.secrets import provider_api_key
from telemetry.classification import ErrorClass, Outcome
from telemetry.conf import setting
from telemetry.models import DailyLatency, HealthCheck, HourlyHealth, HourlyLatency
from telemetry.offer_summaries import ranking_window_start, window_figures, window_figures_from_rollups
from telemetry.percentiles import Histogram, histogram_merge, histogram_percentiles
from telemetry.ranking import OfferFigures, Ranked, rank
from telemetry.rollups import floor_hour
from telemetry.uptime import (
    COUNT_FIELDS,
    offer_uptimes,
    provider_uptime_label,
    uptime_counts,
    uptime_figures,
)
from telemetry.windows import SUMMED, latency_sums, merged_histograms

# What a ranking reads of an offer: loading the catalogue's every column for it cost as much as scoring it.
RANKED_COLUMNS = (
    *("provider", "provider__slug", "provider__name", "model", "provider_model_id"),
    *("price_input", "price_output", "billing", "in_registry", "status"),
)
WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
QUANTILES = (0.5, 0.9, 0.99)
# The latest provider check is "current" for two health intervals; older than that the status is unknown.
CURRENT_FOR = timedelta(minutes=10)


def window_since(window: str, now: datetime | None = None) -> datetime:
    """Windows are whole hours: the hour `window` ago and every hour after it, up to the current one."""
    return floor_hour((now or timezone.now()) - WINDOWS[window])


def provider_probe_skip(provider: Provider) -> ErrorClass | None:
    """Why a provider cannot be probed (no OpenAI-compatible endpoint, no key), or None when it can."""
    if not provider.api_base_url or not provider.openai_compatible:
        return ErrorClass.NO_ENDPOINT
    if not provider_api_key(provider):
        return ErrorClass.NO_KEY
    return None


def model_get(model_id: str) -> Model | None:
    """A model by slug or by any alias, resolved like every model path of the API."""
    ref = model_ref_by_id_or_alias(model_id)
    return Model.objects.filter(pk=ref.pk).first() if ref else None


def ranked_mappings(model: Model) -> QuerySet[Mapping]:
    """The offers of a model that are ranked: the candidate set of `catalog.ranking`."""
    return offers_to_rank([model.pk])


def _counts(row: RowMapping[str, Any]) -> dict[str, int]:
    return uptime_counts(row)


def ranking_window() -> tuple[str, datetime]:
    """The window offers are ranked over (and their uptime shown in): its key, e.g. "7d", and its first hour."""
    return f"{setting('TELEMETRY_RANKING_DAYS')}d", ranking_window_start()


def _percentiles(histogram: Histogram | None) -> dict[str, float | None]:
    values = histogram_percentiles(histogram or {}, QUANTILES)
    return {f"p{round(q * 100)}": (round(v, 1) if v is not None else None) for q, v in values.items()}


def provider_health(provider: Provider, *, window: str = "7d") -> dict:
    """Uptime of a provider's API and of each of its offers (their own health checks: `telemetry.uptime`, the read
    every surface shows an offer's uptime from) over the window, with an hourly series."""
    since = window_since(window)
    rows = HourlyHealth.objects.filter(provider=provider, hour__gte=since)
    own = rows.filter(mapping__isnull=True)
    totals = own.aggregate(
        **{name: Sum(name) for name in COUNT_FIELDS}, ms=Sum("response_ms_sum"), n=Sum("response_ms_count")
    )
    names = ("mapping__provider_model_id", "mapping__model__slug")
    per_mapping = sorted(
        offer_uptimes(since, names=names, provider=provider).items(), key=lambda item: (item[1][names[0]], item[0])
    )
    latest = HealthCheck.objects.filter(provider=provider, mapping__isnull=True).order_by("-checked_at").first()
    skip = provider_probe_skip(provider)
    return {
        "provider": {"id": provider.slug, "name": provider.name},
        "window": window,
        "since": since,
        "status": "not_configured" if skip else _status(latest),
        "not_configured_reason": skip.value if skip else None,
        "latest": _latest(latest),
        **uptime_figures(uptime_counts(totals)),
        "mean_response_ms": round(totals["ms"] / totals["n"], 1) if totals["n"] else None,
        "mappings": [
            {
                "mapping_id": mapping_id,
                "provider_model_id": row.pop(names[0]),
                "model": row.pop(names[1]),
                **row,
            }
            for mapping_id, row in per_mapping
        ],
        "series": [{"hour": row["hour"], **_counts(row)} for row in own.order_by("hour").values("hour", *COUNT_FIELDS)],
    }


def _status(latest: HealthCheck | None) -> str:
    """Missing probes are unknown: never up, never down."""
    if latest is None or timezone.now() - latest.checked_at > CURRENT_FOR:
        return "unknown"
    shown: dict[str, str] = {Outcome.SUCCESS: "up", Outcome.FAILURE: "down"}
    return shown.get(latest.outcome, "unknown")


def _latest(check: HealthCheck | None) -> dict | None:
    if check is None:
        return None
    return {
        "checked_at": check.checked_at,
        "outcome": check.outcome,
        "status_code": check.status_code,
        "response_ms": check.response_ms,
        "error_class": check.error_class,
    }


def _latency_entry(row: dict, ttft: Histogram | None, total: Histogram | None) -> dict:
    counts = _counts(row)
    return {
        "samples": row["ttft_count"],
        **counts,
        "ttft_ms": {**_percentiles(ttft), "mean": _mean(row["ttft_ms_sum"], row["ttft_count"])},
        "total_ms": {**_percentiles(total), "mean": _mean(row["total_ms_sum"], row["total_count"])},
        "tokens_per_second": _mean(row["tps_sum"], row["tps_count"]),
        "mean_output_tokens": _mean(row["output_tokens_sum"], counts["successes"]),
    }


def _mean(total, count) -> float | None:
    return round(total / count, 1) if count else None


def provider_latency(provider: Provider, *, window: str = "7d") -> dict:
    """TTFT and total-time percentiles of each offer of a provider, and of all of them together."""
    now = timezone.now()
    since = window_since(window, now)
    histograms = merged_histograms(since, now, provider_id=provider.pk)
    ttft, total = histograms["ttft_histogram"], histograms["total_histogram"]
    names = ("mapping_id", "mapping__provider_model_id", "mapping__model__slug")
    per_mapping = sorted(latency_sums(since, now, by=names, provider=provider).values(), key=lambda r: r[names[1]])
    overall = latency_sums(since, now, provider=provider)[()]
    # Charts: hourly points up to a week, daily points for longer windows.
    daily = WINDOWS[window] > timedelta(days=7)
    model, column = (DailyLatency, "day") if daily else (HourlyLatency, "hour")
    series = model.objects.filter(provider=provider, **{f"{column}__gte": since}).values(column)
    series = series.annotate(**{name: Sum(name) for name in SUMMED}).order_by(column)
    return {
        "provider": {"id": provider.slug, "name": provider.name},
        "window": window,
        "since": since,
        **_latency_entry(overall, histogram_merge(ttft.values()), histogram_merge(total.values())),
        "mappings": [
            {
                "mapping_id": row["mapping_id"],
                "provider_model_id": row["mapping__provider_model_id"],
                "model": row["mapping__model__slug"],
                **_latency_entry(row, ttft.get(row["mapping_id"]), total.get(row["mapping_id"])),
            }
            for row in per_mapping
        ],
        "series_resolution": column,
        "series": [
            {
                "start": row[column],
                "samples": row["ttft_count"] or 0,
                "failures": row["failures"] or 0,
                "mean_ttft_ms": _mean(row["ttft_ms_sum"], row["ttft_count"]),
                "mean_total_ms": _mean(row["total_ms_sum"], row["total_count"]),
            }
            for row in series
        ],
    }


def ranking_candidates(
    mappings: list[Mapping], since: datetime, window: str = "", *, from_summaries: bool = True
) -> list[OfferFigures]:
    """The raw figures of each offer: uptime counts (its own health checks only), latency sample counts and
    medians, prices; its provider's API uptime rides along in `extra`, labelled, never as the offer's.

    Read from the per-offer summaries (`telemetry.offer_summaries`, one row per offer); `from_summaries=False`
    aggregates the hourly roll-ups instead, the read the summaries are made by (tests and the bench compare both)."""
    if from_summaries:
        figures = window_figures(mappings, since)
    else:
        figures = window_figures_from_rollups([m.pk for m in mappings], {m.provider_id for m in mappings}, since)
    providers = {pk: uptime_figures(uptime_counts(row)) for pk, row in figures.providers.items()}
    candidates = []
    for mapping in mappings:
        own = figures.offers[mapping.pk]
        price_input, price_output = compared_prices(mapping)
        candidate = OfferFigures(
            key=mapping.pk,
            successes=own["successes"],
            failures=own["failures"],
            latency_samples=own["latency_samples"],
            median_ttft_ms=own["median_ttft_ms"],
            median_total_ms=own["median_total_ms"],
            # A free tier's or plan's $0 is not a price per use: it earns no price component (catalog.pricing).
            price_input=float(price_input) if price_input is not None else None,
            price_output=float(price_output) if price_output is not None else None,
            extra={
                "mapping": mapping,
                "uptime": uptime_figures(uptime_counts(own))["uptime"],
                "provider_uptime": provider_uptime_label(providers.get(mapping.provider_id), window),
                "window": window,
            },
        )
        candidates.append(candidate)
    return candidates


def _rounded(value):
    return round(value, 4) if isinstance(value, float) else value


def offers_scored(
    mappings: list[Mapping], *, from_summaries: bool = True
) -> tuple[dict[int, Ranked], dict[int, dict[str, float]]]:
    """Score offers, each model's among its own (one batch of queries for all): entries by mapping id, and the
    effective weights by model id."""
    if not mappings:
        return {}, {}
    window, since = ranking_window()
    by_model: dict[int, list[OfferFigures]] = {}
    for candidate in ranking_candidates(mappings, since, window, from_summaries=from_summaries):
        by_model.setdefault(candidate.extra["mapping"].model_id, []).append(candidate)
    entries, weights = {}, {}
    for model_id, candidates in by_model.items():
        ranked, weights[model_id] = rank(
            candidates,
            min_uptime_samples=setting("TELEMETRY_MIN_UPTIME_SAMPLES"),
            min_latency_samples=setting("TELEMETRY_MIN_LATENCY_SAMPLES"),
        )
        entries.update({entry.candidate.key: entry for entry in ranked})
    return entries, weights


def _summary(entry: Ranked) -> dict:
    extra = entry.candidate.extra
    return {
        "uptime": extra["uptime"],  # telemetry.uptime's figure, the one the provider page shows too
        "median_ttft_ms": _rounded(entry.candidate.median_ttft_ms),
        "median_total_ms": _rounded(entry.candidate.median_total_ms),
        "score": _rounded(entry.score),
        "measured": entry.measured,
        "provisional": entry.provisional,
        "samples": {"uptime": entry.candidate.uptime_samples, "latency": entry.candidate.latency_samples},
        "provider_uptime": extra["provider_uptime"],
        "window": extra["window"],
    }


def offer_telemetry(mappings: list[Mapping]) -> dict[int, dict]:
    """Per mapping: uptime, median TTFT and total time, score, measured and provisional flags, the provider's API
    uptime (labelled) and the window, each model's offers scored among themselves. Registered as
    `catalog.ranking`'s scorer, which decides which offers are passed in."""
    entries, _ = offers_scored(mappings)
    return {pk: _summary(entry) for pk, entry in entries.items()}


def provider_rank_for_model(model: Model, *, from_summaries: bool = True) -> dict:
    """The model's offers best first (`catalog.ranking`'s order and marks), each with its score, components (raw and
    normalised) and sample counts. `from_summaries=False` reads the hourly roll-ups instead (tests, the bench)."""
    window, since = ranking_window()
    mappings = offers_to_rank_of_model(model.pk, RANKED_COLUMNS)
    scored, weights_by_model = offers_scored(mappings, from_summaries=from_summaries)
    weights = weights_by_model.get(model.pk, {})
    entries = []
    for row in offers_rank(mappings, {pk: _summary(entry) for pk, entry in scored.items()}):
        mapping, entry = row.mapping, scored[row.mapping.pk]
        entries.append(
            {
                "rank": row.rank,
                "provider": {"id": mapping.provider.slug, "name": mapping.provider.name},
                "mapping_id": mapping.pk,
                "provider_model_id": mapping.provider_model_id,
                "score": row.score,
                "measured": entry.measured,
                "uptime": entry.candidate.extra["uptime"],
                "provisional": entry.provisional,
                "provisional_reasons": entry.provisional_reasons,
                "cheapest": row.cheapest,
                "fastest": row.fastest,
                "uptime_source": "mapping" if entry.candidate.uptime_samples else "none",
                "provider_uptime": entry.candidate.extra["provider_uptime"],
                "samples": {"uptime": entry.candidate.uptime_samples, "latency": entry.candidate.latency_samples},
                "components": {
                    name: {key: _rounded(value) for key, value in component.items()}
                    for name, component in entry.components.items()
                },
            }
        )
    return {
        "model": {"id": model.slug, "name": model.name},
        "window": window,
        "since": since,
        "weights": {name: round(weight, 4) for name, weight in weights.items()},
        "dropped_components": [name for name in ("uptime", "ttft", "price", "total_time") if name not in weights],
        "providers": entries,
    }


def compare_telemetry(mapping_ids) -> dict[int, dict]:
    """`offer_telemetry` by mapping id. Scores are only those of `catalog.ranking` when the ids are a model's whole
    candidate set; the pages, the API and the gateway go through `catalog.ranking`."""
    return offer_telemetry(list(Mapping.objects.filter(pk__in=list(mapping_ids)).select_related("provider")))
