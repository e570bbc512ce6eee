"""Query parameters of the API, each validated once (a bad or empty value is a 400 naming it): the base of every
FilterSet, and `query_parameters` for parameters that filter no queryset (validated by a DRF serializer)."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

EMPTY_NOT_ALLOWED = "Must not be empty: give a value or leave the parameter out."


def documented(schema: dict, filter_: django_filters.Filter) -> django_filters.Filter:
    """Give a filter an explicit OpenAPI schema (bounds, real type) that keeps its help text."""
    return extend_schema_field({**schema, "description": filter_.extra.get("help_text", "")})(filter_)


class APIFilterSet(django_filters.FilterSet):
    """django-filter's FilterSet that also refuses `?status=`: an empty choice, date or number is not a value (400
    naming it, through DjangoFilterBackend and the API's exception handler). Free text and orderings may be empty."""

    # A browser form submits its unused fields empty and sets this True (web/filtersets.py).
    empty_values_allowed = False

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if self.empty_values_allowed or not self.is_bound:
            return valid
        for name, filter_ in self.filters.items():
            if type(filter_) is django_filters.CharFilter or isinstance(filter_, django_filters.OrderingFilter):
                continue  # free text, or a list (`ordering=`: none): empty is a value
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data.get(name)]
            if any(value == "" for value in values):
                self.form.add_error(name if name in self.form.fields else None, EMPTY_NOT_ALLOWED)
        return valid and not self.form.errors


def query_parameters(serializer_class: type[serializers.Serializer], request) -> dict:
    """The query parameters `serializer_class` declares, validated (defaults filled in); a bad one is a 400 naming
    it. List the serializer in the view's `@extend_schema(parameters=[...])` so the OpenAPI document shows them."""
    # A plain dict, not the QueryDict: DRF reads a QueryDict as an HTML form, where an empty optional field means
    # "not given" (its default); here `?window=` is a bad value like any other.
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
