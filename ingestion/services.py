"""Running an ingestion source: lock, fetch, apply observations atomically, resolve, and log the run."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import replace
from typing import Any

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog import bulk
from catalog.lifecycle import successor_links, successor_refusal
from catalog.models import Alias, Mapping, Model, Provider
from catalog.signals import catalogue_changed
from ingestion.lifecycle import lifecycle_apply_notices
from ingestion.matching import ModelIndex
from ingestion.models import IngestionRun, Observation, RunStatus, Tier
from ingestion.offers import ingestion_apply_offers
from ingestion.prices.runs import price_feed_run
from ingestion.prices.sources import PRICE_SOURCES
from ingestion.provenance import model_refresh_shown_values
from ingestion.resolution import RESOLVED_FIELDS
from ingestion.screening import screen_records
from ingestion.sources import SOURCES, make_client
from ingestion.sources.base import SourceError, SourceErrorKind
from modelgraph import metrics
from modelgraph.outbound import RetryPolicy
from modelgraph.secrets import key_reference_error, key_resolve
from modelgraph.storable_text import storable

log = logging.getLogger(__name__)


class UnknownSource(ValueError):
    pass


def source_adapter(name: str):
    """A fresh adapter for one run, with the retry policy and timeout from settings."""
    template = SOURCES.get(name) or PRICE_SOURCES.get(name)
    if template is None:
        known = ", ".join(sorted([*SOURCES, *PRICE_SOURCES]))
        raise UnknownSource(f"unknown source {name!r} (known: {known})")
    retry = RetryPolicy(
        attempts=settings.INGESTION_RETRY_ATTEMPTS,
        backoff=settings.INGESTION_RETRY_BACKOFF,
        retry_after_max=settings.INGESTION_RETRY_AFTER_MAX,
    )
    return type(template)(retry=retry, timeout=settings.INGESTION_HTTP_TIMEOUT)


def source_key_env(adapter) -> str | None:
    """The environment variable holding a source's key: the provider record's secret reference, else the default."""
    if adapter.provider:
        recorded = Provider.objects.filter(slug=adapter.provider).values_list("api_key_env", flat=True).first()
        if recorded:
            return recorded
    return adapter.key_env


def _api_key(adapter) -> tuple[str | None, str | None]:
    """The key and its reference; a reference that breaks the key rule (modelgraph.secrets) gives no key."""
    reference = source_key_env(adapter)
    return (key_resolve(reference) if reference else None), reference


def ingestion_reap_crashed_runs(*, source: str | None = None) -> int:
    """Mark runs still "running" past the time limit as failed: a crashed worker never leaves a run running."""
    limit = timezone.now() - dt.timedelta(seconds=settings.INGESTION_RUN_TIMEOUT)
    stale = IngestionRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=limit)
    if source:
        stale = stale.filter(source=source)
    return stale.update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error_message="crashed: still running after the time limit, marked failed",
    )


# A queued run carries `details["queued"]` until a worker claims it (`ingestion_claim_run`): until then it holds the
# per-source lock but has not started, so a later request supersedes it instead of being skipped.
QUEUED = "queued"
NEVER_STARTED = "never started: no worker took it before a later run of this source was requested"


def ingestion_supersede_queued_runs(*, source: str) -> int:
    """Release the lock of this source's runs that are queued but were never taken by a worker (no worker running,
    or none free): they end as skipped. A worker that picks such a task later finds the run no longer running."""
    return IngestionRun.objects.filter(source=source, status=RunStatus.RUNNING, **{f"details__{QUEUED}": True}).update(
        status=RunStatus.SKIPPED,
        finished_at=timezone.now(),
        error_message=NEVER_STARTED,
        details={"reason": "never started"},
    )


def ingestion_claim_run(run: IngestionRun) -> bool:
    """A worker takes a queued run: one atomic update, so a run superseded meanwhile is not run (False)."""
    if not run.details.get(QUEUED):
        return run.status == RunStatus.RUNNING
    details = {k: v for k, v in run.details.items() if k != QUEUED}
    details["taken_at"] = timezone.now().isoformat()
    taken = IngestionRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, **{f"details__{QUEUED}": True}).update(
        details=details
    )
    if taken:
        run.details = details
    else:
        run.refresh_from_db()
    return bool(taken)


def ingestion_start_run(*, source: str, queued: bool = False) -> IngestionRun:
    """Create the run, taking the per-source lock; a second concurrent run is recorded as skipped. A `queued` run
    waits for a worker; runs still waiting for one do not count as running (they are superseded)."""
    adapter = source_adapter(source)
    ingestion_reap_crashed_runs(source=source)
    ingestion_supersede_queued_runs(source=source)
    try:
        with transaction.atomic():
            return IngestionRun.objects.create(
                source=source, tier=adapter.tier, status=RunStatus.RUNNING, details={QUEUED: True} if queued else {}
            )
    except IntegrityError:
        return IngestionRun.objects.create(
            source=source,
            tier=adapter.tier,
            status=RunStatus.SKIPPED,
            finished_at=timezone.now(),
            error_message="another run of this source is in progress",
            details={"reason": "locked"},
        )


def ingestion_queue_run(*, source: str) -> IngestionRun:
    """Start a run and queue it for a worker, unless one of this source is already running (then the run is
    recorded as skipped and returned, not queued). The one way the admin, the API and schedules queue a run."""
    from django_q.tasks import async_task

    run = ingestion_start_run(source=source, queued=True)
    if run.status == RunStatus.RUNNING:
        async_task("ingestion.tasks.ingest_run", run.pk)
    return run


def ingestion_run_source(
    *,
    source: str,
    run: IngestionRun | None = None,
    base_url: str | None = None,
    client: httpx.Client | None = None,
    progress=None,
) -> IngestionRun:
    """Run one source end to end. Never raises for a source failure: the run records it."""
    run = run or ingestion_start_run(source=source)
    if run.status != RunStatus.RUNNING or not ingestion_claim_run(run):
        return run
    adapter = source_adapter(source)
    if hasattr(adapter, "fetch_offers"):
        return _run_offers(run, adapter)
    if hasattr(adapter, "fetch_prices"):  # a price feed: offers' prices, not model facts
        base_url = base_url or settings.INGESTION_BASE_URLS.get(source) or None
        status, message, details = price_feed_run(run, adapter, base_url=base_url, client=client)
        return _finish(run, status, message=message, details=details)
    api_key, env_name = _api_key(adapter)
    base_url = base_url or settings.INGESTION_BASE_URLS.get(source) or None
    observations, error = [], None
    try:
        own_client = client is None
        client = client or make_client(timeout=settings.INGESTION_HTTP_TIMEOUT)
        try:
            observations = adapter.fetch(client=client, base_url=base_url, api_key=api_key, progress=progress)
        finally:
            if own_client:
                client.close()
    except SourceError as exc:
        error = exc
        observations = list(exc.partial or [])
    except Exception as exc:  # an adapter bug must not take other sources down either
        log.exception("ingestion source %s crashed", source)
        error = SourceError(SourceErrorKind.SCHEMA, f"{source}: unexpected error: {type(exc).__name__}")

    if error is not None and error.kind == SourceErrorKind.NOT_CONFIGURED:
        refused = key_reference_error(env_name or "")
        message = f"not configured: {refused}" if refused else f"not configured: no key in ${env_name}"
        return _finish(
            run, RunStatus.SKIPPED, message=message, details={"reason": "not configured", "key_env": env_name}
        )
    # A record the catalogue cannot hold (an id of 5,000 characters, a NUL in a name) is left out on its own.
    screened = screen_records(observations)
    observations = screened.kept
    try:
        counts: dict[str, Any] = (
            ingestion_apply_observations(run=run, observations=observations) if observations else {}
        )
    except Exception as exc:
        log.exception("applying %s observations failed", source)
        return _finish(run, RunStatus.FAILED, message=f"{source}: could not apply observations: {exc}")
    if error is None and not screened.refused:
        status, message = RunStatus.SUCCESS, ""
    else:
        status = RunStatus.PARTIAL if observations else RunStatus.FAILED
        message = error.message if error is not None else screened.message(source, "record")
    details = {"observations": len(observations), "error_kind": error.kind if error else None, **screened.details()}
    details.update(counts.get("details", {}))
    return _finish(run, status, message=message, counts=counts, details=details)


def _run_offers(run: IngestionRun, adapter) -> IngestionRun:
    """A source of offers (prices per provider) rather than model facts: OpenRouter's snapshot."""
    try:
        offers = adapter.fetch_offers()
        if not offers:
            return _finish(
                run, RunStatus.SKIPPED, message="no complete snapshot batch yet", details={"reason": "no data"}
            )
        counts = ingestion_apply_offers(run=run, offers=offers)
    except Exception as exc:
        log.exception("applying %s offers failed", run.source)
        return _finish(run, RunStatus.FAILED, message=f"{run.source}: could not apply offers: {exc}")
    return _finish(run, RunStatus.SUCCESS, details={"offers": len(offers), **counts})


