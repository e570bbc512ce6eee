"""Admin for the canonical side of the catalogue: families, models (with their aliases and offers) and aliases."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count

from catalog.admin.curated import CuratedAdmin
from catalog.admin.filters import CapabilityFilter, InputModalityFilter, OutputModalityFilter, ServedByProviderFilter
from catalog.curation import model_set_needs_review
from catalog.forms import ModelAdminForm
from catalog.models import Alias, Family, Mapping, Model


@admin.register(Family)
class FamilyAdmin(CuratedAdmin):
    list_display = ("name", "slug", "creator", "model_count", "in_registry")
    list_filter = ("in_registry", ("creator", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("creator",)
    search_fields = ("name", "slug")
    autocomplete_fields = ("creator",)
    fields = ("name", "slug", "creator")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(model_count=Count("models"))

    @admin.display(description="Models", ordering="model_count")
    def model_count(self, obj) -> int:
        return obj.model_count


class AliasInline(admin.TabularInline):
    model = Alias
    fields = ("alias", "provider", "status", "retirement_date", "registry_file")
    readonly_fields = ("registry_file",)
    autocomplete_fields = ("provider",)
    extra = 0
    show_change_link = True


class MappingInline(admin.TabularInline):
    model = Mapping
    fields = (
        "provider",
        "provider_model_id",
        *Mapping.PRICE_FIELDS,
        "context_window",
        "max_output",
        "status",
        "retirement_date",
        "served_by",
        "variant",
        "registry_file",
    )
    readonly_fields = ("registry_file",)
    autocomplete_fields = ("provider",)
    extra = 0
    show_change_link = True
    verbose_name = "offer"
    verbose_name_plural = "offers (prices per million tokens)"


@admin.register(Model)
class ModelAdmin(CuratedAdmin):
    form = ModelAdminForm
    list_display = (
        "name",
        "slug",
        "creator",
        "family",
        "status",
        "open_weights",
        "context_window",
        "provider_count",
        "needs_review",
        "in_registry",
    )
    list_filter = (
        "status",
        "in_registry",
        "needs_review",
        "open_weights",
        ("family", admin.RelatedOnlyFieldListFilter),
        ("creator", admin.RelatedOnlyFieldListFilter),
        ServedByProviderFilter,
        InputModalityFilter,
        OutputModalityFilter,
        CapabilityFilter,
    )
    list_select_related = ("creator", "family")
    search_fields = ("name", "slug", "aliases__alias")
    autocomplete_fields = ("creator", "family", "successor")
    inlines = (AliasInline, MappingInline)
    actions = ("mark_needs_review", "clear_needs_review")
    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "creator", "family", "status", "needs_review")}),
        ("Lifecycle", {"fields": ("release_date", "deprecation_date", "sunset_date", "successor")}),
        (
            "Limits and capabilities",
            {"fields": ("context_window", "max_output", "input_modalities", "output_modalities", "capabilities")},
        ),
        (
            "Weights and licence",
            {
                "fields": (
                    "open_weights",
                    "parameters_total",
                    "parameters_active",
                    "license",
                    "knowledge_cutoff",
                    "canonical_url",
                )
            },
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(provider_count=Count("mappings__provider", distinct=True))

    @admin.display(description="Providers", ordering="provider_count")
    def provider_count(self, obj) -> int:
        return obj.provider_count

    @admin.action(description="Mark as needs review", permissions=["change"])
    def mark_needs_review(self, request, queryset):
        changed = model_set_needs_review(models=queryset, value=True, user=request.user)
        self.message_user(request, f"{changed} model(s) marked as needing review.", messages.SUCCESS)

    @admin.action(description="Clear needs review", permissions=["change"])
    def clear_needs_review(self, request, queryset):
        changed = model_set_needs_review(models=queryset, value=False, user=request.user)
        self.message_user(request, f"Needs review cleared on {changed} model(s).", messages.SUCCESS)


@admin.register(Alias)
class AliasAdmin(CuratedAdmin):
    list_display = ("alias", "model", "provider", "status", "retirement_date", "in_registry")
    list_filter = ("status", "in_registry", ("provider", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("model", "provider")
    search_fields = ("alias", "model__name", "model__slug")
    autocomplete_fields = ("model", "provider")
    fields = ("alias", "model", "provider", "status", "retirement_date")
