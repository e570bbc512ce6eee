"""The sources beyond the core lists: endpoint details by UUID, hourly uptime series, provider capabilities, app usage.

Each is fetched the way openrouter.ai's own pages (and deankerr/orchid, which archives them) ask for it:

| source | path (per model variant of the frontend list, or per endpoint) | fetched |
|---|---|---|
| `endpoint_stats` | `/api/frontend/stats/endpoint?permaslug=…&variant=…` | every batch |
| `uptime_hourly` | `/api/frontend/stats/uptime-hourly?id=<endpoint UUID>` | hour % `SNAPSHOTS_UPTIME_EVERY_HOURS` = 0 |
| `all_providers` | `/api/frontend/all-providers` | every batch |
| `app_stats` | `/api/frontend/stats/app?permaslug=…&variant=…&limit=20` | at `SNAPSHOTS_ANALYTICS_HOUR` (UTC) |

Every response goes through the same lossless archive as the core sources. Endpoint details (`<model variant>@<UUID>`:
flags, limits, region, data policy, pricing with its variable pricings) and provider capabilities are entities,
so a change of `is_disabled`, `limit_rpm` or `provider_region` is an event (`status_changed`, `limits_changed`,
`region_changed`). Uptime series and app usage are read back from the archived bodies (`endpoint_uptime_series`,
`model_app_usage`): a row per endpoint-hour would cost more than the archive itself. The daily usage analytics are
the apps using each model variant (the shape of orchid's real `app.json` sample); the per-day token counts of its
`model-stats` sample come from a path we could not confirm, so they are not fetched.

The core lists are essential: they decide whether a batch is complete. The extras are not: a failing extra is
recorded in the batch's validation under its own name (`"essential": false`, counts and a sample of failures) and
leaves the batch as complete as the core made it. So that a failed extra never reads as a disappearance in a
complete batch (the only kind that marks unseen entities absent), the entities it would have shown are observed
again from their current version there, unchanged (counted as `carried`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from urllib.parse import urlencode

from snapshots.archive import Archive
from snapshots.conf import setting
from snapshots.crawl import Crawler, Fetched
from snapshots.entities import EntityObservation
from snapshots.indexing import EntityIndexer
from snapshots.models import Batch, Entity, EntityKind, EntityState
from snapshots.storage import BatchReader
from snapshots.validation import SAMPLE, BatchValidator

ENDPOINT_STATS = "endpoint_stats"
UPTIME_HOURLY = "uptime_hourly"
ALL_PROVIDERS = "all_providers"
APP_STATS = "app_stats"
EXTRAS = (ENDPOINT_STATS, UPTIME_HOURLY, ALL_PROVIDERS, APP_STATS)
ALL_PROVIDERS_PATH = "/api/frontend/all-providers"
# Left out of an endpoint detail's fields: the embedded model (it has its own entity) and provider (its
# `provider_detail` entity), and the hourly `stats`/`status`, which stay in the archive (no version every hour).
DETAIL_LEFT_OUT = frozenset({"model", "provider_info", "stats", "status"})
Variant = tuple[str, str, str]  # (permaslug, variant, model variant slug) as the frontend list gives them


def endpoint_stats_path(permaslug: str, variant: str) -> str:
    return "/api/frontend/stats/endpoint?" + urlencode({"permaslug": permaslug, "variant": variant})


def uptime_hourly_path(endpoint_id: str) -> str:
    return "/api/frontend/stats/uptime-hourly?" + urlencode({"id": endpoint_id})


def app_stats_path(permaslug: str, variant: str, limit: int | None = None) -> str:
    limit = limit or setting("SNAPSHOTS_APP_STATS_LIMIT")
    return "/api/frontend/stats/app?" + urlencode({"permaslug": permaslug, "variant": variant, "limit": limit})


def extras_due(hour: dt.datetime) -> set[str]:
    """The extras the batch of `hour` fetches."""
    enabled = set(setting("SNAPSHOTS_EXTRAS"))
    due = enabled & {ENDPOINT_STATS, ALL_PROVIDERS}
    if UPTIME_HOURLY in enabled and hour.hour % max(1, int(setting("SNAPSHOTS_UPTIME_EVERY_HOURS"))) == 0:
        due.add(UPTIME_HOURLY)
    if APP_STATS in enabled and hour.hour == int(setting("SNAPSHOTS_ANALYTICS_HOUR")):
        due.add(APP_STATS)
    return due


# --- reading the bodies ---------------------------------------------------------------------------------------------


def _data(body: bytes | None):
    if body is None:
        raise ValueError("no body")
    document = json.loads(body)
    if not isinstance(document, dict) or "data" not in document:
        raise ValueError("no `data` in body")
    return document["data"]


def detail_key(model_variant_slug: str, endpoint_id: str) -> str:
    """`<model variant>@<endpoint UUID>`: one UUID can serve two variants (`x/y` and `x/y:thinking`), priced apart."""
    return f"{model_variant_slug}@{endpoint_id}"


def endpoint_id_of(key: str) -> str:
    return key.rpartition("@")[2]


def endpoint_detail_observations(body: bytes | None) -> list[EntityObservation]:
    """The endpoints of one model variant by UUID; their volatile `stats`/`status` stay in the archive only."""
    items = _data(body)
    if not isinstance(items, list):
        raise ValueError("`data` is not a list")
    observations = []
    for item in items:
        stable = {k: v for k, v in item.items() if k not in DETAIL_LEFT_OUT}
        provider = (item.get("provider_info") or {}).get("slug") or item.get("provider_slug") or ""
        model = str(item.get("model_variant_slug") or "")
        observations.append(
            EntityObservation(
                EntityKind.ENDPOINT_DETAIL,
                detail_key(model, str(item["id"])),
                stable,
                ENDPOINT_STATS,
                model_key=model,
                provider_key=str(provider),
            )
        )
    return observations


def provider_detail_observations(body: bytes | None) -> list[EntityObservation]:
    items = _data(body)
    if not isinstance(items, list):
        raise ValueError("`data` is not a list")
    return [
        EntityObservation(EntityKind.PROVIDER_DETAIL, item["slug"], item, ALL_PROVIDERS, provider_key=item["slug"])
        for item in items
    ]


def uptime_points(body: bytes | None) -> list[tuple[str, float | None]]:
    """[(`YYYY-MM-DD HH:00:00` UTC, uptime percent or None)] as the response lists them (newest first)."""
    history = _data(body)["history"]
    return [(str(point["date"]), point["uptime"]) for point in history]


def app_rows(body: bytes | None) -> list[dict]:
    rows = _data(body)
    if not isinstance(rows, list):
        raise ValueError("`data` is not a list")
    return rows


# --- the sync -------------------------------------------------------------------------------------------------------


@dataclass
class _Tally:
    """One extra's line in the batch's validation."""

    expected: int = 0
    fetched: int = 0
    empty: int = 0  # 404: the variant has no endpoint (any more), or the endpoint no uptime yet
    items: int = 0
    failed: int = 0
    carried: int = 0
    failures: list = field(default_factory=list)
    skipped: str = ""

    def failure(self, fetched: Fetched, error: str = "") -> None:
        self.failed += 1
        if len(self.failures) < SAMPLE:
            self.failures.append({"path": fetched.path, "status": fetched.status, "error": error or fetched.error})

    def report(self) -> dict:
        ok = not self.failed and not self.skipped
        return {"ok": ok, "essential": False, **asdict(self)}


def _parse(fetched: Fetched, tally: _Tally, parse):
    """`parse(body)`, or None after recording why not; a 404 is an empty answer (OpenRouter's "no endpoints")."""
    if fetched.status == 404:
        tally.empty += 1
        return []
    if not fetched.ok:
        tally.failure(fetched)
        return None
    try:
        result = parse(fetched.body)
    except (ValueError, KeyError, TypeError) as exc:
        tally.failure(fetched, f"unreadable: {exc}"[:300])
        return None
    tally.fetched += 1
    return result


def coverage_sync(
    crawler: Crawler,
    archive: Archive,
    indexer: EntityIndexer,
    validator: BatchValidator,
    *,
    hour: dt.datetime,
    variants: list[Variant] | None,
) -> None:
    """Fetch, archive and index the extras due at `hour` (after the core sources, whose validation is final).

    `variants` are the frontend list's model variants, None when that list is unavailable.
    """
    _CoverageSync(crawler, archive, indexer, validator).run(extras_due(hour), variants)


class _CoverageSync:
    def __init__(self, crawler: Crawler, archive: Archive, indexer: EntityIndexer, validator: BatchValidator):
        self.crawler, self.archive, self.indexer, self.validator = crawler, archive, indexer, validator
        # Only a batch the core made complete marks unseen entities absent: only there is carrying forward needed.
        self.carry = bool(validator.report()["complete"])

    def run(self, due: set[str], variants: list[Variant] | None) -> None:
        if ALL_PROVIDERS in due:
            self.all_providers()
        if ENDPOINT_STATS in due:
            keys = self.endpoint_stats(variants)
        else:  # the endpoints the index knows
            keys = self._known(EntityKind.ENDPOINT_DETAIL)
        if UPTIME_HOURLY in due:  # per UUID: two variants served by one endpoint share its uptime
            self.uptimes(list(dict.fromkeys(endpoint_id_of(key) for key in keys)))
        if APP_STATS in due:
            self.app_stats(variants)

    def _known(self, kind: str, model_keys: Iterable[str] | None = None) -> list[str]:
        entities = Entity.objects.filter(kind=kind).exclude(state=EntityState.ABSENT)
        if model_keys is not None:
            entities = entities.filter(model_key__in=list(model_keys))
        return list(entities.values_list("key", flat=True))

    def _carry_forward(self, kind: str, model_keys: Iterable[str] | None = None) -> int:
        """Observe again, unchanged, the entities a failed extra would have shown: no false disappearance."""
        if not self.carry:
            return 0
        entities = Entity.objects.filter(kind=kind, current__isnull=False).exclude(state=EntityState.ABSENT)
        if model_keys is not None:
            entities = entities.filter(model_key__in=list(model_keys))
        carried = 0
        rows = entities.values_list("key", "model_key", "provider_key", "current__fields", "current__source")
        for key, model_key, provider_key, fields, source in rows.iterator(500):
            observation = EntityObservation(kind, key, fields, source, model_key=model_key, provider_key=provider_key)
            self.indexer.observe(observation)
            carried += 1
        return carried

    def all_providers(self) -> None:
        fetched = self.crawler.fetch(ALL_PROVIDERS_PATH)
        self.archive.add(ALL_PROVIDERS, fetched)
        tally = _Tally(expected=1)
        observations = _parse(fetched, tally, provider_detail_observations)
        if observations is None:
            tally.carried = self._carry_forward(EntityKind.PROVIDER_DETAIL)
        else:
            for observation in observations:
                self.indexer.observe(observation)
            tally.items = len(observations)
        self.validator.sources[ALL_PROVIDERS] = tally.report()

    def endpoint_stats(self, variants: list[Variant] | None) -> list[str]:
        """The keys of every endpoint detail seen, or known for a model variant whose answer failed."""
        tally = _Tally()
        if variants is None:
            tally.skipped = "the frontend model list is unavailable"
            tally.carried = self._carry_forward(EntityKind.ENDPOINT_DETAIL)
            self.validator.sources[ENDPOINT_STATS] = tally.report()
            return self._known(EntityKind.ENDPOINT_DETAIL)
        by_path = {endpoint_stats_path(permaslug, variant): slug for permaslug, variant, slug in variants}
        tally.expected = len(by_path)
        seen: dict[str, None] = {}
        failed: list[str] = []
        for fetched in self.crawler.fetch_many(by_path):
            self.archive.add(ENDPOINT_STATS, fetched)
            observations = _parse(fetched, tally, endpoint_detail_observations)
            if observations is None:
                failed.append(by_path[fetched.path])
                continue
            for observation in observations:
                self.indexer.observe(observation)
                seen[observation.key] = None
            tally.items += len(observations)
        if failed:
            tally.carried = self._carry_forward(EntityKind.ENDPOINT_DETAIL, failed)
            seen.update(dict.fromkeys(self._known(EntityKind.ENDPOINT_DETAIL, failed)))
        self.validator.sources[ENDPOINT_STATS] = tally.report()
        return list(seen)

    def uptimes(self, endpoint_ids: list[str]) -> None:
        tally = _Tally(expected=len(endpoint_ids))
        for fetched in self.crawler.fetch_many(uptime_hourly_path(endpoint_id) for endpoint_id in endpoint_ids):
            self.archive.add(UPTIME_HOURLY, fetched)
            points = _parse(fetched, tally, uptime_points)
            if points:
                tally.items += len(points)
        self.validator.sources[UPTIME_HOURLY] = tally.report()

    def app_stats(self, variants: list[Variant] | None) -> None:
        tally = _Tally()
        if variants is None:
            tally.skipped = "the frontend model list is unavailable"
        else:
            paths = list(dict.fromkeys(app_stats_path(permaslug, variant) for permaslug, variant, _ in variants))
            tally.expected = len(paths)
            for fetched in self.crawler.fetch_many(paths):
                self.archive.add(APP_STATS, fetched)
                rows = _parse(fetched, tally, app_rows)
                if rows:
                    tally.items += len(rows)
        self.validator.sources[APP_STATS] = tally.report()


# --- reading back ---------------------------------------------------------------------------------------------------


def _archived_bodies(kind: str, path: str, batches: int) -> Iterator[tuple[Batch, bytes]]:
    """The bodies archived at `path` by the last `batches` batches that fetched `kind`, oldest first."""
    fetched_by = Batch.objects.filter(validation__sources__has_key=kind, manifest__isnull=False).order_by("-hour")
    for batch in reversed(list(fetched_by[:batches])):
        reader = BatchReader(batch)
        for entry in reader.entries(path):  # one manifest page, one body: never the whole batch
            body = reader.body(entry) if entry.status == 200 else None
            if body is not None:
                yield batch, body
            break


def endpoint_uptime_series(endpoint_id: str, *, fetches: int = 4) -> list[dict]:
    """An endpoint's hourly uptime points (oldest first) from its last `fetches` archived uptime-hourly bodies.

    Each body covers the 72 hours before it; where two bodies give one hour, the later fetch wins. `uptime` is
    None where OpenRouter had no figure for that hour (a gap, not 0).
    """
    points: dict[str, float | None] = {}
    for _, body in _archived_bodies(UPTIME_HOURLY, uptime_hourly_path(endpoint_id), fetches):
        points.update(reversed(uptime_points(body)))
    return [{"hour": hour, "uptime": points[hour]} for hour in sorted(points)]


def model_app_usage(permaslug: str, variant: str = "standard") -> dict | None:
    """The apps using a model variant most, as of the last daily analytics fetch: {"hour", "apps"}, or None."""
    for batch, body in _archived_bodies(APP_STATS, app_stats_path(permaslug, variant), 1):
        return {"hour": batch.hour, "apps": app_rows(body)}
    return None
