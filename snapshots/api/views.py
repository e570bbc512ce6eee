"""Snapshot API: batches with completeness, a batch's changes, events across batches, entity histories, diffs."""

from __future__ import annotations

import datetime as dt

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from modelgraph.api.base import ERROR_RESPONSES, NOT_FOUND, ReadOnlyViewSet
from modelgraph.api.errors import NotFound, ParameterError
from snapshots import selectors
from snapshots.api import serializers
from snapshots.models import Batch, EntityKind, Event, EventKind
from snapshots.services import CACHE_TAG


def _query(name: str, description: str, enum=None, kind=OpenApiTypes.STR) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=description, enum=enum)


MAX_ID = 2**63 - 1  # the largest primary key PostgreSQL's bigint holds
BATCH = OpenApiParameter("batch", OpenApiTypes.STR, OpenApiParameter.PATH, description="Batch id or ISO hour.")
EVENT_FILTERS = [
    _query("kind", "Event kind.", EventKind.values),
    _query("entity_kind", "Entity kind.", EntityKind.values),
    _query("provider", "Provider slug of the endpoints (e.g. `deepinfra`)."),
    _query("model", "OpenRouter model id (e.g. `openai/gpt-4o`)."),
    _query("since", "Batches at or after this moment (ISO 8601).", kind=OpenApiTypes.DATETIME),
    _query("until", "Batches at or before this moment (ISO 8601).", kind=OpenApiTypes.DATETIME),
]


def _parse_moment(name: str, raw: str) -> dt.datetime | None:
    """An ISO 8601 moment in UTC (any offset under 24 h: PostgreSQL itself takes only ±15:59); None when `raw` is
    not shaped like one; 400 naming `name` when it is shaped like one but is no real moment."""
    try:
        moment = parse_datetime(raw.replace(" ", "+"))
        if moment is None:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    except (ValueError, OverflowError) as exc:
        raise ParameterError(name, f"Not a valid date-time in UTC ({exc}).") from None


class SnapshotViewSet(ReadOnlyViewSet):
    def cache_tags(self) -> list[str]:
        return [CACHE_TAG]

    def _batch(self, identifier: str, parameter: str = "batch"):
        """A batch by id or ISO hour; an id past the database's range is no batch, a malformed moment a 400."""
        if identifier.isascii() and identifier.isdigit():
            batch = selectors.batch_get(int(identifier)) if int(identifier) <= MAX_ID else None
        else:
            moment = _parse_moment(parameter, identifier)
            batch = selectors.batch_get(moment.isoformat()) if moment else None
        if batch is None:
            raise NotFound(f"No batch {identifier[:60]!r} (an id or an ISO hour).")
        return batch

    def _choice(self, name: str, choices) -> str | None:
        value = self.request.query_params.get(name)  # given but empty is a 400 too
        if value is not None and value not in choices:
            raise ParameterError(name, f"One of {', '.join(choices)}.")
        return value

    def _moment(self, name: str):
        raw = self.request.query_params.get(name)
        if raw is None:  # given but empty is a 400 (not a date-time)
            return None
        moment = _parse_moment(name, raw)
        if moment is None:
            raise ParameterError(name, "An ISO 8601 date-time is required.")
        return moment

    def _page(self, queryset, serializer_class):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)


class BatchViewSet(SnapshotViewSet):
    queryset = Batch.objects.none()  # for the schema; answers come from selectors

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
        return Response(serializers.BatchDetailSerializer(self._batch(kwargs["batch"])).data)

    @extend_schema(
        summary="What changed in one batch (its events)",
        description="The change events one crawl recorded, filterable by kind, entity, provider and model; paginated.",
        parameters=[BATCH, *EVENT_FILTERS[:4]],
        responses={200: serializers.EventSerializer(many=True), **ERROR_RESPONSES, **NOT_FOUND},
    )
    def changes(self, request, *args, **kwargs):
        batch = self._batch(kwargs["batch"])
        events = selectors.event_list(
            kind=self._choice("kind", EventKind.values),
            entity_kind=self._choice("entity_kind", EntityKind.values),
            provider=request.query_params.get("provider"),
            model=request.query_params.get("model"),
        ).filter(batch=batch)
        return self._page(events, serializers.EventSerializer)


class EventViewSet(SnapshotViewSet):
    queryset = Event.objects.none()  # for the schema; answers come from selectors

    @extend_schema(
        summary="Events across batches, e.g. every price change of a provider this week",
        description="Change events of every crawl between `since` and `until`, filterable like a "
        "batch's changes; paginated.",
        parameters=EVENT_FILTERS,
        responses={200: serializers.EventSerializer(many=True), **ERROR_RESPONSES},
    )
    def list(self, request, *args, **kwargs):
        events = selectors.event_list(
            kind=self._choice("kind", EventKind.values),
            entity_kind=self._choice("entity_kind", EntityKind.values),
            provider=request.query_params.get("provider"),
            model=request.query_params.get("model"),
            since=self._moment("since"),
            until=self._moment("until"),
        )
        return self._page(events, serializers.EventSerializer)


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
        parameters=[
            OpenApiParameter(
                name,
                {"type": "string", "minLength": 1},
                OpenApiParameter.QUERY,
                required=True,
                description="Batch id or ISO hour.",
            )
            for name in ("from", "to")
        ],
        responses={200: serializers.DiffSerializer, **ERROR_RESPONSES, **NOT_FOUND},
    )
    def diff(self, request, *args, **kwargs):
        for name in ("from", "to"):
            if not request.query_params.get(name):
                raise ParameterError(name, "A batch id or ISO hour is required.")
        before = self._batch(request.query_params["from"], "from")
        after = self._batch(request.query_params["to"], "to")
        return Response(serializers.DiffSerializer(selectors.snapshot_diff(before, after)).data)
