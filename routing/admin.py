"""Curators' and operators' admin for routing: the capability tree, pools, route states with their events, the
request log with its statistics. Changes reach the gateway processes within ROUTING_TABLE_TTL seconds."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count

from modelgraph.admin import HashedKeyAdmin
from routing import selectors, services
from routing.access import gateway_key_issue, gateway_keys_revoke
from routing.models import (
    Capability,
    GatewayKey,
    Pool,
    RequestLog,
    RouteState,
    RouteStateValue,
    RoutingEvent,
)


class PoolInline(admin.TabularInline):
    model = Pool
    fields = ("name", "slug", "priority", "strategy", "enabled")
    show_change_link = True
    extra = 0


@admin.register(Capability)
class CapabilityAdmin(admin.ModelAdmin):
    list_display = ("tree_name", "slug", "endpoint", "enabled", "pool_count", "is_default")
    list_filter = ("enabled", "endpoint", "is_default")
    search_fields = ("slug", "name", "description")
    autocomplete_fields = ("parent",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("is_default", "created_at", "updated_at")
    inlines = (PoolInline,)
    fieldsets = (
        (None, {"fields": ("name", "slug", "parent", "description", "endpoint", "enabled", "is_default")}),
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
class PoolAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "capability", "priority", "strategy", "retry_scope", "enabled")
    list_filter = ("enabled", "strategy", "retry_scope", "capability")
    list_select_related = ("capability",)
    search_fields = ("name", "slug", "capability__slug")
    autocomplete_fields = ("capability", "members", "include_providers", "exclude_providers")
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "slug", "capability", "priority", "enabled")}),
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
    search_fields = ("requested", "error", "mapping__model__slug", "provider__slug")
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


@admin.register(GatewayKey)
class GatewayKeyAdmin(HashedKeyAdmin):
    """Bearer keys for /v1/; issuing or revoking one reaches the gateway's accepted digests at once."""

    noun = "gateway key"

    def issue(self, key, user) -> str:
        return gateway_key_issue(key=key, user=user)

    def revoke_keys(self, queryset) -> int:
        return gateway_keys_revoke(keys=queryset)