def _finish(run: IngestionRun, status: str, *, message: str = "", counts=None, details=None) -> IngestionRun:
    counts = counts or {}
    run.status = status
    run.finished_at = timezone.now()
    # What describes the run is made storable (a NUL quoted from an upstream body would fail the save itself).
    run.error_message = storable(message)
    run.models_added = counts.get("models_added", 0)
    run.models_updated = counts.get("models_updated", 0)
    run.aliases_added = counts.get("aliases_added", 0)
    run.details = storable({k: v for k, v in (details or {}).items() if v is not None})
    run.save()
    seconds = (run.finished_at - run.started_at).total_seconds() if run.started_at else None
    metrics.ingestion_run_observed(run.source, status, seconds)
    return run


@transaction.atomic
def ingestion_apply_observations(*, run: IngestionRun, observations: list) -> dict[str, Any]:
    """Match each observation to a model (creating "needs review" ones for unmatched provider ids), store the
    source's latest values, add aliases and offers, and re-resolve what the touched models show."""
    notices = None
    if run.tier == Tier.DEPRECATIONS:
        # A notice speaks for one platform's offer, one dated snapshot or the model: only the last go on from here.
        notices = lifecycle_apply_notices(observations=observations, source=run.source)
        observations = notices.model_observations
    index = ModelIndex.build()
    providers = dict(Provider.objects.values_list("slug", "pk"))
    counts: dict[str, Any] = Counter()
    unmatched: list[str] = []
    new_models: dict[int, Model] = {}
    touched: set[int] = set()
    new_aliases: dict[str, Alias] = {}
    offers: set[tuple[int, str, int]] = set()  # (provider id, provider model id, model id)
    observed: dict[tuple[int, str], tuple] = {}
    for obs in observations:
        if run.tier == Tier.DEPRECATIONS and "sunset_date" not in obs.fields:
            # deprecations.info lists changelog notices as deprecations: without a shutdown date, don't trust
            # its "deprecated" for a model the provider still serves.
            obs = replace(obs, fields={k: v for k, v in obs.fields.items() if k != "status"})
        model_id, _how = index.match(obs.external_id)
        if model_id is None:
            if run.tier != 1:
                unmatched.append(obs.external_id)  # lower tiers only annotate models we already know
                continue
            # Created below in one INSERT; until then a placeholder id (negative) stands for it.
            model_id = -(len(new_models) + 1)
            new_models[model_id] = _needs_review_model(obs, index, providers)
        touched.add(model_id)
        provider_id = providers.get(obs.provider) if obs.provider else None
        for name in (obs.external_id, *obs.aliases):
            if name not in index.exact and name not in index.slugs and name not in new_aliases:
                new_aliases[name] = Alias(alias=name, model_id=model_id, provider_id=provider_id, in_registry=False)
                index.add(name, model_id)
        if run.tier == 1 and provider_id:
            offers.add((provider_id, obs.external_id, model_id))
        for field_name, value in obs.fields.items():
            if field_name in RESOLVED_FIELDS:
                observed[(model_id, field_name)] = (value, obs.external_id)
    real_ids = _create_needs_review_models(new_models, reason=f"ingestion: new ids from {run.source} matched nothing")
    if real_ids:
        touched = {real_ids.get(pk, pk) for pk in touched}
        for alias in new_aliases.values():
            alias.model_id = real_ids.get(alias.model_id, alias.model_id)
        offers = {(provider, external, real_ids.get(pk, pk)) for provider, external, pk in offers}
        observed = {(real_ids.get(pk, pk), name): value for (pk, name), value in observed.items()}
    created = [model.slug for model in new_models.values()]
    created_ids = set(real_ids.values())
    counts["aliases_added"] = len(new_aliases)
    Alias.objects.bulk_create(new_aliases.values(), ignore_conflicts=True)
    # Successors are ids too: match them against the index as it stands after this run's aliases, exactly as the
    # next run would, so a second unchanged run finds nothing new.
    index = ModelIndex.build() if new_aliases or new_models else index
    # A successor is never the model itself nor a link closing a loop: such a value is dropped, and said why.
    links = successor_links() if any(name == "successor" for _, name in observed) else {}
    refused_successors = []
    for key, (value, external_id) in list(observed.items()):
        if key[1] == "successor":
            target, _ = index.match(value)
            refusal = successor_refusal(key[0], target, links) if target is not None else "matches no model"
            if refusal is None and target is not None:
                links[key[0]] = target
                observed[key] = (_model_slug(target), external_id)
            else:
                del observed[key]
                if target is not None:
                    refused_successors.append({"id": external_id, "successor": value, "reason": refusal})
    _ensure_offers(offers, source=run.source)
    _store_observations(run, observed)
    updated = model_refresh_shown_values(model_ids=touched, reason=f"ingestion: {run.source}")
    counts["models_added"] = len(created)
    counts["models_updated"] = len(updated - created_ids)
    counts["details"] = {
        "matched": len(touched) - len(created),
        "unmatched": unmatched[:50],
        "unmatched_count": len(unmatched),
        "needs_review": created[:50],
        "successors_refused": refused_successors[:50] or None,
        "lifecycle": notices.details() if notices else None,
    }
    if new_aliases or offers or created:
        ids = touched
        transaction.on_commit(lambda: catalogue_changed.send(sender=IngestionRun, model_ids=ids, provider_ids=set()))
    return counts


