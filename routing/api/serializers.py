"""Shapes of the routing admin API: request log rows and route states, and the statistics' query parameters."""

from __future__ import annotations

from rest_framework import serializers

from routing.models import RequestLog, RouteState
from routing.selectors import STATS_WINDOWS


class RequestLogSerializer(serializers.ModelSerializer):
    pool = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    capability = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    route = serializers.SerializerMethodField()

    class Meta:
        model = RequestLog
        fields = (
            *("id", "at", "requested", "capability", "pool", "route", "stream", "status", "outcome", "attempts"),
            *("attempt_log", "latency_ms", "ttft_ms", "prompt_tokens", "completion_tokens", "cost", "error"),
        )

    def get_route(self, obj) -> str | None:
        if obj.mapping_id is None:
            return None
        return f"{obj.mapping.model.slug}@{obj.provider.slug if obj.provider_id else '?'}"


class RouteStateSerializer(serializers.ModelSerializer):
    subject = serializers.CharField(read_only=True)
    kind = serializers.SerializerMethodField()

    class Meta:
        model = RouteState
        fields = (
            "id",
            "kind",
            "subject",
            "state",
            "reason",
            "consecutive_failures",
            "failed_probes",
            "deactivated_until",
            "last_error",
            "changed_at",
        )

    def get_kind(self, obj) -> str:
        return "offer" if obj.mapping_id else "provider"


class StatsQuerySerializer(serializers.Serializer):
    """The query parameters of the request log statistics."""

    window = serializers.ChoiceField(choices=list(STATS_WINDOWS), default="24h", help_text="How far back to count.")
