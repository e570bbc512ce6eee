"""Whether a compared offer was measured, on what, and its provider's API uptime kept apart from its own.

An offer with no probes of its own in the window has `measured: false`, `score: null` and `uptime: null` and sorts
after every measured offer; its provider's API health, when known, is `provider_uptime`, scoped to the provider.
"""

from __future__ import annotations

from rest_framework import serializers

from catalog.ranking import OfferRank

OFFER_MEASUREMENT_FIELDS = ["measured", "window", "samples", "provider_uptime"]


class OfferSamplesSerializer(serializers.Serializer):
    uptime = serializers.IntegerField(help_text="This offer's own health checks counted (successes + failures).")
    latency = serializers.IntegerField(help_text="This offer's latency probes with a time to first token.")


class ProviderUptimeSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(
        ["provider_api"], help_text="Always `provider_api`: the provider's model listing, not this offer."
    )
    uptime = serializers.FloatField(help_text="Share of successful health checks of the provider's API (0–1).")
    samples = serializers.IntegerField(help_text="The provider's API health checks counted.")
    window = serializers.CharField(help_text="The window the checks are counted over, e.g. `7d`.")


class OfferMeasurementFields(serializers.Serializer):
    measured = serializers.BooleanField(
        help_text="Probed on its own in the window (health checks or latency probes). False: not measured, so "
        "`score` and `uptime` are null and the offer is listed after every measured one."
    )
    window = serializers.CharField(
        allow_null=True, help_text="The telemetry window of `uptime`, the medians and `score`, e.g. `7d`."
    )
    samples = OfferSamplesSerializer(allow_null=True, help_text="The probes of this offer behind its figures.")
    provider_uptime = ProviderUptimeSerializer(
        allow_null=True,
        help_text="The provider's API uptime over the same window, labelled as the provider's: never this offer's.",
    )


def offer_measurement(row: OfferRank) -> dict:
    return {
        "measured": row.measured,
        "window": row.window,
        "samples": row.samples,
        "provider_uptime": row.provider_uptime,
    }
