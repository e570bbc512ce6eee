"""The curation API: aliases, pins, lifecycle and merges through a bearer key with the `curation:write` scope.

Thin views over ingestion.curation_api: each checks its body (400 naming the field, nothing written), calls one
service as the key's owner, and answers the new state. Every write needs a `reason`, kept in the history."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Mapping, Model
from ingestion.api import curation_serializers as s
from ingestion.api.views import AdminAPIView
from ingestion.curation_api.aliases import curation_alias_add, curation_alias_remove
from ingestion.curation_api.common import CurationError
from ingestion.curation_api.lifecycle import curation_model_lifecycle, curation_offer_lifecycle
from ingestion.curation_api.merge import curation_models_merge
from ingestion.curation_api.pins import (
    OFFER_PIN_FIELDS,
    curation_model_pin,
    curation_model_release,
    curation_offer_pin,
    curation_offer_release,
)
from ingestion.resolution import RESOLVED_FIELDS
from modelgraph.api.errors import ErrorSerializer, ParameterErrorSerializer
from modelgraph.models import ApiScope

WRITE_ERRORS = {
    400: OpenApiResponse(ParameterErrorSerializer, description="Bad input; `errors` names the field. Nothing changed."),
    401: OpenApiResponse(ErrorSerializer, description="No or unknown bearer key."),
    403: OpenApiResponse(ErrorSerializer, description="The key is revoked or lacks the `curation:write` scope."),
    404: OpenApiResponse(ErrorSerializer, description="No such model, offer or alias."),
}
MODEL_PIN_FIELDS_TEXT = ", ".join(f"`{name}`" for name in RESOLVED_FIELDS)
OFFER_PIN_FIELDS_TEXT = ", ".join(f"`{name}`" for name in OFFER_PIN_FIELDS)


class CurationView(AdminAPIView, APIView):
    required_scope = ApiScope.CURATION_WRITE

    def actor(self):
        return self.request.auth.created_by

    def body(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def run(self, service, **kwargs):
        try:
            return service(user=self.actor(), **kwargs)
        except CurationError as exc:
            raise exceptions.ValidationError({exc.field: [exc.message]}) from None


def _reason(view: CurationView) -> str:
    """A DELETE's reason: in the JSON body or the `reason` query parameter."""
    data = view.request.data if hasattr(view.request.data, "get") else {}
    raw = data.get("reason") or view.request.query_params.get("reason", "")
    serializer = s.ReasonSerializer(data={"reason": raw})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["reason"]


def _model(slug: str) -> Model:
    return get_object_or_404(Model, slug=slug)


def _offer(pk: int) -> Mapping:
    return get_object_or_404(Mapping.objects.select_related("provider", "model"), pk=pk)


@extend_schema(
    tags=["admin"],
    summary="Add an alias",
    description="A new name for a model, optionally scoped to one provider. It is pinned: registry loads keep it "
    "until it is removed (`export_registry --pinned` writes it into the registry). Scope `curation:write`.",
    request=s.AliasAddSerializer,
    responses={201: s.CuratedAliasSerializer, **WRITE_ERRORS},
)
class AliasListView(CurationView):
    def post(self, request):
        data = self.body(s.AliasAddSerializer)
        alias = self.run(
            curation_alias_add,
            alias=data["alias"],
            model=data["model"],
            provider=data.get("provider"),
            reason=data["reason"],
        )
        return Response(s.CuratedAliasSerializer(alias).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["admin"],
    summary="Remove an alias",
    description="Deletes the alias (the reason in the body or the `reason` query parameter). An alias the registry "
    "files list comes back at the next load until it is removed there too. Scope `curation:write`.",
    request=s.ReasonSerializer,
    responses={204: None, **WRITE_ERRORS},
)
class AliasDetailView(CurationView):
    def delete(self, request, alias: str):
        reason = _reason(self)
        self.run(curation_alias_remove, alias=alias, reason=reason)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _pin_answer(pin, shown) -> dict:
    return {"field": pin.field, "pinned": True, "value": shown, "reason": pin.reason}


@extend_schema(
    tags=["admin"],
    summary="Pin a field of a model",
    description="Sets a curator's value for one field; it wins over the registry and every source until released. "
    f"Pinnable: {MODEL_PIN_FIELDS_TEXT}. Scope `curation:write`.",
    request=s.PinSetSerializer,
    responses={200: s.PinAnswerSerializer, **WRITE_ERRORS},
)
class ModelPinView(CurationView):
    def post(self, request, slug: str):
        model = _model(slug)
        data = self.body(s.PinSetSerializer)
        pin = self.run(curation_model_pin, model=model, field=data["field"], value=data["value"], reason=data["reason"])
        return Response(_pin_answer(pin, pin.value))


