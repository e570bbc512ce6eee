from rest_framework import serializers

from ingestion.models import IngestionRun


class IngestionRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = IngestionRun
        fields = [
            "id",
            "source",
            "tier",
            "status",
            "started_at",
            "finished_at",
            "models_added",
            "models_updated",
            "aliases_added",
            "error_message",
            "details",
        ]


class IngestQueuedSerializer(serializers.Serializer):
    run_id = serializers.IntegerField()
    source = serializers.CharField()
    status = serializers.CharField()
    detail = serializers.CharField(required=False, help_text="Why the run could not start (409 only).")
