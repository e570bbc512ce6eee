"""Reads of the archive: batches, a batch's changes, an entity's history, the diff of two batches, price histories.

All of them are index queries over versions and events, plus the column blocks for volatile figures
(figures.py); none decompresses a stored body.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils.dateparse import parse_datetime

from snapshots.entities import endpoints_path
from snapshots.events import field_changes
from snapshots.figures import figures_series
from snapshots.models import Batch, Entity, EntityKind, EntityState, EntityVersion, Event, EventKind
from snapshots.querysets import alive_at

METRICS_LIMIT = 24 * 14  # hourly figures shown in an endpoint's history


def batch_list() -> QuerySet[Batch]:
    return Batch.objects.order_by("-hour")


def batch_get(identifier: str | int) -> Batch | None:
    """A batch by id, or by any moment of its hour (`2025-05-20T12:00:00Z`)."""
    text = str(identifier)
    if text.isdigit():
        return Batch.objects.filter(pk=int(text)).first()
    moment = parse_datetime(text.replace(" ", "+")) if text else None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return Batch.objects.filter(hour=moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)).first()


def batch_changes(batch: Batch) -> QuerySet[Event]:
    return Event.objects.filter(batch=batch).for_api()


def event_list() -> QuerySet[Event]:
    """Events across batches, e.g. every price change of one provider this week; the API's FilterSets narrow it."""
    return Event.objects.for_api()


def with_newest_complete(entities, newest: Batch | None = None):
    """Tell each entity the newest complete batch, which `Entity.seen_until` needs: one query for all of them."""
    newest = newest or Batch.objects.defer("validation", "stats").newest_complete()
    for entity in entities:
        entity._newest_complete = newest
    return entities


def entity_get(kind: str, key: str) -> Entity | None:
    entity = Entity.objects.filter(kind=kind, key=key).select_related("first_seen", "last_seen").first()
    return with_newest_complete([entity])[0] if entity is not None else None


def entity_history(entity: Entity) -> dict:
    """Every version with its validity interval, every event, and (endpoints) recent volatile figures."""
    versions = list(EntityVersion.objects.filter(entity=entity).for_history())
    with_newest_complete([version.entity for version in versions], getattr(entity, "_newest_complete", None))
    history = {
        "entity": entity,
        "versions": versions,
        "events": list(Event.objects.filter(entity=entity).select_related("batch").order_by("batch__hour", "kind")),
        "metrics": [],
    }
    if entity.kind == EntityKind.ENDPOINT:
        path = endpoints_path(entity.model_key) if entity.model_key else None
        history["metrics"] = figures_series([entity.pk], METRICS_LIMIT, path)[entity.pk]
    return history


