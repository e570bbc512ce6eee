"""Public telemetry API: a provider's health and latency over a window, and a model's providers ranked."""

from __future__ import annotations

from functools import cached_property

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from catalog import cache_tags
from catalog import selectors as catalog_selectors
from modelgraph.api.errors import ERROR_RESPONSES, NOT_FOUND, NotFound
from modelgraph.api.filtersets import query_parameters
from modelgraph.api.viewsets import ReadOnlyViewSet
from telemetry import selectors
from telemetry.api import serializers

MAX_ID_LENGTH = 300
PROVIDER_ID = OpenApiParameter("provider_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="Provider slug.")
MODEL_ID = OpenApiParameter(
    "model_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The model's slug or any alias."
)


class TelemetryViewSet(ReadOnlyViewSet):
    pagination_class = None
    cache_timeout_setting = "API_CACHE_TELEMETRY_SECONDS"

    @cached_property
    def provider(self):
        identifier = self.kwargs["provider_id"]
        provider = catalog_selectors.provider_get(identifier)
        if provider is None:
            raise NotFound(f"No provider is called {identifier[:MAX_ID_LENGTH]!r}.")
        return provider

    @cached_property
    def model(self):
        identifier = self.kwargs["model_id"]
        model = selectors.model_get(identifier)
        if model is None:
            raise NotFound(f"No model is called {identifier[:MAX_ID_LENGTH]!r}.")
        return model

    @cached_property
    def window(self) -> str:
        return query_parameters(serializers.WindowQuerySerializer, self.request)["window"]

    def cache_tags(self) -> list[str]:
        if self.action == "ranked":
            offers = selectors.ranked_mappings(self.model).values_list("provider_id", flat=True)
            return [cache_tags.TELEMETRY, cache_tags.model(self.model.pk), *map(cache_tags.provider, offers)]
        return [cache_tags.TELEMETRY, cache_tags.provider(self.provider.pk)]

    @extend_schema(
        operation_id="telemetry_health",
        summary="A provider's uptime: its API and each offer",
        description="Hourly health-check results over the window: uptime of the provider's API and of each of its "
        "offers, the latest check, and an overall status.",
        parameters=[PROVIDER_ID, serializers.WindowQuerySerializer],
        responses={200: serializers.TelemetryHealthSerializer, **ERROR_RESPONSES, **NOT_FOUND},
    )
    def health(self, request, *args, **kwargs):
        return Response(
            serializers.TelemetryHealthSerializer(selectors.provider_health(self.provider, window=self.window)).data
        )

    @extend_schema(
        operation_id="telemetry_latency",
        summary="A provider's time to first token and total time, p50/p90/p99",
        description="Latency percentiles over the window, for the provider and for each offer, with hourly points "
        "for charts and the number of samples behind them.",
        parameters=[PROVIDER_ID, serializers.WindowQuerySerializer],
        responses={200: serializers.TelemetryLatencySerializer, **ERROR_RESPONSES, **NOT_FOUND},
    )
    def latency(self, request, *args, **kwargs):
        data = selectors.provider_latency(self.provider, window=self.window)
        return Response(serializers.TelemetryLatencySerializer(data).data)

    @extend_schema(
        operation_id="telemetry_ranked",
        summary="Who serves this model best right now: its providers scored and ranked",
        description="The model's offers scored on recent uptime, latency and price and ranked best first; the model "
        "may be named by slug or any alias.",
        parameters=[MODEL_ID],
        responses={200: serializers.TelemetryRankedSerializer, **ERROR_RESPONSES, **NOT_FOUND},
    )
    def ranked(self, request, *args, **kwargs):
        return Response(serializers.TelemetryRankedSerializer(selectors.provider_rank_for_model(self.model)).data)
