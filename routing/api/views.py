"""Routing admin API: request log, its statistics, route states. An admin bearer key or a staff session."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from modelgraph.api.bearer import BearerKeyAuthentication, MethodCheckedFirst
from modelgraph.api.errors import ErrorSerializer, ParameterErrorSerializer, api_exception_handler
from modelgraph.api.filtersets import query_parameters
from modelgraph.api.pagination import APIPagination
from modelgraph.models import ApiKey
from routing import selectors
from routing.api.serializers import RequestLogSerializer, RouteStateSerializer, StatsQuerySerializer
from routing.filtersets import RequestLogFilterSet


class AdminKeyOrStaff(BasePermission):
    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            return request.auth.revoked_at is None
        return bool(request.user and request.user.is_staff)


class RoutingAdminView(MethodCheckedFirst):
    authentication_classes = [BearerKeyAuthentication, SessionAuthentication]
    permission_classes = [AdminKeyOrStaff]
    throttle_classes: list = []

    def get_exception_handler(self):
        return api_exception_handler


BAD_PARAMETER = {
    400: OpenApiResponse(ParameterErrorSerializer, description="A parameter is invalid (`errors`)."),
    404: OpenApiResponse(ErrorSerializer, description="A page beyond the last one."),
}


@extend_schema(
    tags=["routing"],
    parameters=[StatsQuerySerializer],
    summary="Gateway traffic over a window",
    description="Requests, outcomes, attempts, latency and time-to-first-token percentiles, tokens and cost, per pool "
    "and per offer, over the window.",
    responses={200: OpenApiTypes.OBJECT, **BAD_PARAMETER},
)
class StatsView(RoutingAdminView, APIView):
    def get(self, request):
        return Response(selectors.request_log_stats(**query_parameters(StatsQuerySerializer, request)))


@extend_schema(
    tags=["routing"],
    summary="The gateway's request log, newest first",
    description="One row per request: what was asked, where it went, its outcome, attempts, latency, tokens and cost; "
    "paginated.",
    responses={200: RequestLogSerializer(many=True), **BAD_PARAMETER},
)
class RequestLogListView(RoutingAdminView, generics.ListAPIView):
    serializer_class = RequestLogSerializer
    pagination_class = APIPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = RequestLogFilterSet

    def get_queryset(self):
        return selectors.request_log_list()


@extend_schema(
    tags=["routing"],
    summary="Route states: which offers are in rotation",
    description="Each model and offer the gateway routes to, active, on standby or deactivated, and why; paginated.",
    responses={200: RouteStateSerializer(many=True), **BAD_PARAMETER},
)
class RouteStateListView(RoutingAdminView, generics.ListAPIView):
    serializer_class = RouteStateSerializer
    pagination_class = APIPagination

    def get_queryset(self):
        return selectors.route_state_list()
