"""Writes of the archive: the hourly sync, exporting a batch's raw responses, pruning old volatile metrics."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from catalog import cache_tags
from modelgraph.api import cache as api_cache
from snapshots.archive import Archive
from snapshots.conf import setting
from snapshots.crawl import Crawler
from snapshots.entities import (
    ENDPOINTS,
    FRONTEND_MODELS,
    LIST_PATHS,
    PROVIDERS,
    V1_MODELS,
    endpoint_observations,
    endpoints_path,
    frontend_scan,
    list_total_count,
    model_observations,
    provider_observations,
)
from snapshots.indexing import EntityIndexer
from snapshots.models import Batch, VolatileMetric
from snapshots.storage import entry_body, manifest_read
from snapshots.validation import BatchValidator

CACHE_TAG = cache_tags.SNAPSHOTS
Progress = Callable[[int, int], None]


class SyncInProgress(RuntimeError):
    """Another sync of the same hour is running."""


def hour_of(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _fail_stale_batches(now: dt.datetime) -> None:
    """A batch still "running" long after it started belongs to a sync that crashed."""
    stale = now - dt.timedelta(seconds=setting("SNAPSHOTS_STALE_SECONDS"))
    Batch.objects.filter(status=Batch.Status.RUNNING, started_at__lt=stale).update(
        status=Batch.Status.FAILED, finished_at=now
    )


def _claim_batch(hour: dt.datetime, now: dt.datetime, force: bool) -> Batch | None:
    """The batch of `hour`, marked running for this sync; None when that hour is already complete."""
    batch, created = Batch.objects.get_or_create(hour=hour, defaults={"started_at": now})
    if created:
        return batch
    if batch.complete and not force:
        return None
    claimed = (
        Batch.objects.filter(pk=batch.pk)
        .exclude(status=Batch.Status.RUNNING)
        .update(status=Batch.Status.RUNNING, complete=False, started_at=now, finished_at=None)
    )
    if not claimed:
        raise SyncInProgress(f"a sync of {hour:%Y-%m-%d %H:00} is already running")
    batch.refresh_from_db()
    return batch


def snapshot_sync(
    *,
    base_url: str | None = None,
    now: dt.datetime | None = None,
    concurrency: int | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> Batch:
    """Crawl OpenRouter once into the batch of the current hour (a second sync in the hour reuses that batch).

    Every response is archived losslessly and split into entities as it arrives; when every source was fetched
    fully the batch is complete and only then do entities it did not see count as disappeared.
    """
    now = now or timezone.now()
    _fail_stale_batches(now)
    hour = hour_of(now)
    batch = _claim_batch(hour, now, force)
    if batch is None:
        return Batch.objects.get(hour=hour)
    try:
        _sync_into(batch, base_url=base_url, concurrency=concurrency, progress=progress)
    except BaseException:
        Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.FAILED, finished_at=timezone.now())
        raise
    finally:
        api_cache.bump([CACHE_TAG])
    batch.refresh_from_db()
    return batch


def _sync_into(batch: Batch, *, base_url: str | None, concurrency: int | None, progress: Progress | None) -> None:
    started = time.monotonic()
    previous = Batch.objects.filter(hour__lt=batch.hour, manifest__isnull=False).order_by("-hour").first()
    archive, indexer, validator = Archive(previous), EntityIndexer(batch), BatchValidator()
    with Crawler(base_url, concurrency=concurrency) as crawler:
        listed = _sync_list(crawler, archive, indexer, validator, V1_MODELS, model_observations)
        validator.listed(set(listed))
        fetched = crawler.fetch(LIST_PATHS[FRONTEND_MODELS])
        archive.add(FRONTEND_MODELS, fetched)
        items, error = None, ""
        if fetched.ok:
            try:
                scan = frontend_scan(fetched.body or b"", listed)
                items = scan.entries
            except (ValueError, KeyError, TypeError) as exc:
                error = f"unreadable: {exc}"[:300]
        validator.source(FRONTEND_MODELS, fetched, items=items, parse_error=error)
        del fetched
        if items is not None:
            validator.frontend(scan)
            if validator.sources[V1_MODELS]["ok"]:  # orphans are only known against a complete model list
                for observation in scan.orphan_observations():
                    indexer.observe(observation)
        _sync_list(crawler, archive, indexer, validator, PROVIDERS, provider_observations)
        total = len(listed)
        for done, fetched in enumerate(crawler.fetch_many(endpoints_path(m) for m in listed), start=1):
            archive.add(ENDPOINTS, fetched)
            model_id, error = None, ""
            observations: list = []
            if fetched.ok:
                try:
                    model_id, observations = endpoint_observations(fetched.body or b"")
                except (ValueError, KeyError, TypeError) as exc:
                    error = f"unreadable: {exc}"[:300]
            for observation in observations:
                indexer.observe(observation)
            validator.endpoint(fetched, model_id=model_id, endpoints=len(observations), parse_error=error)
            if progress:
                progress(done, total)
        requests = crawler.requests
    indexer.flush()
    report = validator.report()
    if report["complete"]:
        indexer.close_missing()
    manifest = archive.finish()
    status = Batch.Status.COMPLETE if report["complete"] else Batch.Status.INCOMPLETE
    stats = {
        **archive.stats,
        **indexer.counts(),
        "requests": requests,
        "events": dict(indexer.event_counts),
        "seconds": round(time.monotonic() - started, 3),
    }
    Batch.objects.filter(pk=batch.pk).update(
        status=status,
        complete=report["complete"],
        validation=report,
        stats=stats,
        manifest=manifest,
        finished_at=timezone.now(),
    )


def _sync_list(crawler, archive, indexer, validator, kind: str, observe) -> dict[str, None]:
    fetched = crawler.fetch(LIST_PATHS[kind])
    archive.add(kind, fetched)
    keys: dict[str, None] = {}  # in the list's order: endpoints are then fetched newest model first, like the API
    items, error = None, ""
    if fetched.ok:
        try:
            for observation in observe(fetched.body):
                indexer.observe(observation)
                keys[observation.key] = None
            items = len(keys)
        except (ValueError, KeyError, TypeError) as exc:
            error = f"unreadable: {exc}"[:300]
    total = list_total_count(fetched.body) if fetched.ok else None
    validator.source(kind, fetched, items=items, total_count=total, parse_error=error)
    return keys if items is not None else {}


def snapshot_export(*, batch: Batch, out_dir: Path) -> dict:
    """Write every raw response of `batch` back out, byte for byte, with an index of their sha256."""
    out_dir.mkdir(parents=True, exist_ok=True)
    index: list[dict] = []
    contents: dict = {}
    for entry in manifest_read(batch):
        body = entry_body(entry, contents)
        record = {"path": entry.path, "kind": entry.kind, "status": entry.status, "error": entry.error}
        if body is not None:
            target = out_dir / (entry.path.strip("/").replace(":", "%3A") + ".json")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            digest = hashlib.sha256(body).hexdigest()
            record.update(file=str(target.relative_to(out_dir)), size=len(body), sha256=digest)
        index.append(record)
    summary = {"batch": batch.pk, "hour": batch.hour.isoformat(), "complete": batch.complete, "responses": index}
    (out_dir / "index.json").write_text(json.dumps(summary, indent=1))
    return summary


@transaction.atomic
def snapshot_prune_metrics(*, days: int, now: dt.datetime | None = None) -> int:
    """Delete volatile metrics of batches older than `days` days; raw bodies and versions are kept."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _ = VolatileMetric.objects.filter(batch__hour__lt=cutoff).delete()
    api_cache.bump([CACHE_TAG])
    return deleted
