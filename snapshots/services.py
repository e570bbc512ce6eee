"""Writes of the archive: the hourly sync, exporting a batch's raw responses, pruning old volatile metrics."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from django.utils import timezone

from catalog import cache_tags
from modelgraph import metrics
from modelgraph.api import cache as api_cache
from modelgraph.memory import release_large_buffers
from snapshots.archive import Archive
from snapshots.conf import setting
from snapshots.coverage import coverage_sync
from snapshots.crawl import Crawler, Fetched, SpooledAnswer
from snapshots.entities import (
    ENDPOINTS,
    FRONTEND_MODELS,
    LIST_PATHS,
    PROVIDERS,
    V1_MODELS,
    FrontendScan,
    endpoint_observations,
    endpoints_path,
    frontend_scan,
    list_total_count,
    model_observations,
    provider_observations,
)
from snapshots.indexing import EntityIndexer
from snapshots.lease import Lease, LeaseLost, batches_fail_abandoned
from snapshots.models import Batch, Entity, EntityKind, EntityState
from snapshots.storage import BatchReader
from snapshots.validation import BatchValidator

CACHE_TAG = cache_tags.SNAPSHOTS
Progress = Callable[[int, int], None]


def hour_of(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


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

    The sync holds a lease on the batch (see lease.py): a second sync of the hour is refused (SyncInProgress) while
    the first is alive, and takes the batch over — restarting its crawl — once the first died. `force` syncs a
    complete hour again.
    """
    now = now or timezone.now()
    release_large_buffers()  # list bodies of megabytes: freed ones go back to the system (modelgraph/memory.py)
    batches_fail_abandoned()
    hour = hour_of(now)
    lease = Lease.claim(hour, started_at=now, force=force)
    if lease is None:
        return Batch.objects.get(hour=hour)
    batch = Batch.objects.get(pk=lease.batch_id)
    started = time.monotonic()
    try:
        with lease:
            _sync_into(batch, base_url=base_url, concurrency=concurrency, progress=progress, lease=lease)
    except LeaseLost:
        raise  # the batch is another sync's now: nothing of it to write
    except BaseException:
        Batch.objects.filter(lease.held()).update(
            status=Batch.Status.FAILED, finished_at=timezone.now(), lease_owner="", lease_until=None
        )
        metrics.snapshot_sync_observed(Batch.Status.FAILED, time.monotonic() - started)
        raise
    finally:
        api_cache.bump([CACHE_TAG])
    batch.refresh_from_db()
    metrics.snapshot_sync_observed(batch.status, time.monotonic() - started)
    return batch


def _sync_into(
    batch: Batch, *, base_url: str | None, concurrency: int | None, progress: Progress | None, lease: Lease
) -> None:
    started = time.monotonic()
    previous = Batch.objects.filter(hour__lt=batch.hour, manifest__isnull=False).order_by("-hour").first()
    archive, indexer, validator = Archive(previous), EntityIndexer(batch), BatchValidator()
    with Crawler(base_url, concurrency=concurrency) as crawler:
        listed = _sync_list(crawler, archive, indexer, validator, V1_MODELS, model_observations)
        if not validator.sources[V1_MODELS]["ok"]:  # no trustworthy list: the endpoints of the last one are fetched
            listed = _previous_list(batch, validator, listed)
        validator.listed(set(listed))
        scan = _sync_frontend(crawler, archive, validator, listed)
        if scan is not None:
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
            lease.check()
        # Endpoint details, uptime series, provider capabilities, app usage: never essential (see coverage.py).
        coverage_sync(
            crawler, archive, indexer, validator, hour=batch.hour, variants=scan.variants if scan is not None else None
        )
        requests = crawler.requests
    indexer.flush()
    report = validator.report()
    lease.check(renew=True)  # disappearances are only written by the batch's holder
    if report["complete"]:
        indexer.close_missing()
    else:
        indexer.mark_seen()  # a complete batch writes no entity row it saw unchanged (see Entity.seen_until)
    manifest = archive.finish()
    status = Batch.Status.COMPLETE if report["complete"] else Batch.Status.INCOMPLETE
    stats = {
        **archive.stats,
        **indexer.counts(),
        "requests": requests,
        "events": dict(indexer.event_counts),
        "seconds": round(time.monotonic() - started, 3),
    }
    lease.release(
        status=status,
        complete=report["complete"],
        validation=report,
        stats=stats,
        manifest=manifest,
        volatile=archive.volatile_blob,
        finished_at=timezone.now(),
    )


# The entity kind each list names: what its shrink guard counts.
LIST_ENTITY_KINDS = {V1_MODELS: EntityKind.MODEL, PROVIDERS: EntityKind.PROVIDER}


def _fetch_list(crawler, indexer, kind: str, observe) -> tuple[Fetched, dict[str, None] | None, str]:
    """One answer of a list, its entities indexed: (the response, its keys in order or None, why unreadable)."""
    fetched = crawler.fetch(LIST_PATHS[kind])
    if not fetched.ok:
        return fetched, None, ""
    keys: dict[str, None] = {}  # in the list's order: endpoints are then fetched newest model first, like the API
    try:
        for observation in observe(fetched.body):
            indexer.observe(observation)
            keys[observation.key] = None
    except (ValueError, KeyError, TypeError) as exc:
        return fetched, None, f"unreadable: {exc}"[:300]
    return fetched, keys, ""


