"""Changelist filters the catalogue admin needs beyond plain fields: JSON-list membership and "served by"."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, OuterRef

from catalog.models import Mapping, Modality, ModelCapability, Provider
from catalog.querysets import json_list_contains


class JSONListFilter(admin.SimpleListFilter):
    """Filter on membership of one value in a JSON list field; subclasses name the field and its choices."""

    field_name: str
    options: list[tuple[str, str]]

    def lookups(self, request, model_admin):
        return self.options

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        return json_list_contains(queryset, self.field_name, value)


class InputModalityFilter(JSONListFilter):
    title = "input modality"
    parameter_name = "input_modality"
    field_name = "input_modalities"
    options = Modality.choices


class OutputModalityFilter(JSONListFilter):
    title = "output modality"
    parameter_name = "output_modality"
    field_name = "output_modalities"
    options = Modality.choices


class CapabilityFilter(JSONListFilter):
    title = "capability"
    parameter_name = "capability"
    field_name = "capabilities"
    options = ModelCapability.choices


class SearchableFilterMixin:
    """A list filter whose choices are many (178 providers): a search box above them (admin/catalog/searchable_filter
    .html) that submits the filter's own parameter and keeps the changelist's others."""

    template = "admin/catalog/searchable_filter.html"
    parameter_name: str

    def __init__(self, request, params, model, model_admin) -> None:
        super().__init__(request, params, model, model_admin)  # type: ignore[call-arg]
        skip = {self.parameter_name, "p"}
        self.other_params = [(key, v) for key in request.GET if key not in skip for v in request.GET.getlist(key)]


def provider_filter(field: str, title: str) -> type[admin.SimpleListFilter]:
    """A searchable filter on the provider in `field` (by slug), listing only providers that some row uses."""

    class ProviderFilter(SearchableFilterMixin, admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            used = model_admin.model.objects.filter(**{field: OuterRef("pk")})
            return Provider.objects.filter(Exists(used)).order_by("name").values_list("slug", "name")

        def queryset(self, request, queryset):
            value = self.value()
            return queryset.filter(**{f"{field}__slug": value}) if value else queryset

    ProviderFilter.title = title
    ProviderFilter.__name__ = ProviderFilter.__qualname__ = f"{field.title()}ProviderFilter"
    return ProviderFilter


class ServedByProviderFilter(SearchableFilterMixin, admin.SimpleListFilter):
    """Models offered by a provider (any mapping, whatever its status), or by no provider at all."""

    title = "served by provider"
    parameter_name = "served_by"
    NOBODY = "_none"

    def lookups(self, request, model_admin):
        serving = Provider.objects.filter(Exists(Mapping.objects.filter(provider=OuterRef("pk")))).order_by("name")
        return [*serving.values_list("slug", "name"), (self.NOBODY, "No provider")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == self.NOBODY:
            return queryset.served_by_nobody()
        return queryset.served_by(value)