def _needs_review_model(obs, index: ModelIndex, providers: dict) -> Model:
    """An unsaved model for an id nothing matched, flagged for a curator's review."""
    return Model(
        slug=index.new_slug(obs.external_id),
        name=obs.fields.get("name") or obs.external_id,
        creator_id=providers.get(obs.provider),
        needs_review=True,
        in_registry=False,
    )


def _create_needs_review_models(models: dict[int, Model], *, reason: str) -> dict[int, int]:
    """Insert the models in one statement and their history in one more; placeholder id → real id."""
    if not models:
        return {}
    saved = Model.objects.bulk_create(list(models.values()))
    if any(model.pk is None for model in saved):  # a backend that does not return ids
        by_slug = dict(Model.objects.filter(slug__in=[m.slug for m in saved]).values_list("slug", "pk"))
        for model in saved:
            model.pk = by_slug[model.slug]
    bulk.copy_to_history(Model, [model.pk for model in saved], "+", reason)
    return {placeholder: model.pk for placeholder, model in zip(models, saved, strict=True)}


def _model_slug(model_id: int) -> str | None:
    return Model.objects.filter(pk=model_id).values_list("slug", flat=True).first()


def _ensure_offers(offers: set, *, source: str) -> None:
    """A provider's listing says it serves the model: make sure the offer exists (prices come from elsewhere)."""
    if not offers:
        return
    existing = set(
        Mapping.objects.filter(provider_id__in={p for p, _, _ in offers}).values_list(
            "provider_id", "provider_model_id"
        )
    )
    missing = [(p, pmid, m) for p, pmid, m in offers if (p, pmid) not in existing]
    Mapping.objects.bulk_create(
        [
            Mapping(provider_id=p, provider_model_id=pmid, model_id=m, in_registry=False, source=source)
            for p, pmid, m in missing
        ],
        ignore_conflicts=True,
    )


