"""The OpenRouter archive: hour-aligned batches, content-addressed raw blobs, the entity index and change events."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from snapshots.fields_codec import CompressedJSONField
from snapshots.querysets import BatchQuerySet, EntityVersionQuerySet, EventQuerySet


class Blob(models.Model):
    """One distinct piece of stored content (a record, a segment, a manifest, a column block), stored once.

    A blob with a `reference` is a delta: compressed with the reference's content as a prefix dictionary. `depth`
    counts the references down to a keyframe (a blob without one), so reading never walks a long chain. A record
    inside a `segment` has no data of its own: it is `size` bytes at `offset` of the segment's content
    (see records.py and frames.py).
    """

    class Role(models.TextChoices):
        BODY = "body", "A whole response body (template), storage v1"
        PACK = "pack", "The new endpoint templates of a batch, storage v1"
        MANIFEST = "manifest", "A batch's manifest"
        RECORD = "record", "A keyframe record inside a segment"
        DELTA = "delta", "A record as a small frame against its previous version"
        SEGMENT = "segment", "Keyframe records of a batch, one small zstd stream"
        COLUMNS = "columns", "A batch's volatile figures as columns"
        GROUP = "group", "Changed list items, one frame against their previous versions"

    sha256 = models.BinaryField(max_length=32, unique=True)
    size = models.PositiveIntegerField(help_text="Bytes before compression.")
    data = models.BinaryField()
    reference = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.BODY)
    depth = models.PositiveSmallIntegerField(default=0)
    segment = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    offset = models.PositiveIntegerField(null=True, blank=True, help_text="Where a record is in its segment.")

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(reference=models.F("id")), name="blob_not_self_reference")]

    def __str__(self) -> str:
        return bytes(self.sha256).hex()[:16]

    @property
    def hexdigest(self) -> str:
        return bytes(self.sha256).hex()


class Batch(models.Model):
    """Every sync of one hour; `hour` is the start of that hour, so a second sync in the hour reuses the batch."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETE = "complete", "Complete"
        INCOMPLETE = "incomplete", "Incomplete"
        FAILED = "failed", "Failed"

    hour = models.DateTimeField(unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    complete = models.BooleanField(default=False)
    validation = models.JSONField(default=dict, blank=True)
    stats = models.JSONField(default=dict, blank=True)
    # The batch's responses: one JSON line per request (path, status, blob, volatile values); see storage.py.
    manifest = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Set when the batch has volatile figures (uptimes, latencies, statuses): its page index, whose pages each hold
    # a column block of the figures of their bodies (see storage.py and columns.py).
    volatile = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The sync working on the batch holds a lease, renewed by its heartbeat (see lease.py); a lease that ran out
    # belongs to a sync that died, and the next sync of the hour takes the batch over.
    lease_owner = models.CharField(max_length=120, blank=True, help_text="host:pid:token of the sync holding it.")
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1, help_text="Syncs that have worked on this batch.")

    objects = BatchQuerySet.as_manager()

    class Meta:
        ordering = ["-hour"]
        verbose_name_plural = "batches"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["running", "complete", "incomplete", "failed"]), name="batch_status_valid"
            ),
            models.CheckConstraint(condition=Q(complete=False) | Q(status="complete"), name="batch_complete_status"),
        ]
        indexes = [models.Index(fields=["complete", "-hour"], name="batch_complete_hour_idx")]

    def __str__(self) -> str:
        return self.hour.strftime("%Y-%m-%d %H:00")


class EntityKind(models.TextChoices):
    MODEL = "model", "Model"
    ENDPOINT = "endpoint", "Endpoint"
    PROVIDER = "provider", "Provider"
    # From the frontend API (see coverage.py): an endpoint by its UUID with its flags, limits, region and data
    # policy; a provider with its capabilities.
    ENDPOINT_DETAIL = "endpoint_detail", "Endpoint detail (by UUID)"
    PROVIDER_DETAIL = "provider_detail", "Provider capabilities"


class EntityState(models.TextChoices):
    LISTED = "listed", "Listed"
    ORPHANED = "orphaned", "Orphaned (no endpoints)"
    ABSENT = "absent", "Absent"