def _sync_list(crawler, archive, indexer, validator, kind: str, observe) -> dict[str, None]:
    """Fetch a list and index its entities; returns its keys in the list's order ({} when it could not be read).

    Shrink guard: an answer that loses more than SNAPSHOTS_SHRINK_SHARE of the entities listed before is fetched
    once more, and only a second answer listing the same entities confirms it. Unconfirmed, the source is not ok
    (so the batch is incomplete and nothing disappears on one bad answer) and the keys of both answers are
    returned. The last readable answer is archived; the first one is summed up in the validation report.
    """
    listed = Entity.objects.filter(kind=LIST_ENTITY_KINDS[kind], state=EntityState.LISTED)
    before = set(listed.values_list("key", flat=True))
    fetched, keys, error = _fetch_list(crawler, indexer, kind, observe)
    merged: dict[str, None] = dict(keys or {})
    lost = len(before - keys.keys()) if keys is not None else 0
    shrink = None
    if lost > setting("SNAPSHOTS_SHRINK_SHARE") * len(before):
        first = {"items": len(keys or ()), "sha256": hashlib.sha256(fetched.body or b"").hexdigest()}
        spooled = SpooledAnswer(fetched)  # one list body in memory at a time
        del fetched
        again, again_keys, again_error = _fetch_list(crawler, indexer, kind, observe)
        shrink = {
            "listed_before": len(before),
            "lost": lost,
            "first": first,
            "second": None if again_keys is None else len(again_keys),
            "confirmed": again_keys is not None and again_keys.keys() == (keys or {}).keys(),
        }
        merged.update(again_keys or {})
        if again_keys is not None:
            spooled.close()
            fetched, keys, error = again, again_keys, again_error
        else:
            fetched = spooled.restore()
    archive.add(kind, fetched)
    total = list_total_count(fetched.body) if fetched.ok and fetched.body is not None else None
    items = None if keys is None else len(keys)
    validator.source(kind, fetched, items=items, total_count=total, parse_error=error, shrink=shrink)
    return merged


def _scan_frontend(crawler, listed: dict[str, None]) -> tuple[Fetched, FrontendScan | None, str]:
    fetched = crawler.fetch(LIST_PATHS[FRONTEND_MODELS])
    if not fetched.ok:
        return fetched, None, ""
    try:
        return fetched, frontend_scan(fetched.body or b"", listed), ""
    except (ValueError, KeyError, TypeError) as exc:
        return fetched, None, f"unreadable: {exc}"[:300]


def _sync_frontend(crawler, archive, validator, listed: dict[str, None]) -> FrontendScan | None:
    """The frontend model list scanned against `listed` (None when unreadable), under the same shrink guard as the
    other lists. The only entities it names that can disappear are orphans, so the guard counts those: orphaned
    models the index holds that the answer neither shows as orphans nor are `listed` now."""
    orphaned = Entity.objects.filter(kind=EntityKind.MODEL, state=EntityState.ORPHANED)
    before = set(orphaned.values_list("key", flat=True)) - listed.keys()
    fetched, scan, error = _scan_frontend(crawler, listed)
    lost = len(before - scan.orphans.keys()) if scan is not None else 0
    shrink = None
    if lost > setting("SNAPSHOTS_SHRINK_SHARE") * len(before):
        first = {"items": scan.entries if scan else 0, "sha256": hashlib.sha256(fetched.body or b"").hexdigest()}
        orphans = scan.orphans.keys() if scan else set()
        spooled = SpooledAnswer(fetched)  # one list body in memory at a time
        del fetched
        again, again_scan, again_error = _scan_frontend(crawler, listed)
        shrink = {
            "listed_before": len(before),
            "lost": lost,
            "first": first,
            "second": None if again_scan is None else again_scan.entries,
            "confirmed": again_scan is not None and again_scan.orphans.keys() == orphans,
        }
        if again_scan is not None:
            spooled.close()
            fetched, scan, error = again, again_scan, again_error
        else:
            fetched = spooled.restore()
    archive.add(FRONTEND_MODELS, fetched)
    items = None if scan is None else scan.entries
    validator.source(FRONTEND_MODELS, fetched, items=items, parse_error=error, shrink=shrink)
    return scan


def _previous_list(batch: Batch, validator, answered: dict[str, None]) -> dict[str, None]:
    """The models whose endpoints are fetched when the model list failed or is suspect: whatever it did list, then
    every model the index holds as listed (the last list read, plus any listed since the last complete batch)."""
    keys = dict(answered)
    listed = Entity.objects.filter(kind=EntityKind.MODEL, state=EntityState.LISTED)
    for key in listed.values_list("key", flat=True).iterator(2000):
        keys.setdefault(key, None)
    last_read = Batch.objects.filter(hour__lt=batch.hour, **{f"validation__sources__{V1_MODELS}__ok": True})
    hour = last_read.order_by("-hour").values_list("hour", flat=True).first()
    validator.fallback(V1_MODELS, hour=hour.isoformat() if hour else None, items=len(keys) - len(answered))
    return keys


def snapshot_export(*, batch: Batch, out_dir: Path) -> dict:
    """Write every raw response of `batch` back out, byte for byte, with an index of their sha256."""
    out_dir.mkdir(parents=True, exist_ok=True)
    index: list[dict] = []
    reader = BatchReader(batch)  # decompresses each segment once: the cost of any hour stays near the first's
    for entry in reader.entries():
        body = reader.body(entry)
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


def snapshot_prune_metrics(*, days: int, now: dt.datetime | None = None) -> int:
    """Nothing to prune any more: volatile figures live in each batch's column block (a few bytes per endpoint-hour,
    see columns.py), so their full history is kept. Kept for the `snapshot_prune` command; deletes nothing."""
    return 0
