"""Shapes of the telemetry answers (they serialise the selectors' dicts and document them in the OpenAPI schema)."""

from __future__ import annotations

from rest_framework import serializers

from telemetry.selectors import WINDOWS


class WindowQuerySerializer(serializers.Serializer):
    """The query parameter of a provider's health and latency."""

    window = serializers.ChoiceField(
        choices=list(WINDOWS),
        default="7d",
        help_text="Whole hours: the current hour and those back to `window` ago.",
    )


class TelemetryRefSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Slug.")
    name = serializers.CharField()


class TelemetryCountsSerializer(serializers.Serializer):
    successes = serializers.IntegerField()
    failures = serializers.IntegerField()
    excluded = serializers.IntegerField(help_text="429s and our own auth/config errors: recorded, not in uptime.")


class TelemetryUptimeSerializer(TelemetryCountsSerializer):
    uptime = serializers.FloatField(allow_null=True, help_text="successes / (successes + failures); null: unknown.")
    uptime_lower_bound = serializers.FloatField(allow_null=True, help_text="95% Wilson lower bound of the uptime.")
    samples = serializers.IntegerField(help_text="successes + failures: the probes uptime is computed from.")


class TelemetryLatestCheckSerializer(serializers.Serializer):
    checked_at = serializers.DateTimeField()
    outcome = serializers.CharField()
    status_code = serializers.IntegerField(allow_null=True)
    response_ms = serializers.FloatField(allow_null=True)
    error_class = serializers.CharField()


class TelemetryMappingUptimeSerializer(TelemetryUptimeSerializer):
    mapping_id = serializers.IntegerField()
    provider_model_id = serializers.CharField()
    model = serializers.CharField(help_text="The canonical model's slug.")


class TelemetryHealthHourSerializer(TelemetryCountsSerializer):
    hour = serializers.DateTimeField()


class TelemetryHealthSerializer(TelemetryUptimeSerializer):
    provider = TelemetryRefSerializer()
    window = serializers.CharField()
    since = serializers.DateTimeField(help_text="Start of the first hour in the window.")
    status = serializers.ChoiceField(
        ["up", "down", "unknown", "not_configured"],
        help_text="From the latest check while it is current (10 min); not_configured: no key or endpoint to probe.",
    )
    not_configured_reason = serializers.ChoiceField(
        ["no_key", "no_endpoint"], allow_null=True, help_text="Why the provider is not probed (null: it is)."
    )
    latest = TelemetryLatestCheckSerializer(allow_null=True)
    mean_response_ms = serializers.FloatField(allow_null=True)
    mappings = TelemetryMappingUptimeSerializer(
        many=True, help_text="Per-offer health checks (where the API allows one)."
    )
    series = TelemetryHealthHourSerializer(many=True, help_text="The provider API's checks, hour by hour.")


class TelemetryPercentilesSerializer(serializers.Serializer):
    p50 = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)
    p99 = serializers.FloatField(allow_null=True)
    mean = serializers.FloatField(allow_null=True)


class TelemetryLatencyStatsSerializer(TelemetryCountsSerializer):
    samples = serializers.IntegerField(help_text="Successful latency probes the percentiles are computed from.")
    ttft_ms = TelemetryPercentilesSerializer(help_text="Time to first token, milliseconds.")
    total_ms = TelemetryPercentilesSerializer(help_text="Time to the end of the answer, milliseconds.")
    tokens_per_second = serializers.FloatField(allow_null=True, help_text="Output tokens / (total − TTFT).")
    mean_output_tokens = serializers.FloatField(allow_null=True)


class TelemetryMappingLatencySerializer(TelemetryLatencyStatsSerializer):
    mapping_id = serializers.IntegerField()
    provider_model_id = serializers.CharField()
    model = serializers.CharField()


class TelemetryLatencyPointSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Start of the hour (or day, see `series_resolution`).")
    samples = serializers.IntegerField()
    failures = serializers.IntegerField()
    mean_ttft_ms = serializers.FloatField(allow_null=True)
    mean_total_ms = serializers.FloatField(allow_null=True)


class TelemetryLatencySerializer(TelemetryLatencyStatsSerializer):
    provider = TelemetryRefSerializer()
    window = serializers.CharField()
    since = serializers.DateTimeField()
    mappings = TelemetryMappingLatencySerializer(many=True)
    series_resolution = serializers.ChoiceField(["hour", "day"], help_text="Hourly up to 7 days, daily beyond.")
    series = TelemetryLatencyPointSerializer(many=True)


class TelemetryComponentSerializer(serializers.Serializer):
    raw = serializers.FloatField(allow_null=True, help_text="Uptime ratio, median ms, or blended $ per million.")
    normalised = serializers.FloatField(allow_null=True, help_text="0–1, relative to the best offer of the model.")
    weight = serializers.FloatField(help_text="Effective weight after components missing everywhere dropped out.")
    imputed = serializers.BooleanField(help_text="This offer lacks the figure: it gets the worst normalised value.")
    samples = serializers.IntegerField(required=False)
    lower_bound = serializers.FloatField(required=False, allow_null=True, help_text="Uptime: the ranked bound.")
    input = serializers.FloatField(required=False, allow_null=True, help_text="Price: $ per million input tokens.")
    output = serializers.FloatField(required=False, allow_null=True, help_text="Price: $ per million output tokens.")


class TelemetryComponentsSerializer(serializers.Serializer):
    uptime = TelemetryComponentSerializer()
    ttft = TelemetryComponentSerializer()
    price = TelemetryComponentSerializer()
    total_time = TelemetryComponentSerializer()


class TelemetrySamplesSerializer(serializers.Serializer):
    uptime = serializers.IntegerField()
    latency = serializers.IntegerField()


class TelemetryProviderUptimeSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(["provider_api"], help_text="The provider's API, not this offer.")
    uptime = serializers.FloatField(help_text="Share of successful health checks of the provider's API (0–1).")
    samples = serializers.IntegerField()
    window = serializers.CharField()


class TelemetryRankedEntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    provider = TelemetryRefSerializer()
    mapping_id = serializers.IntegerField()
    provider_model_id = serializers.CharField()
    score = serializers.FloatField(allow_null=True, help_text="Null when not measured.")
    measured = serializers.BooleanField(
        help_text="Probed on its own in the window; an unmeasured offer has no score and is ranked after measured ones."
    )
    uptime = serializers.FloatField(allow_null=True, help_text="Its own health checks' success share; null: none.")
    provisional = serializers.BooleanField(help_text="Too few samples in the window to trust the rank yet.")
    provisional_reasons = serializers.ListField(child=serializers.CharField())
    cheapest = serializers.BooleanField(help_text="The lowest blended price of the ranked offers (first on a tie).")
    fastest = serializers.BooleanField(help_text="The lowest median time to first token of the ranked offers.")
    uptime_source = serializers.ChoiceField(
        ["mapping", "none"], help_text="`mapping`: its own health checks; `none`: no uptime (never the provider's)."
    )
    provider_uptime = TelemetryProviderUptimeSerializer(
        allow_null=True, help_text="The provider's API uptime over the window, labelled as the provider's."
    )
    samples = TelemetrySamplesSerializer()
    components = TelemetryComponentsSerializer()


class TelemetryRankedSerializer(serializers.Serializer):
    model = TelemetryRefSerializer()
    window = serializers.CharField()
    since = serializers.DateTimeField()
    weights = serializers.DictField(child=serializers.FloatField(), help_text="Effective weights, summing to 1.")
    dropped_components = serializers.ListField(child=serializers.CharField())
    providers = TelemetryRankedEntrySerializer(many=True)
