"""Curators' and operators' admin for routing: the capability tree, pools, route states with their events, the
request log with its statistics. Changes reach the gateway processes within ROUTING_TABLE_TTL seconds."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import Count
from django.utils import timezone

from modelgraph.admin import HashedKeyAdmin
from modelgraph.admin_relations import SafeRelationsAdmin
from routing import selectors, services
from routing.access import gateway_key_issue, gateway_keys_revoke
from routing.batch_models import FINISHED, GatewayBatch
from routing.batches import batch_cancel
from routing.key_usage import gateway_keys_with_usage
from routing.models import (
    Capability,
    GatewayKey,
    GatewayKeyUsage,
    Pool,
    ProviderConnector,
    RequestLog,
    RouteState,
    RouteStateValue,
    RoutingEvent,
)


class FromConfigMixin:
    @admin.display(description="From configuration", boolean=True, ordering="from_config")
    def configured(self, obj) -> bool:
        """Declared in the routing configuration file: the next `manage.py routing_load` undoes an edit made here."""
        return obj.from_config


class PoolInline(admin.TabularInline):
    model = Pool
    fields = ("name", "slug", "priority", "strategy", "enabled")
    show_change_link = True
    extra = 0


@admin.register(Capability)
class CapabilityAdmin(SafeRelationsAdmin, FromConfigMixin, admin.ModelAdmin):
    list_display = ("tree_name", "slug", "endpoint", "enabled", "pool_count", "is_default", "configured")
    list_filter = ("enabled", "endpoint", "is_default", "from_config")
    search_fields = ("slug", "name", "description")
    autocomplete_fields = ("parent",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("is_default", "configured", "created_at", "updated_at")
    inlines = (PoolInline,)
    fieldsets = (
        (
            None,
            {"fields": ("name", "slug", "parent", "description", "endpoint", "enabled", "is_default", "configured")},
        ),
        (
            "Members: catalogue models that meet every requirement here and in each ancestor",
            {
                "fields": (
                    "catalogue_capabilities",
                    "excluded_capabilities",
                    "input_modalities",
                    "output_modalities",
                    "member_pattern",
                ),
                "description": 'JSON lists, e.g. ["tools"] or ["image"]. Capabilities: tools, reasoning, vision, '
                "structured_output, attachments, temperature, embeddings, audio; modalities: text, "
                "image, audio, video, pdf.",
            },
        ),
        ("History", {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent").annotate(pools_total=Count("pools"))

    @admin.display(description="Capability", ordering="slug")
    def tree_name(self, obj) -> str:
        depth, node = 0, obj.parent
        while node is not None and depth < 10:
            depth, node = depth + 1, node.parent
        return f"{'— ' * depth}{obj.name}"

    @admin.display(description="Pools", ordering="pools_total")
    def pool_count(self, obj) -> int:
        return obj.pools_total


@admin.register(Pool)
class PoolAdmin(SafeRelationsAdmin, FromConfigMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "capability", "priority", "strategy", "retry_scope", "enabled", "configured")
    list_filter = ("enabled", "strategy", "retry_scope", "from_config", "capability")
    readonly_fields = ("configured",)
    list_select_related = ("capability",)
    search_fields = ("name", "slug", "capability__slug")
    autocomplete_fields = ("capability", "members", "include_providers", "exclude_providers")
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "slug", "capability", "priority", "enabled", "configured")}),
        ("Members", {"fields": ("members", "include_providers", "exclude_providers")}),
        ("Selection", {"fields": ("strategy", "priority_list")}),
        (
            "Rotation",
            {
                "fields": (
                    "failures_to_deactivate",
                    "error_rate_threshold",
                    "error_window_seconds",
                    "error_min_requests",
                    "cooldown_seconds",
                )
            },
        ),
        (
            "Retries",
            {
                "fields": (
                    "max_attempts",
                    "max_total_seconds",
                    "backoff_base",
                    "backoff_max",
                    "retry_after_max",
                    "retry_scope",
                )
            },
        ),
    )


class RoutingEventInline(admin.TabularInline):
    model = RoutingEvent
    fields = ("at", "kind", "message", "detail")
    readonly_fields = fields
    ordering = ("-at", "-pk")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class SubjectKindFilter(admin.SimpleListFilter):
    title = "applies to"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return (("offer", "One offer (model@provider)"), ("provider", "A whole provider"))

    def queryset(self, request, queryset):
        if self.value() == "offer":
            return queryset.filter(mapping__isnull=False)
        if self.value() == "provider":
            return queryset.filter(provider__isnull=False)
        return queryset


@admin.register(RouteState)
class RouteStateAdmin(admin.ModelAdmin):
    list_display = (
        "subject",
        "state",
        "reason",
        "deactivated_until",
        "consecutive_failures",
        "failed_probes",
        "changed_at",
    )
    list_filter = ("state", SubjectKindFilter)
    list_select_related = ("mapping__model", "mapping__provider", "provider")
    search_fields = ("mapping__model__slug", "mapping__provider__slug", "provider__slug", "reason")
    readonly_fields = (
        "mapping",
        "provider",
        "state",
        "reason",
        "consecutive_failures",
        "failed_probes",
        "cooldown_seconds",
        "deactivated_until",
        "last_error",
        "changed_at",
    )
    inlines = (RoutingEventInline,)
    actions = ("put_on_standby", "reactivate", "probe_at_next_request")

    def has_add_permission(self, request) -> bool:
        return False

    def _subjects(self, queryset):
        return queryset.values_list("mapping_id", "provider_id")

    @admin.action(description="Put on standby (no traffic, no probes)")
    def put_on_standby(self, request, queryset):
        for mapping_id, provider_id in self._subjects(queryset):
            services.route_state_set(
                mapping_id=mapping_id, provider_id=provider_id, value=RouteStateValue.STANDBY, user=request.user
            )
        self.message_user(request, f"{queryset.count()} put on standby.", messages.SUCCESS)

    @admin.action(description="Reactivate now (without a probe)")
    def reactivate(self, request, queryset):
        for mapping_id, provider_id in self._subjects(queryset):
            services.route_state_set(
                mapping_id=mapping_id, provider_id=provider_id, value=RouteStateValue.ACTIVE, user=request.user
            )
        self.message_user(request, f"{queryset.count()} reactivated.", messages.SUCCESS)

    @admin.action(description="End the cooldown: probe at the next request")
    def probe_at_next_request(self, request, queryset):
        changed = sum(
            services.route_state_end_cooldown(mapping_id=mapping_id, provider_id=provider_id, user=request.user)
            for mapping_id, provider_id in self._subjects(queryset.filter(state=RouteStateValue.DEACTIVATED))
        )
        self.message_user(request, f"{changed} will be probed at the next request (or `manage.py routing_probe`).")


@admin.register(RoutingEvent)
class RoutingEventAdmin(admin.ModelAdmin):
    list_display = ("at", "kind", "subject", "message")
    list_filter = ("kind",)
    list_select_related = ("mapping__model", "mapping__provider", "provider")
    search_fields = ("message", "mapping__model__slug", "provider__slug", "mapping__provider__slug")
    date_hierarchy = "at"
    readonly_fields = ("at", "kind", "state", "mapping", "provider", "message", "detail")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Subject")
    def subject(self, obj) -> str:
        if obj.mapping_id:
            return f"{obj.mapping.model.slug}@{obj.mapping.provider.slug}"
        return f"provider {obj.provider.slug}" if obj.provider_id else "—"


@admin.register(RequestLog)
class RequestLogAdmin(admin.ModelAdmin):
    list_display = (
        "at",
        "requested",
        "pool",
        "route",
        "stream",
        "status",
        "outcome",
        "attempts",
        "latency_ms",
        "ttft_ms",
        "prompt_tokens",
        "completion_tokens",
        "cost",
    )
    list_filter = ("outcome", "stream", "pool", "status")
    list_select_related = ("pool", "mapping__model", "provider")
    search_fields = ("requested", "error", "mapping__model__slug", "provider__slug", "=request_id")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in RequestLog._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Route")
    def route(self, obj) -> str:
        if obj.mapping_id is None:
            return "—"
        return f"{obj.mapping.model.slug}@{obj.provider.slug if obj.provider_id else '?'}"

    def changelist_view(self, request, extra_context=None):
        window = request.GET.get("stats_window", "24h")
        window = window if window in selectors.STATS_WINDOWS else "24h"
        request.GET = request.GET.copy()
        request.GET.pop("stats_window", None)
        extra = {"routing_stats": selectors.request_log_stats(window=window), "stats_windows": selectors.STATS_WINDOWS}
        return super().changelist_view(request, extra_context={**(extra_context or {}), **extra})


class GatewayKeyUsageInline(admin.TabularInline):
    """The last 31 days of a key's usage, newest first (read-only: written by the gateway)."""

    model = GatewayKeyUsage
    fields = ("day", "requests", "refused", "prompt_tokens", "completion_tokens", "spend_usd", "unpriced")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "usage (last 31 days, UTC)"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(day__gte=timezone.now().date() - timedelta(days=31))

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(GatewayKey)
class GatewayKeyAdmin(SafeRelationsAdmin, HashedKeyAdmin):
    """Bearer keys for /v1/ with their scopes, limits and usage (never the key: it is shown once when issued);
    issuing, changing or revoking one reaches every gateway process within ROUTING_GATEWAY_KEYS_TTL seconds."""

    noun = "gateway key"
    list_display = (
        *("name", "prefix", "limits", "requests_today", "tokens_today", "spend_total"),
        *("created_at", "created_by", "revoked_at"),
    )
    list_select_related = ("created_by",)
    autocomplete_fields = ("allowed_capabilities", "allowed_models")
    readonly_fields = (*HashedKeyAdmin.readonly_fields, "spend_total")
    fields = None
    fieldsets = (
        (None, {"fields": ("name", "prefix", "created_at", "created_by", "revoked_at")}),
        ("Scopes: none named, every capability and model", {"fields": ("allowed_capabilities", "allowed_models")}),
        (
            "Limits: empty, none",
            {"fields": ("requests_per_minute", "tokens_per_day", "budget_usd", "spend_total")},
        ),
    )
    inlines = (GatewayKeyUsageInline,)

    def get_queryset(self, request):
        return gateway_keys_with_usage()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()  # a key being issued has no usage yet

    def issue(self, key, user) -> str:
        return gateway_key_issue(key=key, user=user)

    def revoke_keys(self, queryset) -> int:
        return gateway_keys_revoke(keys=queryset)

    @admin.display(description="Limits")
    def limits(self, obj) -> str:
        parts = []
        if obj.requests_per_minute is not None:
            parts.append(f"{obj.requests_per_minute}/min")
        if obj.tokens_per_day is not None:
            parts.append(f"{obj.tokens_per_day:,} tokens/day")
        if obj.budget_usd is not None:
            parts.append(f"${obj.budget_usd.normalize():f}")
        return ", ".join(parts) or "—"

    @admin.display(description="Requests today", ordering="requests_today")
    def requests_today(self, obj) -> int:
        return obj.requests_today

    @admin.display(description="Tokens today", ordering="tokens_today")
    def tokens_today(self, obj) -> int:
        return obj.tokens_today

    @admin.display(description="Spent (USD)", ordering="spend_total")
    def spend_total(self, obj) -> str:
        return f"{getattr(obj, 'spend_total', 0):.6f}"


