"""Admin API: the ingestion runs list and queuing a run; a bearer key with the endpoint's scope required."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ingestion.api.permissions import ADMIN_PERMISSIONS
from ingestion.api.serializers import IngestionRunSerializer, IngestQueuedSerializer
from ingestion.curation_api.sources import SEED_SOURCE_NAMES, source_name
from ingestion.filtersets import IngestionRunFilterSet
from ingestion.models import RunStatus
from ingestion.selectors import ingestion_run_list
from ingestion.services import UnknownSource, ingestion_queue_run, source_adapter
from modelgraph.api.bearer import BearerKeyAuthentication, MethodCheckedFirst
from modelgraph.api.errors import ErrorSerializer, NotFound, ParameterErrorSerializer, api_exception_handler
from modelgraph.models import ApiScope


class AdminAPIView(MethodCheckedFirst):
    """Bearer key required (401 without, 403 revoked or lacking the view's scope; 429 after too many bad keys); a
    wrong method is 405 before authentication. Subclasses name `required_scope` (or `required_scopes` by method)."""

    authentication_classes = [BearerKeyAuthentication]
    permission_classes = ADMIN_PERMISSIONS
    throttle_classes: list = []
    required_scope: str | None = None

    def get_exception_handler(self):
        return api_exception_handler


@extend_schema(
    tags=["admin"],
    summary="Ingestion runs, newest first",
    description="Every run of every source: when, its status, how many models and aliases it added or updated, "
    "and its error message. Filter by `source` and `status`. Scope `ingestion:read`.",
    responses={
        200: IngestionRunSerializer(many=True),
        400: OpenApiResponse(ParameterErrorSerializer, description="A parameter is invalid; `errors` names it."),
    },
)
class IngestionRunListView(AdminAPIView, generics.ListAPIView):
    required_scope = ApiScope.INGESTION_READ
    serializer_class = IngestionRunSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = IngestionRunFilterSet

    def get_queryset(self):
        return ingestion_run_list()


@extend_schema(
    tags=["admin"],
    summary="Queue an ingestion run of one source",
    description="Starts a run of the source in the background and answers at once with its id (and our name of the "
    "source: `openai-api` runs `openai`); 409 when a run of that source is still going (or the source cannot run "
    "now: `detail` says why). Scope `ingestion:run`.",
    parameters=[
        OpenApiParameter(
            "source",
            OpenApiTypes.STR,
            OpenApiParameter.PATH,
            pattern=r"^[a-z0-9_.-]+$",
            description="A source name: `openai`, `anthropic`, `google`, `mistral`, `cohere`, `xai`, "
            "`deprecations`, `huggingface`, `openrouter`, a price feed; or the seed documents' form of it: "
            + ", ".join(f"`{seed}`" for seed in SEED_SOURCE_NAMES)
            + ".",
        ),
    ],
    request=None,
    responses={
        202: IngestQueuedSerializer,
        404: OpenApiResponse(ErrorSerializer, description="No source has that name."),
        409: IngestQueuedSerializer,
    },
)
class IngestView(AdminAPIView, APIView):
    required_scope = ApiScope.INGESTION_RUN

    def post(self, request, source: str):
        source = source_name(source)
        try:
            source_adapter(source)
        except UnknownSource as exc:
            raise NotFound(str(exc)) from None
        run = ingestion_queue_run(source=source)
        if run.status != RunStatus.RUNNING:
            body = {"run_id": run.pk, "source": source, "status": run.status, "detail": run.error_message}
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response({"run_id": run.pk, "source": source, "status": "queued"}, status=status.HTTP_202_ACCEPTED)
