"""Query parameters of the price history: the price-change filters (one FilterSet) and the `at` date of a model's
offers; a bad value is a 400 naming its parameter."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import QuerySet
from rest_framework import serializers

from catalog.history import day_end
from modelgraph.api.filtersets import APIFilterSet, documented

DATE_SCHEMA = {"type": "string", "format": "date"}
# PostgreSQL timestamps end in year 294276, Python dates in 9999: refuse the last day, whose end is 10000-01-01.
LAST_DAY = dt.date(9998, 12, 31)


class DayFilter(django_filters.DateFilter):
    """A calendar date (`2026-05-01`), UTC."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(*args, **kwargs)


class PriceChangeFilterSet(APIFilterSet):
    since = documented(
        DATE_SCHEMA, DayFilter(method="filter_since", help_text="Changes dated on or after this day (UTC).")
    )
    until = documented(
        DATE_SCHEMA, DayFilter(method="filter_until", help_text="Changes dated on or before this day (UTC).")
    )
    provider = django_filters.CharFilter(field_name="mapping__provider__slug", help_text="Slug of the provider.")
    model = django_filters.CharFilter(field_name="mapping__model__slug", help_text="Slug of the canonical model.")

    def filter_since(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(valid_from__gte=dt.datetime.combine(value, dt.time.min, tzinfo=dt.UTC))

    def filter_until(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(valid_from__lt=day_end(min(value, LAST_DAY)))


class AsOfQuerySerializer(serializers.Serializer):
    at = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="A day (`2026-05-01`, UTC): each offer's prices as they stood at the end of that day, from the "
        "price history. Offers with no recorded price then are left out.",
    )

    def validate_at(self, value: dt.date) -> dt.date:
        if value > LAST_DAY:
            raise serializers.ValidationError(f"Must be at most {LAST_DAY.isoformat()}.")
        return value


class BillingQuerySerializer(serializers.Serializer):
    billing = serializers.ChoiceField(
        choices=[("pay_per_use", "pay_per_use"), ("all", "all")],
        default="pay_per_use",
        help_text="`pay_per_use` (default): free tiers and subscription plans ($0 is not a price per use) are listed "
        "but never marked cheapest nor ranked on price; `all`: they compete on their stated price too.",
    )
