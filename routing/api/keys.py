"""Gateway keys in the admin API: issue (the key is in the answer once), list and read (usage, never a secret),
change scopes and limits, revoke. A bearer key with the `gateway:keys` scope."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from catalog.models import Model as CatalogueModel
from ingestion.api.views import AdminAPIView
from modelgraph.api.errors import ErrorSerializer, ParameterErrorSerializer
from modelgraph.api.pagination import APIPagination
from modelgraph.models import ApiScope
from routing.access import gateway_key_change, gateway_key_issue, gateway_keys_revoke
from routing.key_usage import gateway_keys_with_usage
from routing.models import Capability, GatewayKey


class KeyUsageSerializer(serializers.Serializer):
    requests_today = serializers.IntegerField(help_text="Requests today (UTC), refused ones included.")
    refused_today = serializers.IntegerField(help_text="Refused today by the key's scopes or limits.")
    tokens_today = serializers.IntegerField(help_text="Prompt and completion tokens today (UTC).")
    spend_usd = serializers.DecimalField(
        max_digits=18, decimal_places=9, help_text="Total spend so far, of the answers whose cost is known."
    )
    unpriced = serializers.IntegerField(
        help_text="Answers so far that used tokens at an offer with no catalogue price: not in spend_usd, and not "
        "counted against the budget."
    )


class GatewayKeySerializer(serializers.ModelSerializer):
    allowed_capabilities = serializers.SlugRelatedField(
        slug_field="slug",
        many=True,
        required=False,
        queryset=Capability.objects.all(),
        help_text="Capability slugs it may name (and the models they route to); none here and no model: all.",
    )
    allowed_models = serializers.SlugRelatedField(
        slug_field="slug",
        many=True,
        required=False,
        queryset=CatalogueModel.objects.all(),
        help_text="Model slugs it may name, at any provider.",
    )
    usage = serializers.SerializerMethodField()

    class Meta:
        model = GatewayKey
        fields = (
            *("id", "name", "prefix", "created_at", "revoked_at", "allowed_capabilities", "allowed_models"),
            *("requests_per_minute", "tokens_per_day", "budget_usd", "usage"),
        )
        read_only_fields = ("id", "prefix", "created_at", "revoked_at")

    @extend_schema_field(KeyUsageSerializer)
    def get_usage(self, key) -> dict:
        return KeyUsageSerializer(
            {
                "requests_today": getattr(key, "requests_today", 0),
                "refused_today": getattr(key, "refused_today", 0),
                "tokens_today": getattr(key, "tokens_today", 0),
                "spend_usd": getattr(key, "spend_total", 0),
                "unpriced": getattr(key, "unpriced_total", 0),
            }
        ).data


class IssuedKeySerializer(GatewayKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The key itself: shown in this answer only, never again.")

    class Meta(GatewayKeySerializer.Meta):
        fields = (*GatewayKeySerializer.Meta.fields, "key")


ERRORS = {
    400: OpenApiResponse(ParameterErrorSerializer, description="Bad input; `errors` names the field. Nothing changed."),
    401: OpenApiResponse(ErrorSerializer, description="No or unknown bearer key."),
    403: OpenApiResponse(ErrorSerializer, description="The key is revoked or lacks the `gateway:keys` scope."),
}
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No gateway key has that id.")}


class GatewayKeyAPIView(AdminAPIView):
    required_scope = ApiScope.GATEWAY_KEYS

    def validated(self, instance=None) -> tuple[dict, dict]:
        """The body's plain fields and its scopes (`capabilities`, `models`: None when not given)."""
        serializer = GatewayKeySerializer(instance, data=self.request.data, partial=instance is not None)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        scopes = {"capabilities": data.pop("allowed_capabilities", None), "models": data.pop("allowed_models", None)}
        return data, scopes


@extend_schema(tags=["admin"])
class GatewayKeyListView(GatewayKeyAPIView, generics.ListAPIView):
    serializer_class = GatewayKeySerializer
    pagination_class = APIPagination

    def get_queryset(self):
        return gateway_keys_with_usage()

    @extend_schema(
        summary="Gateway keys, newest first",
        description="Every gateway key (revoked ones too) with its scopes, limits, today's usage and total spend; "
        "never the key itself. Scope `gateway:keys`.",
        responses={200: GatewayKeySerializer(many=True), **ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Issue a gateway key",
        description="A new bearer key for /v1/ with the capabilities and models it may use (none: all), requests per "
        "minute, tokens per UTC day and a budget in USD (empty: no limit). The key is in this answer only; "
        "only its hash is stored. Scope `gateway:keys`.",
        request=GatewayKeySerializer,
        responses={201: IssuedKeySerializer, **ERRORS},
    )
    def post(self, request):
        data, scopes = self.validated()
        key = GatewayKey(**data)
        raw = gateway_key_issue(key=key, user=request.auth.created_by, **scopes)
        issued = gateway_keys_with_usage().get(pk=key.pk)
        issued.key = raw
        return Response(IssuedKeySerializer(issued).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["admin"])
class GatewayKeyDetailView(GatewayKeyAPIView, generics.GenericAPIView):
    serializer_class = GatewayKeySerializer

    def key(self, pk: int) -> GatewayKey:
        return get_object_or_404(gateway_keys_with_usage(), pk=pk)

    @extend_schema(
        summary="One gateway key",
        description="Its scopes, limits, today's usage and total spend. Scope `gateway:keys`.",
        responses={200: GatewayKeySerializer, **ERRORS, **NOT_FOUND},
    )
    def get(self, request, pk: int):
        return Response(GatewayKeySerializer(self.key(pk)).data)

    @extend_schema(
        summary="Change a gateway key's scopes or limits",
        description="Only the fields given change; `null` removes a limit, an empty list lifts a scope. Every "
        "gateway process applies it within ROUTING_GATEWAY_KEYS_TTL seconds. Scope `gateway:keys`.",
        request=GatewayKeySerializer,
        responses={200: GatewayKeySerializer, **ERRORS, **NOT_FOUND},
    )
    def patch(self, request, pk: int):
        key = self.key(pk)
        data, scopes = self.validated(key)
        gateway_key_change(key=key, changes=data, **scopes)
        return Response(GatewayKeySerializer(self.key(pk)).data)

    @extend_schema(
        summary="Revoke a gateway key",
        description="The key stops working (within ROUTING_GATEWAY_KEYS_TTL seconds in every gateway process); it is "
        "kept, with its usage, for the audit trail. Revoking it again changes nothing. Scope `gateway:keys`.",
        request=None,
        responses={200: GatewayKeySerializer, **ERRORS, **NOT_FOUND},
    )
    def delete(self, request, pk: int):
        key = self.key(pk)
        gateway_keys_revoke(keys=GatewayKey.objects.filter(pk=key.pk))
        return Response(GatewayKeySerializer(self.key(pk)).data)
