"""Shapes of the snapshot answers (batches, events, versions, histories and diffs) and of the diff's parameters."""

from __future__ import annotations

from rest_framework import serializers

from snapshots.filtersets import InvalidMoment, batch_ref
from snapshots.models import Batch, Entity, EntityVersion, Event


class BatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Batch
        fields = ["id", "hour", "status", "complete", "started_at", "finished_at", "stats"]


class BatchDetailSerializer(BatchSerializer):
    class Meta(BatchSerializer.Meta):
        fields = [*BatchSerializer.Meta.fields, "validation"]


class EntityRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Entity
        fields = ["kind", "key", "model_key", "provider_key", "state"]


class EntitySerializer(EntityRefSerializer):
    first_seen = serializers.DateTimeField(source="first_seen.hour")
    last_seen = serializers.DateTimeField(source="seen_until.hour")

    class Meta(EntityRefSerializer.Meta):
        fields = [*EntityRefSerializer.Meta.fields, "first_seen", "last_seen"]


class EventSerializer(serializers.ModelSerializer):
    hour = serializers.DateTimeField(source="batch.hour")
    batch = serializers.IntegerField(source="batch_id")
    entity = EntityRefSerializer()
    before = serializers.JSONField()
    after = serializers.JSONField()

    class Meta:
        model = Event
        fields = ["hour", "batch", "kind", "entity", "field", "before", "after"]


class VersionSerializer(serializers.ModelSerializer):
    first_seen = serializers.DateTimeField(source="first_batch.hour")
    last_seen = serializers.DateTimeField(source="last_seen.hour")
    fields = serializers.JSONField()

    class Meta:
        model = EntityVersion
        fields = ["content_hash", "source", "first_seen", "last_seen", "fields"]


class MetricSerializer(serializers.Serializer):
    """One batch's volatile figures of an endpoint, read from the batch's column block (see figures.py)."""

    hour = serializers.DateTimeField(source="batch.hour")
    status = serializers.IntegerField(allow_null=True)
    uptime_last_5m = serializers.FloatField(allow_null=True)
    uptime_last_30m = serializers.FloatField(allow_null=True)
    uptime_last_1d = serializers.FloatField(allow_null=True)
    latency_p50 = serializers.FloatField(allow_null=True)
    throughput_p50 = serializers.FloatField(allow_null=True)
    values = serializers.JSONField(source="extras", help_text="Every other volatile field, as received.")


class HistoryEventSerializer(serializers.ModelSerializer):
    hour = serializers.DateTimeField(source="batch.hour")
    before = serializers.JSONField()
    after = serializers.JSONField()

    class Meta:
        model = Event
        fields = ["hour", "kind", "field", "before", "after"]


class HistorySerializer(serializers.Serializer):
    entity = EntitySerializer()
    versions = VersionSerializer(many=True)
    events = HistoryEventSerializer(many=True)
    metrics = MetricSerializer(many=True)


class DiffEntitySerializer(serializers.Serializer):
    kind = serializers.CharField()
    key = serializers.CharField()


class FieldChangeSerializer(serializers.Serializer):
    kind = serializers.CharField()
    field = serializers.CharField()
    before = serializers.JSONField()
    after = serializers.JSONField()


class DiffChangedSerializer(DiffEntitySerializer):
    source = serializers.ListField(child=serializers.CharField())
    fields = FieldChangeSerializer(many=True)


class DiffSerializer(serializers.Serializer):
    to = BatchSerializer()
    added = DiffEntitySerializer(many=True)
    removed = DiffEntitySerializer(many=True)
    unobserved = DiffEntitySerializer(many=True, help_text="Alive before, not fetched after (incomplete batch).")
    changed = DiffChangedSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = BatchSerializer()
        return fields


class BatchRefField(serializers.CharField):
    """A batch id or ISO hour, as a `BatchRef` (one that names no batch is the view's 404, a malformed moment a 400)."""

    default_error_messages = {
        "required": "A batch id or ISO hour is required.",
        "blank": "A batch id or ISO hour is required.",
    }

    def to_internal_value(self, data):
        try:
            return batch_ref(super().to_internal_value(data))
        except InvalidMoment as exc:
            raise serializers.ValidationError(str(exc)) from None


class DiffQuerySerializer(serializers.Serializer):
    """The query parameters of a diff: `from` and `to` (a Python keyword, hence declared in `get_fields`)."""

    def get_fields(self):
        return {
            # Not trimmed: a value of control characters or spaces is a reference to no batch (404), as the schema's
            # non-empty string allows, not a missing one.
            "from": BatchRefField(help_text="Batch id or ISO hour.", trim_whitespace=False),
            "to": BatchRefField(help_text="Batch id or ISO hour.", trim_whitespace=False),
        }
