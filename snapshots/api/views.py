"""Snapshot API: batches with completeness, a batch's changes, events across batches, entity histories, diffs."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from catalog import cache_tags
from modelgraph.api.errors import ERROR_RESPONSES, NOT_FOUND, NotFound, ParameterError
from modelgraph.api.filtersets import query_parameters
from modelgraph.api.viewsets import ReadOnlyViewSet
from snapshots import selectors
from snapshots.api import serializers
from snapshots.filtersets import BatchRef, EventFilterSet, EventRangeFilterSet, InvalidMoment, batch_ref
from snapshots.models import Batch, EntityKind, Event

BATCH = OpenApiParameter("batch", OpenApiTypes.STR, OpenApiParameter.PATH, description="Batch id or ISO hour.")


class SnapshotViewSet(ReadOnlyViewSet):
    static_cache_tags = (cache_tags.SNAPSHOTS,)
    filter_backends = [DjangoFilterBackend]

    def _batch(self, ref: BatchRef):
        """The batch a reference names, or 404."""
        if ref.pk is not None:
            batch = selectors.batch_get(ref.pk)
        else:
            batch = selectors.batch_get(ref.hour.isoformat()) if ref.hour else None
        if batch is None:
            raise NotFound(f"No batch {ref.text[:60]!r} (an id or an ISO hour).")
        return batch

    def _path_batch(self):
        try:
            return self._batch(batch_ref(self.kwargs["batch"]))
        except InvalidMoment as exc:
            raise ParameterError("batch", str(exc)) from None

    def _page(self, queryset, serializer_class):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)


class BatchViewSet(SnapshotViewSet):
    def get_queryset(self):  # for the schema and the changes' FilterSet; answers come from selectors
        return Event.objects.none() if self.action == "changes" else Batch.objects.none()

    @property
    def filterset_class(self):
        return EventFilterSet if self.action == "changes" else None

    @extend_schema(
        summary="Crawl batches, newest first, with completeness",
        description="Each hourly crawl of OpenRouter's catalogue: when it ran, its status and how complete it is.",
        responses={200: serializers.BatchSerializer(many=True), **ERROR_RESPONSES},
    )
    def list(self, request, *args, **kwargs):
        return self._page(selectors.batch_list(), serializers.BatchSerializer)

    @extend_schema(
        summary="One batch with its validation report",
        description="One crawl by id or ISO hour, with what was fetched and what failed validation.",
        parameters=[BATCH],
        responses={200: serializers.BatchDetailSerializer, **ERROR_RESPONSES, **NOT_FOUND},
    )
    def retrieve(self, request, *args, **kwargs):
        return Response(serializers.BatchDetailSerializer(self._path_batch()).data)

    @extend_schema(
        summary="What changed in one batch (its events)",
        description="The change events one crawl recorded, filterable by kind, entity, provider and model; paginated.",
        parameters=[BATCH],
        filters=True,
        responses={200: serializers.EventSerializer(many=True), **ERROR_RESPONSES, **NOT_FOUND},
    )
    def changes(self, request, *args, **kwargs):
        batch = self._path_batch()
        events = self.filter_queryset(selectors.event_list().filter(batch=batch))
        return self._page(events, serializers.EventSerializer)


class EventViewSet(SnapshotViewSet):
    queryset = Event.objects.none()  # for the schema; answers come from selectors
    filterset_class = EventRangeFilterSet

    @extend_schema(
        summary="Events across batches, e.g. every price change of a provider this week",
        description="Change events of every crawl between `since` and `until`, filterable like a "
        "batch's changes; paginated.",
        responses={200: serializers.EventSerializer(many=True), **ERROR_RESPONSES},
    )
    def list(self, request, *args, **kwargs):
        return self._page(self.filter_queryset(selectors.event_list()), serializers.EventSerializer)


class EntityViewSet(SnapshotViewSet):
    pagination_class = None

    @extend_schema(
        summary="An entity's history: versions with validity, events, recent metrics",
        description="Every version of one archived model, endpoint or provider with the hours it was valid, "
        "its change events and recent metrics.",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=EntityKind.values),
            OpenApiParameter(
                "key",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="`openai/gpt-4o`, `openai/gpt-4o@openai`, `deepinfra`",
            ),
        ],
        responses={200: serializers.HistorySerializer, **ERROR_RESPONSES, **NOT_FOUND},
    )
    def history(self, request, *args, **kwargs):
        kind, key = kwargs["kind"], kwargs["key"]
        if kind not in EntityKind.values:
            raise NotFound(f"No entity kind {kind[:30]!r}: one of {', '.join(EntityKind.values)}.")
        entity = selectors.entity_get(kind, key)
        if entity is None:
            raise NotFound(f"No {kind} {key[:300]!r} in the archive.")
        return Response(serializers.HistorySerializer(selectors.entity_history(entity)).data)

    @extend_schema(
        summary="The diff of two batches: entities added, removed, changed field by field",
        description="Compares two crawls (ids or ISO hours): entities that appeared, disappeared, or changed, "
        "with each changed field's before and after.",
        parameters=[serializers.DiffQuerySerializer],
        responses={200: serializers.DiffSerializer, **ERROR_RESPONSES, **NOT_FOUND},
    )
    def diff(self, request, *args, **kwargs):
        batches = query_parameters(serializers.DiffQuerySerializer, request)
        before, after = self._batch(batches["from"]), self._batch(batches["to"])
        return Response(serializers.DiffSerializer(selectors.snapshot_diff(before, after)).data)