@admin.register(ProviderConnector)
class ProviderConnectorAdmin(SafeRelationsAdmin, admin.ModelAdmin):
    """Which API a provider speaks (routing.connectors); without a row: its host's native API, else OpenAI's."""

    list_display = ("provider", "api", "base_url", "updated_at")
    list_filter = ("api",)
    list_select_related = ("provider",)
    search_fields = ("provider__slug", "provider__name")
    autocomplete_fields = ("provider",)
    readonly_fields = ("updated_at",)


@admin.register(GatewayBatch)
class GatewayBatchAdmin(admin.ModelAdmin):
    """Batches sent to /v1/batches (read-only: clients create them; a worker runs them)."""

    list_display = ("id", "status", "endpoint", "total", "completed", "failed", "created_at", "completed_at")
    list_filter = ("status", "endpoint")
    search_fields = ("id", "input_file__id", "input_file__filename")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in GatewayBatch._meta.fields]
    actions = ("cancel",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Cancel (a running batch stops before its next request)")
    def cancel(self, request, queryset):
        cancelled = 0
        for batch_id in queryset.exclude(status__in=FINISHED).values_list("pk", flat=True):
            batch_cancel(batch_id, any_key=True)
            cancelled += 1
        self.message_user(request, f"{cancelled} batch(es) cancelled or cancelling.", messages.SUCCESS)
