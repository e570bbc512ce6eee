"""The entity index of one batch: versions with validity intervals, volatile metrics and events, written in bulk.

The state of every known entity (id, current version hash) is held in memory for the batch (a few hundred bytes
each); observations are buffered and flushed every FLUSH_EVERY, each flush in one transaction, so a crash loses
at most one buffer, which the next sync of the same hour writes again (every write here is idempotent).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import transaction

from snapshots.entities import EntityObservation
from snapshots.events import field_changes
from snapshots.models import Batch, Entity, EntityKind, EntityState, EntityVersion, Event, EventKind, VolatileMetric

FLUSH_EVERY = 250
METRIC_FIELDS = ("status", "uptime_last_5m", "uptime_last_30m", "uptime_last_1d")


@dataclass
class _Known:
    entity: Entity | None
    entity_id: int | None
    state: str
    version_id: int | None
    content_hash: str
    source: str
    version_first_batch_id: int | None
    seen: bool
    last_seen_id: int | None = None


def _number(value):
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def metric_for(entity: Entity, batch: Batch, volatile: dict) -> VolatileMetric:
    latency = volatile.get("latency_last_30m") if isinstance(volatile.get("latency_last_30m"), dict) else {}
    throughput = volatile.get("throughput_last_30m") if isinstance(volatile.get("throughput_last_30m"), dict) else {}
    extras = {k: v for k, v in volatile.items() if k not in METRIC_FIELDS}  # percentiles, counts: as received
    return VolatileMetric(
        entity=entity,
        batch=batch,
        values=extras,
        latency_p50=_number(latency.get("p50")),
        throughput_p50=_number(throughput.get("p50")),
        **{name: _number(volatile.get(name)) for name in METRIC_FIELDS},
    )


class EntityIndexer:
    def __init__(self, batch: Batch):
        self.batch = batch
        self.known: dict[tuple[str, str], _Known] = {}
        self.event_counts: Counter = Counter()
        rows = Entity.objects.values_list(
            "id",
            "kind",
            "key",
            "state",
            "current_id",
            "current__content_hash",
            "current__source",
            "current__first_batch_id",
            "last_seen_id",
        )
        for pk, kind, key, state, version_id, digest, source, first_id, last_seen_id in rows.iterator(2000):
            self.known[(kind, key)] = _Known(
                None, pk, state, version_id, digest or "", source or "", first_id, False, last_seen_id
            )
        self._reset()

    def _reset(self) -> None:
        self.new_entities: list[Entity] = []
        self.new_versions: list[tuple[EntityVersion, _Known]] = []
        self.events: list[Event] = []
        self.metrics: list[VolatileMetric] = []
        self.closed_versions: dict[int, list[int]] = {}  # last batch id -> versions it closes
        self.seen_entities: list[int] = []
        self.state_changes: dict[str, list[int]] = {}
        self.replaced_versions: list[EntityVersion] = []
        self.pending = 0

    def _event(self, entity: Entity, kind: str, field: str = "", before=None, after=None) -> None:
        self.events.append(Event(batch=self.batch, entity=entity, kind=kind, field=field, before=before, after=after))
        self.event_counts[kind] += 1

    def _entity_ref(self, known: _Known) -> Entity:
        return known.entity if known.entity is not None else Entity(pk=known.entity_id)

    def observe(self, obs: EntityObservation) -> None:
        state = EntityState.ORPHANED if obs.orphaned else EntityState.LISTED
        known = self.known.get((obs.kind, obs.key))
        if known is None:
            entity = Entity(
                kind=obs.kind,
                key=obs.key,
                model_key=obs.model_key,
                provider_key=obs.provider_key,
                state=state,
                first_seen=self.batch,
                last_seen=self.batch,
            )
            self.new_entities.append(entity)
            self.known[(obs.kind, obs.key)] = _Known(entity, None, state, None, obs.content_hash, obs.source, 0, True)
            self._new_version(entity, obs)
            self._event(entity, EventKind.APPEARED)
            if obs.orphaned:
                self._event(entity, EventKind.ORPHANED)
        else:
            self._observe_known(known, obs, state)
        if obs.volatile is not None:
            self.metrics.append(metric_for(self._entity_ref(self.known[(obs.kind, obs.key)]), self.batch, obs.volatile))
        self.pending += 1
        if self.pending >= FLUSH_EVERY:
            self.flush()

    def _observe_known(self, known: _Known, obs: EntityObservation, state: str) -> None:
        entity = self._entity_ref(known)
        if known.state == EntityState.ABSENT:
            self._event(entity, EventKind.REAPPEARED)
            if obs.orphaned:
                self._event(entity, EventKind.ORPHANED)
            self._new_version(entity, obs)
        elif known.state != state:
            if obs.orphaned:
                self._event(entity, EventKind.ORPHANED)
            else:
                self._event(entity, EventKind.REAPPEARED, "listed", EntityState.ORPHANED, EntityState.LISTED)
            self._new_version(entity, obs)
        elif obs.content_hash == known.content_hash:
            pass  # the open version goes on: seeing the entity is enough
        else:
            self._changed(known, entity, obs)
        if known.state != state and known.entity_id:
            self.state_changes.setdefault(state, []).append(known.entity_id)
        known.state, known.seen, known.content_hash, known.source = state, True, obs.content_hash, obs.source
        known.last_seen_id = self.batch.id
        if known.entity_id:
            self.seen_entities.append(known.entity_id)

    def _changed(self, known: _Known, entity: Entity, obs: EntityObservation) -> None:
        old_fields = EntityVersion.objects.filter(pk=known.version_id).values_list("fields", flat=True).first() or {}
        if known.source == obs.source:
            for kind, name, before, after in field_changes(old_fields, obs.fields):
                self._event(entity, kind, name, before, after)
        if known.version_first_batch_id == self.batch.id:  # changed again within the hour: one version per batch
            version = EntityVersion(
                pk=known.version_id, content_hash=obs.content_hash, fields=obs.fields, source=obs.source
            )
            self.replaced_versions.append(version)
        else:
            self._new_version(entity, obs)

    def _new_version(self, entity: Entity, obs: EntityObservation) -> None:
        known = self.known[(obs.kind, obs.key)]
        if known.version_id and known.last_seen_id:
            self._close(known)
        version = EntityVersion(
            entity=entity, content_hash=obs.content_hash, source=obs.source, fields=obs.fields, first_batch=self.batch
        )
        self.new_versions.append((version, known))

    def _close(self, known: _Known) -> None:
        """The current version ends with the last batch the entity was seen in."""
        self.closed_versions.setdefault(known.last_seen_id, []).append(known.version_id)

    @transaction.atomic
    def flush(self) -> None:
        if self.new_entities:
            Entity.objects.bulk_create(self.new_entities)
        if self.new_versions:
            EntityVersion.objects.bulk_create([version for version, _ in self.new_versions])
            for version, known in self.new_versions:
                version.entity.current_id = version.pk
                known.version_id, known.version_first_batch_id = version.pk, self.batch.id
            Entity.objects.bulk_update([version.entity for version, _ in self.new_versions], ["current"])
        if self.replaced_versions:
            EntityVersion.objects.bulk_update(self.replaced_versions, ["content_hash", "fields", "source"])
        for entity in self.new_entities:
            known = self.known[(entity.kind, entity.key)]
            known.entity_id, known.entity = entity.pk, None
        for last_batch_id, ids in self.closed_versions.items():
            EntityVersion.objects.filter(pk__in=ids, last_batch__isnull=True).update(last_batch_id=last_batch_id)
        if self.seen_entities:
            Entity.objects.filter(pk__in=self.seen_entities).update(last_seen=self.batch)
        for state, ids in self.state_changes.items():
            Entity.objects.filter(pk__in=ids).update(state=state)
        if self.events:
            Event.objects.bulk_create(
                self.events,
                update_conflicts=True,
                unique_fields=["batch", "entity", "kind", "field"],
                update_fields=["before", "after"],
            )
        if self.metrics:
            VolatileMetric.objects.bulk_create(
                self.metrics,
                update_conflicts=True,
                unique_fields=["entity", "batch"],
                update_fields=["values", "status", *METRIC_FIELDS[1:], "latency_p50", "throughput_p50"],
            )
        self._reset()

    @transaction.atomic
    def close_missing(self) -> None:
        """After a complete batch: every entity not seen in it has disappeared."""
        self.flush()
        gone = [k for k in self.known.values() if not k.seen and k.state != EntityState.ABSENT]
        for known in gone:
            known.state = EntityState.ABSENT
            self._event(Entity(pk=known.entity_id), EventKind.DISAPPEARED)
            if known.version_id and known.last_seen_id:
                self._close(known)
        Entity.objects.filter(pk__in=[k.entity_id for k in gone]).update(state=EntityState.ABSENT)
        self.flush()

    def counts(self) -> dict:
        by_kind = Counter(kind for (kind, _), k in self.known.items() if k.seen)
        return {f"{kind}s_seen": by_kind.get(kind, 0) for kind in EntityKind.values}
