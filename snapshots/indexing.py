"""The entity index of one batch: versions with validity intervals and events, written in bulk.

Volatile figures are not indexed row by row: they live in the batch's column block (columns.py). An entity row is
written only when the entity appears or its state changes (and, in an incomplete batch, to record that it was
seen): an unchanged hour writes no row at all (see `Entity.seen_until`).

The state of every known entity (id, current version hash) is held in memory for the batch (a few hundred bytes
each); observations are buffered and flushed every FLUSH_EVERY, each flush in one transaction, so a crash loses
at most one buffer, which the next sync of the same hour writes again (every write here is idempotent).

A version's fields are written compressed with a dictionary of their source (fields_codec.py), trained by the first
flush that has enough versions of a source without one and stored in that flush's transaction.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db import transaction

from catalog import bulk
from modelgraph.storable_text import storable
from snapshots.entities import EntityObservation
from snapshots.events import field_changes
from snapshots.fields_codec import (
    TRAIN_MAX_SAMPLES,
    TRAIN_MIN_SAMPLES,
    Dictionary,
    DictionaryFields,
    dictionaries_current,
    dictionary_create,
    fields_json,
)
from snapshots.models import Batch, Entity, EntityKind, EntityState, EntityVersion, Event, EventKind, FieldsDictionary

FLUSH_EVERY = 250


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
            "last_seen__hour",
        )
        newest = Batch.objects.complete().exclude(pk=batch.pk).order_by("-hour").values_list("id", "hour").first()
        self.seen_ids: list[int] = []  # entities seen by this batch (written only if it ends incomplete)
        self.dictionaries: dict[str, Dictionary] = dictionaries_current(FieldsDictionary)
        # Per source without a dictionary: versions written without one since training last failed for too few.
        self.untrained: dict[str, int] = {}
        for pk, kind, key, state, version_id, digest, source, first_id, last_seen_id, hour in rows.iterator(2000):
            if state != EntityState.ABSENT and newest is not None and newest[1] > hour:
                last_seen_id = newest[0]  # listed: seen by every complete batch since its row was written
            self.known[(kind, key)] = _Known(
                None, pk, state, version_id, digest or "", source or "", first_id, False, last_seen_id
            )
        self._reset()

    def _reset(self) -> None:
        self.new_entities: list[Entity] = []
        self.new_versions: list[tuple[EntityVersion, _Known]] = []
        self.events: list[Event] = []
        self.closed_versions: dict[int, list[int]] = {}  # last batch id -> versions it closes
        self.state_changes: dict[str, list[int]] = {}
        self.replaced_versions: list[EntityVersion] = []
        self.pending = 0

    def _event(self, entity: Entity, kind: str, field: str = "", before=None, after=None) -> None:
        # A NUL or a lone surrogate in a value (valid JSON, refused by jsonb) is written out as an escape here: the
        # event only indexes the change, the archive keeps the answer byte for byte.
        before, after = storable(before), storable(after)
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
            self.seen_ids.append(known.entity_id)

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

    def _compressed(self, versions: list[EntityVersion]) -> None:
        """Give each version's fields its source's dictionary, training one for a source that has none yet."""
        by_source: dict[str, list[EntityVersion]] = defaultdict(list)
        for version in versions:
            by_source[version.source].append(version)
        for source, group in by_source.items():
            dictionary = self.dictionaries.get(source)
            if dictionary is None and self.untrained.get(source, TRAIN_MIN_SAMPLES) + len(group) >= TRAIN_MIN_SAMPLES:
                dictionary = self._train(source, [fields_json(version.fields) for version in group])
            if dictionary is None:
                self.untrained[source] = self.untrained.get(source, 0) + len(group)
            for version in group:
                version.fields = DictionaryFields(version.fields, dictionary)

    def _train(self, source: str, samples: list[bytes]) -> Dictionary | None:
        """A dictionary for `source` from these versions, topped up with its stored ones when they are too few."""
        if len(samples) < TRAIN_MIN_SAMPLES:
            stored = EntityVersion.objects.filter(source=source).order_by("id").values_list("fields", flat=True)
            samples += [fields_json(fields) for fields in stored[: TRAIN_MAX_SAMPLES - len(samples)]]
        dictionary = dictionary_create(FieldsDictionary, source, samples)
        if dictionary is None:
            self.untrained[source] = 0
        else:
            self.dictionaries[source] = dictionary
        return dictionary

    @transaction.atomic
    def flush(self) -> None:
        self._compressed([version for version, _ in self.new_versions] + self.replaced_versions)
        # A new entity is written once, already pointing at its first version: the versions' ids are drawn from
        # their sequence first (the constraint is checked at commit). Inserted then updated, every new entity left a
        # dead row behind — half the entity table after a first sync. Where ids cannot be drawn ahead (SQLite), the
        # entity is inserted first and its `current` set after its version.
        drawn = bulk.next_ids(EntityVersion, len(self.new_versions)) if self.new_entities else None
        if drawn is not None:
            for (version, _), pk in zip(self.new_versions, drawn, strict=True):
                version.pk = pk
                if version.entity.pk is None:
                    version.entity.current_id = pk
        if self.new_entities:
            Entity.objects.bulk_create(self.new_entities)
        if self.new_versions:
            EntityVersion.objects.bulk_create([version for version, _ in self.new_versions])
            moved = []
            for version, known in self.new_versions:
                if version.entity.current_id != version.pk:
                    version.entity.current_id = version.pk
                    moved.append(version.entity)
                known.version_id, known.version_first_batch_id = version.pk, self.batch.id
            if moved:
                Entity.objects.bulk_update(moved, ["current"])
        if self.replaced_versions:
            EntityVersion.objects.bulk_update(self.replaced_versions, ["content_hash", "fields", "source"])
        for entity in self.new_entities:
            known = self.known[(entity.kind, entity.key)]
            known.entity_id, known.entity = entity.pk, None
        for last_batch_id, ids in self.closed_versions.items():
            EntityVersion.objects.filter(pk__in=ids, last_batch__isnull=True).update(last_batch_id=last_batch_id)
        for state, ids in self.state_changes.items():  # a state change is a sighting: last_seen moves with it
            Entity.objects.filter(pk__in=ids).update(state=state, last_seen=self.batch)
        if self.events:
            Event.objects.bulk_create(
                self.events,
                update_conflicts=True,
                unique_fields=["batch", "entity", "kind", "field"],
                update_fields=["before", "after"],
            )
        self._reset()

    @transaction.atomic
    def close_missing(self) -> None:
        """After a complete batch: every entity not seen in it has disappeared."""
        self.flush()
        gone = [k for k in self.known.values() if not k.seen and k.state != EntityState.ABSENT]
        last_seen: dict[int | None, list[int]] = {}
        for known in gone:
            known.state = EntityState.ABSENT
            self._event(Entity(pk=known.entity_id), EventKind.DISAPPEARED)
            if known.version_id and known.last_seen_id:
                self._close(known)
            last_seen.setdefault(known.last_seen_id, []).append(known.entity_id)
        for batch_id, ids in last_seen.items():  # absent: last_seen is what says when it was seen last
            changes = {"state": EntityState.ABSENT} | ({"last_seen_id": batch_id} if batch_id else {})
            Entity.objects.filter(pk__in=ids).update(**changes)
        self.flush()

    @transaction.atomic
    def mark_seen(self) -> None:
        """After an incomplete batch: the entities it saw record it (those it missed keep their last sighting)."""
        self.flush()
        for start in range(0, len(self.seen_ids), 5000):
            Entity.objects.filter(pk__in=self.seen_ids[start : start + 5000]).update(last_seen=self.batch)

    def counts(self) -> dict:
        by_kind = Counter(kind for (kind, _), k in self.known.items() if k.seen)
        return {f"{kind}s_seen": by_kind.get(kind, 0) for kind in EntityKind.values}
