"""Public catalogue API: models, their offers and comparison, providers, alias resolution (read-only)."""

from __future__ import annotations

from functools import cached_property

from django.http import HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.response import Response

from catalog import cache_tags, selectors
from catalog.api import serializers
from catalog.api.history import OfferAsOfSerializer
from catalog.api.serializers import MAX_NAME_LENGTH
from catalog.filtersets import ModelFilterSet
from catalog.filtersets_history import AsOfQuerySerializer, BillingQuerySerializer
from catalog.history import model_offers_as_of
from catalog.resolution import model_resolve_name, near_matches
from modelgraph.api.errors import ERROR_RESPONSES, NOT_FOUND, NotFound
from modelgraph.api.filtersets import query_parameters
from modelgraph.api.viewsets import ReadOnlyViewSet

MODEL_ID = OpenApiParameter(
    "id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The model's slug or any alias (`gpt-4o`, `openai/gpt-4o`, `gpt-4o-2024-08-06`); exact first, then "
    "case-insensitive. An alias answers with the canonical model.",
)
# The query parameters of the model list that filter nothing.
PAGINATION_PARAMETERS = frozenset({"page", "page_size"})
PROVIDER_ID = OpenApiParameter("id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The provider's slug.")
MODEL_NOT_FOUND = {
    404: OpenApiResponse(serializers.NotFoundWithNearMatchesSerializer, description="No such model; did you mean…"),
}


def _candidates(candidates, context) -> list[dict]:
    return serializers.CandidateSerializer(candidates, many=True, context=context).data


@extend_schema_view(
    list=extend_schema(
        operation_id="models_list",
        summary="Find models",
        description="Canonical models matching every filter given (capabilities, modalities, context, price, "
        "provider, dates…), ranked by relevance when `search` is given, else by `ordering`; paginated.",
        responses={200: serializers.ModelListSerializer(many=True), **ERROR_RESPONSES, **NOT_FOUND},
    ),
)
class ModelViewSet(ReadOnlyViewSet):
    serializer_class = serializers.ModelListSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ModelFilterSet

    def get_queryset(self):
        return selectors.model_list()

    @property
    def cache_timeout_setting(self) -> str:
        return "API_CACHE_TELEMETRY_SECONDS" if self.action == "compare" else "API_CACHE_CATALOGUE_SECONDS"

    @cached_property
    def model_ref(self) -> selectors.ModelRef:
        identifier = self.kwargs["id"]
        ref = selectors.model_ref_by_id_or_alias(identifier)
        if ref is None:
            raise NotFound(
                f"No model is called {identifier[:MAX_NAME_LENGTH]!r}.",
                # "did you mean" from slugs and names only: scanning every alias is for /api/resolve (cached there)
                near_matches=_candidates(
                    near_matches(identifier[:MAX_NAME_LENGTH], aliases=False), self.get_serializer_context()
                ),
            )
        return ref

    @cached_property
    def offer_ids(self) -> list[tuple[int, int]]:
        return selectors.model_provider_ids(self.model_ref.pk)

    def cache_tags_are_static(self) -> bool:
        return self.action == "list"

    def cache_tags(self) -> list[str]:
        if self.action == "list":
            return [cache_tags.CATALOGUE]
        ref = self.model_ref
        tags = [cache_tags.model(ref.pk)]
        tags += [cache_tags.provider(ref.creator_id)] if ref.creator_id else []
        tags += [cache_tags.family(ref.family_id)] if ref.family_id else []
        tags += [cache_tags.model(ref.successor_id)] if ref.successor_id else []
        if self.action in ("providers", "compare"):
            tags += [cache_tags.provider(provider_id) for _, provider_id in self.offer_ids]
        if self.action == "compare":
            tags.append(cache_tags.TELEMETRY)
        return tags

    def list(self, request, *args, **kwargs):
        if request.query_params.keys() <= PAGINATION_PARAMETERS:  # no filter: the stored rows (catalog/list_rows.py)
            return model_list_stored_page(request, self.paginator)
        page = self.paginate_queryset(selectors.ModelRows(self.filter_queryset(self.get_queryset())))
        selectors.attach_alias_names(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="models_retrieve",
        summary="One model, by slug or alias",
        description="Everything the catalogue knows about one model: lifecycle, limits, modalities, capabilities, "
        "parameters, licence, aliases and its cheapest offers. An alias answers with the canonical model; an "
        "unknown name is 404 with near matches.",
        parameters=[MODEL_ID],
        responses={200: serializers.ModelDetailSerializer, **ERROR_RESPONSES, **MODEL_NOT_FOUND},
    )
    def retrieve(self, request, *args, **kwargs):
        model = selectors.model_get(self.model_ref.pk)
        return Response(serializers.ModelDetailSerializer(model, context=self.get_serializer_context()).data)

    @extend_schema(
        operation_id="models_providers",
        summary="Who offers a model, at what price and limits",
        description="Each provider's offer of the model: its own model id, every price dimension, context window and "
        "max output there, quantization, delivery modes and lifecycle; paginated. With `at`, the prices as of that "
        "day from the price history, each offer with the `price_period` they come from. Cheapest first: pay-per-use "
        "offers before free tiers and plans (`billing=all` orders them all by stated price).",
        parameters=[MODEL_ID, AsOfQuerySerializer, BillingQuerySerializer],
        responses={200: serializers.MappingSerializer(many=True), **ERROR_RESPONSES, **MODEL_NOT_FOUND},
    )
    def providers(self, request, *args, **kwargs):
        at = query_parameters(AsOfQuerySerializer, request).get("at")
        include_plans = query_parameters(BillingQuerySerializer, request)["billing"] == "all"
        offers = (
            selectors.model_providers(self.model_ref.pk, include_plans=include_plans)
            if at is None
            else model_offers_as_of(self.model_ref.pk, at)
        )
        serializer = serializers.MappingSerializer if at is None else OfferAsOfSerializer
        page = self.paginate_queryset(offers)
        return self.get_paginated_response(serializer(page, many=True, context=self.get_serializer_context()).data)

    @extend_schema(
        operation_id="models_compare",
        summary="A model's providers side by side, best first",
        description="The model's offers ranked by price, uptime and latency together (telemetry of the last week), "
        "with the figures each score was made of; paginated. Free tiers and plans compete on price only with "
        "`billing=all`.",
        parameters=[MODEL_ID, BillingQuerySerializer],
        responses={200: serializers.CompareSerializer, **ERROR_RESPONSES, **MODEL_NOT_FOUND},
    )
    def compare(self, request, *args, **kwargs):
        return Response(model_compare_data(request, self.model_ref, self.paginator, self.get_serializer_context()))