@extend_schema(
    tags=["admin"],
    summary="Release a model's pin",
    description="The field goes back to the registry or the automated sources at once. Scope `curation:write`.",
    request=s.ReasonSerializer,
    responses={204: None, **WRITE_ERRORS},
)
class ModelPinReleaseView(CurationView):
    def delete(self, request, slug: str, field: str):
        model = _model(slug)
        self.run(curation_model_release, model=model, field=field, reason=_reason(self))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["admin"],
    summary="Pin a field of an offer",
    description="Sets a curator's value for one field of an offer (by id): prices (USD per million tokens), tiers and "
    "billing are resolved with the price sources and the pin wins; limits, lifecycle and other facts are written "
    f"and every registry load keeps them. Pinnable: {OFFER_PIN_FIELDS_TEXT}. Scope `curation:write`.",
    request=s.PinSetSerializer,
    responses={200: s.PinAnswerSerializer, **WRITE_ERRORS},
)
class OfferPinView(CurationView):
    def post(self, request, pk: int):
        offer = _offer(pk)
        data = self.body(s.PinSetSerializer)
        pin = self.run(curation_offer_pin, offer=offer, field=data["field"], value=data["value"], reason=data["reason"])
        return Response(_pin_answer(pin, pin.value))


@extend_schema(
    tags=["admin"],
    summary="Release an offer's pin",
    description="A price goes back to the registry or the price sources at once; another fact keeps its value until "
    "the next registry load or source run states it. Scope `curation:write`.",
    request=s.ReasonSerializer,
    responses={204: None, **WRITE_ERRORS},
)
class OfferPinReleaseView(CurationView):
    def delete(self, request, pk: int, field: str):
        offer = _offer(pk)
        self.run(curation_offer_release, offer=offer, field=field, reason=_reason(self))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _given(data: dict, names) -> dict:
    return {
        name: (value.isoformat() if hasattr(value, "isoformat") else value)
        for name, value in data.items()
        if name in names
    }


@extend_schema(
    tags=["admin"],
    summary="Deprecate or retire a model",
    description="Sets the model's status and, when given, its deprecation and sunset days and successor (null "
    "clears one), all as pins in one transaction. Scope `curation:write`.",
    request=s.ModelLifecycleSerializer,
    responses={200: s.LifecycleAnswerSerializer, **WRITE_ERRORS},
)
class ModelLifecycleView(CurationView):
    def post(self, request, slug: str):
        model = _model(slug)
        data = self.body(s.ModelLifecycleSerializer)
        changes = _given(data, ("status", "deprecation_date", "sunset_date", "successor"))
        model = self.run(curation_model_lifecycle, model=model, changes=changes, reason=data["reason"])
        return Response(
            {
                "status": model.status,
                "deprecation_date": model.deprecation_date,
                "sunset_date": model.sunset_date,
                "successor": model.successor.slug if model.successor_id else None,
            }
        )


@extend_schema(
    tags=["admin"],
    summary="Deprecate or retire an offer",
    description="Sets the offer's status and, when given, its retirement day (null clears it), as pins. "
    "Scope `curation:write`.",
    request=s.OfferLifecycleSerializer,
    responses={200: s.LifecycleAnswerSerializer, **WRITE_ERRORS},
)
class OfferLifecycleView(CurationView):
    def post(self, request, pk: int):
        offer = _offer(pk)
        data = self.body(s.OfferLifecycleSerializer)
        changes = _given(data, ("status", "retirement_date"))
        offer = self.run(curation_offer_lifecycle, offer=offer, changes=changes, reason=data["reason"])
        return Response({"status": offer.status, "retirement_date": offer.retirement_date})


@extend_schema(
    tags=["admin"],
    summary="Merge a model into another",
    description="The model's aliases and offers move to the target, models naming it as successor name the target, "
    "its slug becomes an alias of the target, and it is deleted — in one transaction. Scope `curation:write`.",
    request=s.MergeSerializer,
    responses={200: s.MergeAnswerSerializer, **WRITE_ERRORS},
)
class ModelMergeView(CurationView):
    def post(self, request, slug: str):
        source = _model(slug)
        data = self.body(s.MergeSerializer)
        target = Model.objects.filter(slug=data["target"]).first()
        if target is None:
            raise exceptions.ValidationError({"target": [f"no model has the slug {data['target']!r}"]})
        moved = self.run(curation_models_merge, source=source, target=target, reason=data["reason"])
        return Response({"merged": slug, "target": target.slug, **moved})
