"""The dated price history in the public API: an offer's price periods, price changes across the catalogue, and the
shape of a model's offers as of a date (`/api/models/{id}/providers?at=`, served by ModelViewSet.providers)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cached_property

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from catalog import cache_tags, history
from catalog.api.serializers import MAX_NAME_LENGTH, MappingSerializer, RefSerializer
from catalog.filtersets_history import PriceChangeFilterSet
from catalog.models import Billing, Mapping, PriceRecord
from modelgraph.api.errors import ERROR_RESPONSES, NOT_FOUND, NotFound
from modelgraph.api.viewsets import ReadOnlyViewSet

PRICES_HELP = (
    "Price field (`price_input`, `price_output`, …, `price_tiers`) → value, only the fields that were set: decimals "
    "as strings, USD per million tokens unless the field says otherwise."
)


def _decimal(value) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def _moment(value) -> str | None:
    return None if value is None else value.isoformat()


class PricePeriodSerializer(serializers.Serializer):
    valid_from = serializers.DateTimeField(help_text="When these prices took effect (the source's own date).")
    valid_to = serializers.DateTimeField(allow_null=True, help_text="When they were replaced; null: still current.")
    source = serializers.CharField(help_text="The source that set these prices.")
    billing = serializers.ChoiceField(choices=Billing.choices)
    prices = serializers.DictField(help_text=PRICES_HELP)

    def to_representation(self, record: PriceRecord) -> dict:
        return {
            "valid_from": _moment(record.valid_from),
            "valid_to": _moment(record.valid_to),
            "source": record.source,
            "billing": record.billing,
            "prices": record.prices,
        }


class OfferAsOfSerializer(MappingSerializer):
    """An offer with its prices as they stood on a past day (`price_period` says which period that was)."""

    price_period = PricePeriodSerializer(read_only=True, help_text="The price period in force at the end of `at`.")

    class Meta(MappingSerializer.Meta):
        fields = [*MappingSerializer.Meta.fields, "price_period"]

    def to_representation(self, obj: Mapping) -> dict:
        record = obj.record_as_of[0]  # type: ignore[attr-defined]
        for field in Mapping.PRICE_FIELDS:  # the offer as it stood then: its prices are the period's
            setattr(obj, field, _decimal(record.prices.get(field)))
        tiers = record.prices.get("price_tiers")
        obj.price_tiers = tiers if isinstance(tiers, list) else []
        obj.billing = record.billing
        return {**super().to_representation(obj), "price_period": PricePeriodSerializer(record).data}


class OfferRefSerializer(serializers.Serializer):
    provider = RefSerializer()
    provider_model_id = serializers.CharField()
    model = RefSerializer()


def _offer_ref(mapping: Mapping) -> dict:
    return {
        "provider": {"slug": mapping.provider.slug, "name": mapping.provider.name},
        "provider_model_id": mapping.provider_model_id,
        "model": {"slug": mapping.model.slug, "name": mapping.model.name},
    }


class PriceFieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="`price_input`, …, `price_tiers` or `billing`.")
    old = serializers.JSONField(allow_null=True, help_text="The value before (a decimal string for prices).")
    new = serializers.JSONField(allow_null=True, help_text="The value from `valid_from` on; null: no longer set.")


class PriceChangeSerializer(serializers.Serializer):
    offer = OfferRefSerializer()
    valid_from = serializers.DateTimeField()
    source = serializers.CharField(help_text="The source that stated the new prices.")
    changes = PriceFieldChangeSerializer(many=True, help_text="Each field that changed, old → new.")

    def to_representation(self, record: PriceRecord) -> dict:
        return {
            "offer": _offer_ref(record.mapping),
            "valid_from": _moment(record.valid_from),
            "source": record.source,
            "changes": [
                {"field": change.field, "old": change.old, "new": change.new}
                for change in history.record_changes(record)
            ],
        }


class OfferHistorySerializer(serializers.Serializer):
    offer = OfferRefSerializer()
    periods = PricePeriodSerializer(many=True, help_text="Every price period, oldest first.")


OFFER_PARAMETERS = [
    OpenApiParameter("provider", OpenApiTypes.STR, OpenApiParameter.PATH, description="The provider's slug."),
    OpenApiParameter(
        "provider_model_id",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        description="The provider's own id of the model (may contain slashes: `openai/gpt-4o`).",
    ),
]


class OfferHistoryViewSet(ReadOnlyViewSet):
    # Price periods are written with the offer's prices, and every offer write bumps the catalogue tag.
    static_cache_tags = (cache_tags.CATALOGUE,)
    pagination_class = None
    serializer_class = OfferHistorySerializer

    @cached_property
    def offer(self) -> Mapping:
        provider, provider_model_id = self.kwargs["provider"], self.kwargs["provider_model_id"]
        mapping = history.offer_get(provider, provider_model_id)
        if mapping is None:
            raise NotFound(
                f"{provider[:MAX_NAME_LENGTH]!r} has no offer {provider_model_id[:MAX_NAME_LENGTH]!r}.",
            )
        return mapping

    @extend_schema(
        operation_id="offers_price_history",
        summary="One offer's dated price history",
        description="Every period of the offer's resolved prices, oldest first: from `valid_from` until `valid_to` "
        "(null: current), with the source that set them and the billing kind.",
        parameters=OFFER_PARAMETERS,
        responses={200: OfferHistorySerializer, **ERROR_RESPONSES, **NOT_FOUND},
    )
    def history(self, request, *args, **kwargs):
        periods = PricePeriodSerializer(history.offer_price_history(self.offer), many=True).data
        return Response({"offer": _offer_ref(self.offer), "periods": periods})


class PriceChangeViewSet(ReadOnlyViewSet):
    static_cache_tags = (cache_tags.CATALOGUE,)
    serializer_class = PriceChangeSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = PriceChangeFilterSet

    def get_queryset(self):
        return history.price_changes()

    @extend_schema(
        operation_id="price_changes_list",
        summary="Price changes across the catalogue, newest first",
        description="Each change of an offer's resolved prices: the offer, the date it took effect, the source and "
        "every field that changed (old → new); the first known prices of an offer are not a change. Paginated.",
        responses={200: PriceChangeSerializer(many=True), **ERROR_RESPONSES, **NOT_FOUND},
    )
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
