"""Operators' admin for the archive: batches with completeness and validation, events, entities."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from django_q.brokers import get_broker
from django_q.tasks import async_task

from modelgraph.heartbeat import FRESH_SECONDS, heartbeat_age
from snapshots.models import Batch, Entity, Event


def worker_state() -> str:
    """What the queue says right now: tasks waiting, and whether any worker beat recently (modelgraph.heartbeat)."""
    age = heartbeat_age()
    running = age is not None and age <= FRESH_SECONDS
    try:
        waiting = get_broker().queue_size() or 0
    except Exception:  # a broker that cannot say (Redis down) must not break the page
        waiting = None
    worker = "a worker is running" if running else "no worker is running: queued syncs wait until one starts"
    if waiting is None:
        return worker
    return f"{waiting} task(s) waiting in the queue; {worker}"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ("hour", "status", "complete", "responses", "event_count", "new_bytes", "seconds", "finished_at")
    list_filter = ("status", "complete")
    date_hierarchy = "hour"
    fields = ("hour", "status", "complete", "started_at", "finished_at", "attempts", "lease_owner", "lease_until")
    fields += ("stats_pretty", "validation_pretty")
    readonly_fields = fields
    actions = ("sync_now",)
    # A button above the list syncs now without selecting a batch first (a fresh install has none).
    change_list_template = "admin/snapshots/batch/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.sync_now_view))
        return [path("sync-now/", view, name="snapshots_batch_sync_now"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "sync_now_url": reverse("admin:snapshots_batch_sync_now"),
            "subtitle": worker_state(),
        }
        return super().changelist_view(request, extra_context)

    def sync_now_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        self._queue_sync(request)
        return HttpResponseRedirect(reverse("admin:snapshots_batch_changelist"))

    def _queue_sync(self, request) -> None:
        async_task("snapshots.tasks.snapshot_sync_task")
        self.message_user(
            request, f"Sync queued; the batch of this hour will show it ({worker_state()}).", messages.SUCCESS
        )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(event_total=Count("events"))

    @admin.display(description="events", ordering="event_total")
    def event_count(self, obj) -> int:
        return obj.event_total

    @admin.display(description="responses")
    def responses(self, obj) -> int:
        return obj.stats.get("responses", 0)

    @admin.display(description="new bytes stored")
    def new_bytes(self, obj) -> int:
        return obj.stats.get("new_blob_bytes", 0) + obj.stats.get("manifest_bytes", 0)

    @admin.display(description="seconds")
    def seconds(self, obj):
        return obj.stats.get("seconds")

    @admin.display(description="stats")
    def stats_pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.stats, indent=2))

    @admin.display(description="validation report")
    def validation_pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.validation, indent=2))

    @admin.action(description="Sync OpenRouter now (this hour's batch)")
    def sync_now(self, request, queryset):
        self._queue_sync(request)


class ProviderFilter(admin.SimpleListFilter):
    title = "provider"
    parameter_name = "provider"

    def lookups(self, request, model_admin):
        keys = Entity.objects.exclude(provider_key="").values_list("provider_key", flat=True).distinct()
        return [(key, key) for key in keys.order_by("provider_key")[:200]]

    def queryset(self, request, queryset):
        return queryset.filter(entity__provider_key=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("batch", "kind", "entity", "field", "before", "after")
    list_filter = ("kind", "entity__kind", ProviderFilter)
    list_select_related = ("batch", "entity")
    search_fields = ("entity__key", "field")
    date_hierarchy = "batch__hour"
    raw_id_fields = ("batch", "entity")


@admin.register(Entity)
class EntityAdmin(ReadOnlyAdmin):
    list_display = ("kind", "key", "state", "provider_key", "first_seen", "last_seen")
    list_filter = ("kind", "state")
    list_select_related = ("first_seen", "last_seen")
    search_fields = ("key", "model_key", "provider_key")
    readonly_fields = ("kind", "key", "model_key", "provider_key", "state", "first_seen", "last_seen", "current")
    exclude = ()