def snapshot_diff(before: Batch, after: Batch) -> dict:
    """What changed between hour A and hour B: entities added, removed, changed (field by field).

    Only versions whose interval starts or ends between the two hours can differ, so the work grows with the
    number of changes, not with the catalogue. An entity alive at A and not at B without a `disappeared` event
    in between was not fetched in B (an incomplete batch): it is listed as unobserved, not as removed.
    """
    if before.hour > after.hour:
        before, after = after, before
    lo, hi = before.hour, after.hour
    # Batch ids rather than joins on hours: interval ends are indexed foreign keys.
    between = list(Batch.objects.filter(hour__gt=lo, hour__lte=hi).values_list("id", flat=True))
    ending = list(Batch.objects.filter(hour__gte=lo, hour__lt=hi).values_list("id", flat=True))
    candidates = set(EntityVersion.objects.filter(first_batch_id__in=between).values_list("entity_id", flat=True))
    candidates |= set(EntityVersion.objects.filter(last_batch_id__in=ending).values_list("entity_id", flat=True))
    newest = Batch.objects.complete().order_by("-hour").values_list("hour", flat=True).first()
    # Last seen between the two hours. A listed entity is also seen by every complete batch after its row was
    # written, so once a complete batch at or after `after` exists only an absent one can be (entity rows are not
    # rewritten each hour: every listed entity's last_seen is still the batch that first saw it).
    unseen = Entity.objects.filter(last_seen_id__in=ending)
    if newest is not None and newest >= hi:
        unseen = unseen.filter(state=EntityState.ABSENT)
    candidates |= set(unseen.values_list("id", flat=True))
    if newest is None or newest < hi:  # `after` is newer than every complete batch: who it missed kept last_seen
        listed = Entity.objects.exclude(state=EntityState.ABSENT).filter(last_seen__hour__lt=hi)
        candidates |= set(listed.values_list("id", flat=True))
    seen_until: F | Case = F("entity__last_seen__hour")
    if newest is not None:
        seen_until = Case(
            When(entity__state=EntityState.ABSENT, then=F("entity__last_seen__hour")),
            default=Greatest(F("entity__last_seen__hour"), Value(newest)),
        )
    rows = (
        EntityVersion.objects.filter(entity_id__in=candidates)
        .filter(alive_at(lo) | alive_at(hi))
        .annotate(last_hour=Coalesce("last_batch__hour", seen_until))
        .values_list(
            "pk", "entity_id", "entity__kind", "entity__key", "content_hash", "source", "first_batch__hour", "last_hour"
        )
    )
    at_before, at_after = {}, {}
    for row in rows:
        if row[6] <= lo <= row[7]:
            at_before[row[1]] = row
        if row[6] <= hi <= row[7]:
            at_after[row[1]] = row
    gone = set(
        Event.objects.filter(
            entity_id__in=at_before.keys() - at_after.keys(),
            kind=EventKind.DISAPPEARED,
            batch__hour__gt=lo,
            batch__hour__lte=hi,
        ).values_list("entity_id", flat=True)
    )
    both = sorted(at_before.keys() & at_after.keys())
    pairs = [(at_before[e], at_after[e]) for e in both if at_before[e][4] != at_after[e][4]]
    versions = EntityVersion.objects.filter(pk__in=[row[0] for pair in pairs for row in pair])
    fields = dict(versions.values_list("pk", "fields"))
    changed = []
    for old, new in pairs:
        changes = field_changes(fields[old[0]], fields[new[0]]) if old[5] == new[5] else []
        changed.append(
            {
                "kind": new[2],
                "key": new[3],
                "source": [old[5], new[5]],
                "fields": [{"kind": k, "field": f, "before": b, "after": a} for k, f, b, a in changes],
            }
        )
    only_before = at_before.keys() - at_after.keys()

    def described(rows_by_entity: dict, ids) -> list[dict]:
        return sorted(({"kind": rows_by_entity[e][2], "key": rows_by_entity[e][3]} for e in ids), key=_order)

    return {
        "from": before,
        "to": after,
        "added": described(at_after, at_after.keys() - at_before.keys()),
        "removed": described(at_before, only_before & gone),
        "unobserved": described(at_before, only_before - gone),
        "changed": sorted(changed, key=_order),
    }


def _order(item: dict) -> tuple[str, str]:
    return item["kind"], item["key"]


def model_price_history(model_id: str) -> dict | None:
    """A model's availability (its versions and state events) and each endpoint's price intervals and uptime."""
    model = entity_get(EntityKind.MODEL, model_id)
    if model is None:
        return None
    endpoints = []
    entities = list(Entity.objects.filter(kind=EntityKind.ENDPOINT, model_key=model_id).order_by("key"))
    series = figures_series([endpoint.pk for endpoint in entities], METRICS_LIMIT, endpoints_path(model_id))
    for endpoint in entities:
        versions = list(EntityVersion.objects.filter(entity=endpoint).for_history())
        with_newest_complete([version.entity for version in versions], getattr(model, "_newest_complete", None))
        endpoints.append(
            {
                "entity": endpoint,
                "prices": [
                    {
                        "from": v.first_batch.hour,
                        "to": v.last_seen.hour,
                        "prompt": (v.fields.get("pricing") or {}).get("prompt"),
                        "completion": (v.fields.get("pricing") or {}).get("completion"),
                        "context_length": v.fields.get("context_length"),
                    }
                    for v in versions
                ],
                "metrics": series[endpoint.pk],
            }
        )
    model_versions = list(EntityVersion.objects.filter(entity=model).for_history())
    with_newest_complete([version.entity for version in model_versions], getattr(model, "_newest_complete", None))
    return {
        "model": model,
        "versions": model_versions,
        "events": list(
            Event.objects.filter(Q(entity=model) | Q(entity__kind=EntityKind.ENDPOINT, entity__model_key=model_id))
            .select_related("batch", "entity")
            .order_by("-batch__hour", "entity__key", "kind", "field")[:500]
        ),
        "endpoints": endpoints,
        "batches": list(
            Batch.objects.filter(hour__gte=model.first_seen.hour).order_by("hour").values("hour", "complete")
        ),
    }