class Entity(models.Model):
    """A model (`openai/gpt-4o`, `x/y:free`), an endpoint (`<model id>@<tag>`) or a provider (`deepinfra`).

    From the frontend API also an endpoint detail (by UUID) and a provider's capabilities (by slug), see coverage.py.
    """

    kind = models.CharField(max_length=20, choices=EntityKind.choices)
    key = models.CharField(max_length=400)
    model_key = models.CharField(max_length=300, blank=True, help_text="The model an endpoint serves.")
    provider_key = models.CharField(max_length=100, blank=True, help_text="The provider slug of an endpoint.")
    state = models.CharField(max_length=10, choices=EntityState.choices, default=EntityState.LISTED)
    first_seen = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+")
    # Written when the state changes and by incomplete batches only: a listed entity was also seen by every
    # complete batch since (which would have marked it absent otherwise), see `seen_until`.
    last_seen = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+")
    current = models.ForeignKey(
        "EntityVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["kind", "key"]
        verbose_name_plural = "entities"
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="entity_kind_key_unique")]
        indexes = [
            models.Index(fields=["kind", "provider_key"], name="entity_kind_provider_idx"),
            models.Index(fields=["model_key", "kind"], name="entity_model_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"

    @property
    def seen_until(self) -> Batch:
        """The last batch that saw the entity: `last_seen`, or the newest complete batch while it is listed.

        Selectors set `_newest_complete` on the entities they return, so this costs no query there."""
        if self.state == EntityState.ABSENT:
            return self.last_seen
        if not hasattr(self, "_newest_complete"):
            self._newest_complete = Batch.objects.newest_complete()
        newest = self._newest_complete
        return newest if newest is not None and newest.hour > self.last_seen.hour else self.last_seen


class EntityVersion(models.Model):
    """One distinct content of an entity's stable fields, valid from `first_batch` to `last_batch` inclusive.

    The current version of an entity is open (`last_batch` is null): it lasts as long as the entity is seen
    (`Entity.seen_until`), so an unchanged hour rewrites no version or entity row. A change or a disappearance
    closes it.
    """

    # No index of its own on `entity`: version_entity_first_idx starts with it.
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="versions", db_index=False)
    content_hash = models.CharField(max_length=64)
    source = models.CharField(max_length=20, help_text="The response kind these fields come from.")
    # Compressed JSON (see fields_codec.py): a dict to every reader, a fifth of its JSON in the table.
    fields = CompressedJSONField()
    first_batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+")
    last_batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    objects = EntityVersionQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["entity", "first_batch"], name="version_entity_first_idx"),
            models.Index(fields=["entity", "last_batch"], name="version_entity_last_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.content_hash[:10]}"

    @property
    def last_seen(self) -> Batch:
        """The last batch this version was seen in (select_related `entity__last_seen` to avoid a query)."""
        return self.last_batch if self.last_batch_id is not None else self.entity.seen_until


class FieldsDictionary(models.Model):
    """A zstd dictionary that entity version fields of one source are compressed with (see fields_codec.py).

    Each compressed value names its dictionary by `dict_id`, derived from all the dictionary's bytes (written into
    its header, where zstd reads it); the newest dictionary of a source is the one new versions are written with."""

    dict_id = models.PositiveIntegerField(unique=True)
    source = models.CharField(max_length=20, help_text="The response kind it was trained on.")
    data = models.BinaryField()
    samples = models.PositiveIntegerField(help_text="Versions it was trained on.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "fields dictionaries"

    def __str__(self) -> str:
        return f"{self.source} {self.dict_id}"


class EventKind(models.TextChoices):
    APPEARED = "appeared", "Appeared"
    DISAPPEARED = "disappeared", "Disappeared"
    REAPPEARED = "reappeared", "Reappeared"
    ORPHANED = "orphaned", "Orphaned"
    PRICE_CHANGED = "price_changed", "Price changed"
    LIMITS_CHANGED = "limits_changed", "Context/limits changed"
    STATUS_CHANGED = "status_changed", "Status flag changed (disabled, deranked, hidden)"
    REGION_CHANGED = "region_changed", "Region changed"
    CHANGED = "changed", "Other field changed"


class Event(models.Model):
    """What changed for one entity in one batch; field events say which field, before → after."""

    # No FK indexes of their own: event_batch_kind_idx and event_entity_batch_idx start with these columns.
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="events", db_index=False)
    field = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["batch", "entity", "kind", "field"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "entity", "kind", "field"], name="event_unique_per_batch"),
            models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="event_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["batch", "kind"], name="event_batch_kind_idx"),
            models.Index(fields=["entity", "batch"], name="event_entity_batch_idx"),
            models.Index(fields=["kind", "batch"], name="event_kind_batch_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.field}".strip()