def model_list_stored_page(request, paginator) -> HttpResponse:
    """The unfiltered model list's page for `request` (a DRF request; a bad page raises the API's errors) from the
    stored rows: the view's answer, and the fast lane's without the response cache (catalog/api/list_lane.py)."""
    rows = paginator.paginate_queryset(selectors.model_list_bodies(), request)
    return paginator.get_rendered_paginated_response(serializers.list_rows_with_urls(rows, serializers.Links(request)))


def model_compare_data(request, model_ref: selectors.ModelRef, paginator, context: dict) -> dict:
    """The body of /api/models/{id}/compare for `request` (a DRF request; bad parameters raise the API's errors):
    the view's, and the fast lane's when it answers without the response cache (catalog/api/compare_lane.py)."""
    include_plans = query_parameters(BillingQuerySerializer, request)["billing"] == "all"
    page = paginator.paginate_queryset(selectors.model_compare(model_ref.pk, include_plans=include_plans), request)
    body = {
        "model": model_ref,
        "count": paginator.page.paginator.count,
        "next": paginator.get_next_link(),
        "previous": paginator.get_previous_link(),
        "results": page,
    }
    return serializers.CompareSerializer(body, context=context).data


@extend_schema_view(
    list=extend_schema(
        operation_id="providers_list",
        summary="Providers, with how many models each offers",
        description="Every provider and lab in the catalogue, by slug, with its kind, links and offer count; "
        "paginated.",
        responses={200: serializers.ProviderSerializer(many=True), **ERROR_RESPONSES, **NOT_FOUND},
    ),
    retrieve=extend_schema(
        operation_id="providers_retrieve",
        summary="One provider",
        description="One provider by slug: its kind, API base URL, documentation and how many models it offers.",
        parameters=[PROVIDER_ID],
        responses={200: serializers.ProviderSerializer, **ERROR_RESPONSES, **NOT_FOUND},
    ),
)
class ProviderViewSet(ReadOnlyViewSet):
    serializer_class = serializers.ProviderSerializer

    def get_queryset(self):
        return selectors.provider_list()

    @cached_property
    def provider(self):
        provider = selectors.provider_get(self.kwargs["id"])
        if provider is None:
            raise NotFound(f"No provider is called {self.kwargs['id'][:MAX_NAME_LENGTH]!r}.")
        return provider

    def cache_tags_are_static(self) -> bool:
        return self.action == "list"

    def cache_tags(self) -> list[str]:
        return [cache_tags.provider(self.provider.pk)] if self.action == "retrieve" else [cache_tags.CATALOGUE]

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.provider).data)


class ResolveViewSet(ReadOnlyViewSet):
    static_cache_tags = (cache_tags.CATALOGUE,)
    pagination_class = None
    cache_statuses = (200, 404)  # "nothing fits" took a fuzzy search to find out: keep it too
    serializer_class = serializers.ResolutionSerializer

    @extend_schema(
        operation_id="resolve",
        summary="Any name a model goes by → the canonical model",
        description="Exact slug or alias first, then a normalised spelling, then platform spellings parsed "
        "(LiteLLM `provider/…`, Bedrock, Vertex `@stamp`, Groq, Fireworks, Hugging Face repos), then a near name "
        "only when it agrees on every distinguishing token (family, version, size, variant words, date); says which "
        "kind of match it was. Otherwise 404 `no match` with ranked `suggestions`, each saying why it was not taken.",
        parameters=[serializers.ResolveQuerySerializer],
        responses={
            200: serializers.ResolutionSerializer,
            **ERROR_RESPONSES,
            404: OpenApiResponse(serializers.NoMatchSerializer, description="No match: ranked suggestions."),
        },
    )
    def resolve(self, request, *args, **kwargs):
        name = query_parameters(serializers.ResolveQuerySerializer, request)["name"]
        # the catalogue version this request's cache look-up read: the in-process index answers without a query
        versions = self._cache_store[1] if self._cache_store else {}
        resolution = model_resolve_name(name, catalogue_version=versions.get(cache_tags.CATALOGUE))
        context = {"request": request}
        if resolution.model is None:
            suggestions = _candidates(resolution.candidates, context)
            raise NotFound(
                f"No model goes by {name!r}.", near_matches=suggestions, match="none", suggestions=suggestions
            )
        return Response(serializers.ResolutionSerializer(resolution, context=context).data)
