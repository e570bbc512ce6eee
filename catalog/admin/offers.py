"""Admin for the serving side of the catalogue: providers and their mappings (offers with prices)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin

from catalog.admin.curated import CuratedAdmin
from catalog.admin.filters import provider_filter
from catalog.forms import MappingAdminForm, ProviderAdminForm
from catalog.models import Mapping, Provider
from modelgraph.secrets import provider_api_key, provider_key_problem


@admin.register(Provider)
class ProviderAdmin(CuratedAdmin):
    form = ProviderAdminForm
    list_display = (
        "name",
        "slug",
        "kind",
        "openai_compatible",
        "model_count",
        "api_key_env",
        "key_configured",
        "key_status",
        "in_registry",
    )
    list_filter = ("kind", "openai_compatible", "in_registry")
    search_fields = ("slug", "name")
    fieldsets = (
        (None, {"fields": ("name", "slug", "kind", "website", "docs_url")}),
        (
            "API",
            {
                "fields": ("api_base_url", "openai_compatible", "api_key_env", "key_configured", "key_status"),
                "description": "<code>api_key_env</code> names where the key is, never the key itself: "
                "<code>${secrets:NAME}</code> (the secrets file) or an allowed environment variable name such as "
                "<code>OPENAI_API_KEY</code>; the platform's own variables are refused. The key is never stored or "
                "shown. Changing the API base URL of a provider with a key is done here, with a reason: a registry "
                "load never changes it.",
            },
        ),
    )
    readonly_fields = ("key_configured", "key_status")

    def get_queryset(self, request):
        return super().get_queryset(request).with_model_counts()

    @admin.display(description="Models served", ordering="model_count")
    def model_count(self, obj) -> int:
        return obj.model_count

    @admin.display(description="Key configured", boolean=True)
    def key_configured(self, obj) -> bool:
        # Whether this process can resolve the reference to a non-empty key; the value is never read out.
        return provider_api_key(obj) is not None

    @admin.display(description="Key status")
    def key_status(self, obj) -> str:
        return provider_key_problem(obj) or "configured"


def _price(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


PER_TOKENS = "$ / 1M tokens"
# The unit of every price column: per million tokens unless the column prices something else.
PRICE_UNITS = {
    **{name: PER_TOKENS for name in Mapping.PRICE_FIELDS},
    "price_per_image": "$ per image",
    "price_per_request": "$ per request",
    "price_web_search": "$ per 1,000 searches",
}


def price_formfield(db_field, formfield):
    """Label and help text of a price field with its unit ("Output ($ / 1M tokens)")."""
    unit = PRICE_UNITS.get(db_field.name)
    if unit is not None and formfield is not None:
        formfield.label = f"{db_field.verbose_name.removeprefix('price ').capitalize()} ({unit})"
        formfield.help_text = "US dollars " + ("per million tokens" if unit == PER_TOKENS else unit.removeprefix("$ "))
    return formfield


class PriceUnitsMixin:
    """Admin classes (and inlines) that edit offer prices show each price's unit in its label."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return price_formfield(db_field, super().formfield_for_dbfield(db_field, request, **kwargs))  # type: ignore[misc]


@admin.register(Mapping)
class MappingAdmin(PriceUnitsMixin, CuratedAdmin):
    form = MappingAdminForm
    list_display = (
        "provider_model_id",
        "model",
        "provider",
        "input_price",
        "output_price",
        "cached_input_price",
        "cache_write_price",
        "context_window",
        "status",
        "retirement_date",
        "in_registry",
    )
    list_filter = ("status", provider_filter("provider", "provider"), "in_registry")
    list_select_related = ("provider", "model")
    search_fields = ("provider_model_id", "model__slug", "model__name", "provider__slug")
    autocomplete_fields = ("provider", "model")
    fieldsets = (
        (None, {"fields": ("provider", "model", "provider_model_id", "status", "retirement_date")}),
        ("Aggregator endpoint", {"fields": ("served_by", "variant")}),
        ("Prices (US dollars; the unit is in each label)", {"fields": Mapping.PRICE_FIELDS}),
        ("Limits and delivery", {"fields": ("context_window", "max_output", "quantization", "delivery_modes")}),
    )

    @admin.display(description="Input ($ / 1M tokens)", ordering="price_input")
    def input_price(self, obj) -> str | None:
        return _price(obj.price_input)

    @admin.display(description="Output ($ / 1M tokens)", ordering="price_output")
    def output_price(self, obj) -> str | None:
        return _price(obj.price_output)

    @admin.display(description="Cached input ($ / 1M tokens)", ordering="price_cached_input")
    def cached_input_price(self, obj) -> str | None:
        return _price(obj.price_cached_input)

    @admin.display(description="Cache write ($ / 1M tokens)", ordering="price_cache_write")
    def cache_write_price(self, obj) -> str | None:
        return _price(obj.price_cache_write)
