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


class ServedByProviderFilter(admin.SimpleListFilter):
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
