"""Admin for the canonical side of the catalogue: families, models (with their aliases and offers) and aliases."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import Count
from django.forms.models import BaseInlineFormSet

from catalog.admin.curated import CuratedAdmin
from catalog.admin.filters import (
    CapabilityFilter,
    InputModalityFilter,
    OutputModalityFilter,
    ServedByProviderFilter,
    provider_filter,
)
from catalog.admin.model_history import model_related_history
from catalog.admin.offers import PriceUnitsMixin
from catalog.curation import model_set_needs_review
from catalog.forms import ModelAdminForm
from catalog.models import Alias, Family, Mapping, Model
from modelgraph.admin_relations import SafeRelationsAdmin


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


class AliasInline(SafeRelationsAdmin, admin.TabularInline):
    model = Alias
    fields = ("alias", "provider", "status", "retirement_date", "registry_file")
    readonly_fields = ("registry_file",)
    autocomplete_fields = ("provider",)
    extra = 0
    show_change_link = True


class LimitedOffersFormSet(BaseInlineFormSet):
    """The first `limit` offers of the model (by provider); `total` is how many it has, for the "show all" link.
    With 40-50 offers a full inline made the change form ~1 s and 300-500 KB."""

    limit = 10

    def get_queryset(self):
        if not hasattr(self, "_limited"):
            full = super().get_queryset()
            self.total = full.count()
            self._limited = full.order_by("provider__name", "provider_model_id", "pk")[: self.limit]
        return self._limited


class MappingInline(SafeRelationsAdmin, PriceUnitsMixin, admin.TabularInline):
    model = Mapping
    formset = LimitedOffersFormSet
    template = "admin/catalog/model/offers_inline.html"
    fields = (
        "provider",
        "provider_model_id",
        # The three prices every offer has; the other price columns are on the offer's own page (its change link).
        "price_input",
        "price_output",
        "price_cached_input",
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
    verbose_name_plural = "offers"


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
        provider_filter("creator", "creator"),
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
    object_history_template = "admin/catalog/model/object_history.html"
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

    def history_view(self, request, object_id, extra_context=None):
        """The model's own history, then its aliases' and offers' rows (catalog/admin/model_history.py)."""
        pk = unquote(object_id)
        related = model_related_history(int(pk)) if pk.isdigit() else []
        return super().history_view(request, object_id, {**(extra_context or {}), "related_history": related})

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
    list_filter = ("status", "in_registry", provider_filter("provider", "provider"))
    list_select_related = ("model", "provider")
    search_fields = ("alias", "model__name", "model__slug")
    autocomplete_fields = ("model", "provider")
    fields = ("alias", "model", "provider", "status", "retirement_date")
