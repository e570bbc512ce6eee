"""Query parameters of the snapshot API: the event filters (one FilterSet) and batch references (an id or an ISO
hour, in a path or in `from`/`to`), each validated once; a bad value is a 400 naming its parameter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import django_filters
from django import forms
from django.utils.dateparse import parse_datetime
from django_filters.constants import EMPTY_VALUES

from modelgraph.api.filtersets import APIFilterSet, documented
from snapshots.models import EntityKind, Event, EventKind

MAX_ID = 2**63 - 1  # the largest primary key PostgreSQL's bigint holds
DATE_TIME_SCHEMA = {"type": "string", "format": "date-time"}


class InvalidMoment(ValueError):
    """Shaped like an ISO 8601 moment, but no real one (hour 25, an offset of a day)."""


def moment_parse(raw: str) -> dt.datetime | None:
    """An ISO 8601 moment in UTC (any offset under 24 h: PostgreSQL itself takes only ±15:59); None when `raw` is
    not shaped like one."""
    try:
        moment = parse_datetime(raw.replace(" ", "+"))  # a `+` in a query string arrives as a space
        if moment is None:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidMoment(f"Not a valid date-time in UTC ({exc}).") from None


@dataclass(frozen=True)
class BatchRef:
    """A batch as a client named it: by id, by a moment of its hour, or by something that names no batch."""

    text: str
    pk: int | None = None
    hour: dt.datetime | None = None


def batch_ref(raw: str) -> BatchRef:
    """An id past the database's range names no batch (404, not 400); a malformed moment raises InvalidMoment."""
    if raw.isascii() and raw.isdigit():
        return BatchRef(raw, pk=int(raw)) if int(raw) <= MAX_ID else BatchRef(raw)
    return BatchRef(raw, hour=moment_parse(raw))


class MomentField(forms.Field):
    def to_python(self, value):
        if value in EMPTY_VALUES:
            return None
        try:
            moment = moment_parse(str(value))
        except InvalidMoment as exc:
            raise forms.ValidationError(str(exc)) from None
        if moment is None:
            raise forms.ValidationError("An ISO 8601 date-time is required.")
        return moment


class MomentFilter(django_filters.Filter):
    field_class = MomentField


class EventFilterSet(APIFilterSet):
    """A batch's changes."""

    kind = django_filters.ChoiceFilter(choices=EventKind.choices, help_text="Event kind.")
    entity_kind = django_filters.ChoiceFilter(
        field_name="entity__kind", choices=EntityKind.choices, help_text="Entity kind."
    )
    provider = django_filters.CharFilter(
        field_name="entity__provider_key", help_text="Provider slug of the endpoints (e.g. `deepinfra`)."
    )
    model = django_filters.CharFilter(
        field_name="entity__model_key", help_text="OpenRouter model id (e.g. `openai/gpt-4o`)."
    )

    class Meta:
        model = Event
        fields: list[str] = []


class EventRangeFilterSet(EventFilterSet):
    """Events across batches: a batch's filters, and the moments between which the batches ran."""

    since = documented(
        DATE_TIME_SCHEMA,
        MomentFilter(
            field_name="batch__hour", lookup_expr="gte", help_text="Batches at or after this moment (ISO 8601)."
        ),
    )
    until = documented(
        DATE_TIME_SCHEMA,
        MomentFilter(
            field_name="batch__hour", lookup_expr="lte", help_text="Batches at or before this moment (ISO 8601)."
        ),
    )

    class Meta(EventFilterSet.Meta):
        pass
