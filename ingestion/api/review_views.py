"""The curators' work queue over the admin API: GET /api/v1/admin/review (scope `review:read`)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics

from catalog.models import Model
from ingestion.api.curation_serializers import ReviewItemSerializer, ReviewQuerySerializer
from ingestion.api.views import AdminAPIView
from ingestion.curation_api.review import review_queue
from modelgraph.api.errors import ErrorSerializer, ParameterErrorSerializer
from modelgraph.api.pagination import APIPagination
from modelgraph.models import ApiScope


@extend_schema(
    tags=["admin"],
    summary="The curators' work queue",
    description="Everything that needs a curator: models and offers flagged for review, disputed prices, lifecycle "
    "contradictions and other data-quality findings, offers whose prices no source confirmed for 30 days, and "
    "price-feed rows no offer matched. Each item has its subject (with its admin page), a one-line description and "
    "the `action` that resolves it (an admin-API call with the body to complete, or an admin page). Paginated; "
    "filter by `kind`. Scope `review:read`.",
    parameters=[ReviewQuerySerializer],
    responses={
        200: ReviewItemSerializer(many=True),
        400: OpenApiResponse(ParameterErrorSerializer, description="A parameter is invalid; `errors` names it."),
        401: OpenApiResponse(ErrorSerializer, description="No or unknown bearer key."),
        403: OpenApiResponse(ErrorSerializer, description="The key is revoked or lacks the `review:read` scope."),
    },
)
class ReviewQueueView(AdminAPIView, generics.GenericAPIView):
    required_scope = ApiScope.REVIEW_READ
    queryset = Model.objects.none()  # for the schema generator only: the queue is a list built by the service
    pagination_class = APIPagination
    serializer_class = ReviewItemSerializer

    def get(self, request):
        # A plain dict, not the QueryDict: DRF reads an empty `kind=` from a form as "not given"; here it is a 400.
        query = ReviewQuerySerializer(
            data={name: request.query_params[name] for name in ("kind",) if name in request.query_params}
        )
        query.is_valid(raise_exception=True)
        items = review_queue(kind=query.validated_data.get("kind"))
        page = self.paginate_queryset(items)
        return self.get_paginated_response([item.as_dict() for item in page])
