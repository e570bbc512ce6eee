"""The OpenRouter archive: hour-aligned batches, content-addressed raw blobs, the entity index and change events."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from snapshots.querysets import BatchQuerySet, EntityVersionQuerySet, EventQuerySet


class Blob(models.Model):
    """One distinct body (or body template, see storage.py), zstd-compressed, stored once whatever its source.

    A blob with a `reference` is a delta: compressed with the reference's content as a prefix dictionary. `depth`
    counts the references down to a keyframe (a blob without one): 1 at most for bodies and packs, a day's worth for
    manifests (see storage.py), so reading never walks a long chain.
    """

    class Role(models.TextChoices):
        BODY = "body", "A whole response body (template)"
        PACK = "pack", "The new endpoint templates of a batch"
        MANIFEST = "manifest", "A batch's manifest"

    sha256 = models.BinaryField(max_length=32, unique=True)
    size = models.PositiveIntegerField(help_text="Bytes before compression.")
    data = models.BinaryField()
    reference = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.BODY)
    depth = models.PositiveSmallIntegerField(default=0)

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


class EntityState(models.TextChoices):
    LISTED = "listed", "Listed"
    ORPHANED = "orphaned", "Orphaned (no endpoints)"
    ABSENT = "absent", "Absent"


class Entity(models.Model):
    """A model (`openai/gpt-4o`, `x/y:free`), an endpoint (`<model id>@<tag>`) or a provider (`deepinfra`)."""

    kind = models.CharField(max_length=10, choices=EntityKind.choices)
    key = models.CharField(max_length=400)
    model_key = models.CharField(max_length=300, blank=True, help_text="The model an endpoint serves.")
    provider_key = models.CharField(max_length=100, blank=True, help_text="The provider slug of an endpoint.")
    state = models.CharField(max_length=10, choices=EntityState.choices, default=EntityState.LISTED)
    first_seen = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+")
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


class EntityVersion(models.Model):
    """One distinct content of an entity's stable fields, valid from `first_batch` to `last_batch` inclusive.

    The current version of an entity is open (`last_batch` is null): it lasts as long as the entity is seen
    (`Entity.last_seen`), so an unchanged hour rewrites no version row. A change or a disappearance closes it.
    """

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="versions")
    content_hash = models.CharField(max_length=64)
    source = models.CharField(max_length=20, help_text="The response kind these fields come from.")
    fields = models.JSONField()
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
        return self.last_batch if self.last_batch_id is not None else self.entity.last_seen


class VolatileMetric(models.Model):
    """An endpoint's fast-moving figures in one batch, kept apart so they never create new versions."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="metrics")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="metrics")
    status = models.SmallIntegerField(null=True, blank=True)
    uptime_last_5m = models.FloatField(null=True, blank=True)
    uptime_last_30m = models.FloatField(null=True, blank=True)
    uptime_last_1d = models.FloatField(null=True, blank=True)
    latency_p50 = models.FloatField(null=True, blank=True)
    throughput_p50 = models.FloatField(null=True, blank=True)
    values = models.JSONField(default=dict, blank=True, help_text="Every volatile field as received.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity", "batch"], name="metric_entity_batch_unique")]
        indexes = [models.Index(fields=["batch"], name="metric_batch_idx")]

    def __str__(self) -> str:
        return f"{self.entity_id}@{self.batch_id}"


class EventKind(models.TextChoices):
    APPEARED = "appeared", "Appeared"
    DISAPPEARED = "disappeared", "Disappeared"
    REAPPEARED = "reappeared", "Reappeared"
    ORPHANED = "orphaned", "Orphaned"
    PRICE_CHANGED = "price_changed", "Price changed"
    LIMITS_CHANGED = "limits_changed", "Context/limits changed"
    CHANGED = "changed", "Other field changed"


class Event(models.Model):
    """What changed for one entity in one batch; field events say which field, before → after."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="events")
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