def _store_observations(run: IngestionRun, observed: dict) -> None:
    """Upsert the source's latest value per (model, field), writing only values that changed."""
    if not observed:
        return
    existing = {
        (o.model_id, o.field): o
        for o in Observation.objects.filter(source=run.source, model_id__in={m for m, _ in observed})
    }
    now = timezone.now()
    to_create, to_update = [], []
    for (model_id, field_name), (value, external_id) in observed.items():
        current = existing.get((model_id, field_name))
        if current is None:
            to_create.append(
                Observation(
                    model_id=model_id,
                    source=run.source,
                    tier=run.tier,
                    field=field_name,
                    value=value,
                    external_id=external_id,
                    observed_at=now,
                    run=run,
                )
            )
        elif current.value != value:
            current.value, current.external_id, current.observed_at, current.run = value, external_id, now, run
            to_update.append(current)
    Observation.objects.bulk_create(to_create, batch_size=1000)
    Observation.objects.bulk_update(to_update, ["value", "external_id", "observed_at", "run"], batch_size=1000)


def ingestion_run_all(*, sources: list[str] | None = None, progress=None) -> list[IngestionRun]:
    """Run every source (or the named ones) one after another; one failing never stops the next."""
    runs = []
    for name in sources or list(SOURCES):
        try:
            runs.append(ingestion_run_source(source=name, progress=progress))
        except Exception:  # the run itself records failures; this guards the loop against the unforeseen
            log.exception("ingestion of %s failed outside its run", name)
    return runs
