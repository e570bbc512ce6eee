"""Operators' admin: ingestion runs, observations, pins and API keys; models gain per-field provenance and pins."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from catalog.admin.curated import AdminExtension, admin_extend
from catalog.models import Model
from ingestion import admin_prices  # noqa: F401 (offer pins and the disputed-prices queue)
from ingestion.models import FieldPin, IngestionRun, Observation, RunStatus
from ingestion.provenance import field_release, model_pin_admin_edits
from ingestion.selectors import model_field_provenance
from ingestion.services import ingestion_queue_run


@admin.register(IngestionRun)
class IngestionRunAdmin(admin.ModelAdmin):
    list_display = (
        "source",
        "tier",
        "status",
        "started_at",
        "finished_at",
        "models_added",
        "models_updated",
        "aliases_added",
        "short_error",
    )
    list_filter = ("status", "source", "tier")
    date_hierarchy = "started_at"
    search_fields = ("source", "error_message")
    readonly_fields = [f.name for f in IngestionRun._meta.fields]
    actions = ("run_source_now",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Error")
    def short_error(self, obj) -> str:
        return (obj.error_message[:80] + "…") if len(obj.error_message) > 80 else obj.error_message

    @admin.action(description="Run this source now")
    def run_source_now(self, request, queryset):
        for source in sorted(set(queryset.values_list("source", flat=True))):
            run = ingestion_queue_run(source=source)
            if run.status == RunStatus.RUNNING:
                self.message_user(request, f"{source}: run #{run.pk} queued.", messages.SUCCESS)
            else:
                self.message_user(request, f"{source}: not queued — {run.error_message}.", messages.WARNING)


@admin.register(Observation)
class ObservationAdmin(admin.ModelAdmin):
    list_display = ("model", "field", "source", "tier", "value", "external_id", "observed_at")
    list_filter = ("source", "tier", "field")
    list_select_related = ("model",)
    search_fields = ("model__slug", "model__name", "external_id")
    readonly_fields = [f.name for f in Observation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FieldPin)
class FieldPinAdmin(admin.ModelAdmin):
    list_display = ("model", "field", "value", "reason", "pinned_by", "pinned_at")
    list_filter = ("field",)
    list_select_related = ("model", "pinned_by")
    search_fields = ("model__slug", "model__name", "reason")
    readonly_fields = ("model", "field", "value", "reason", "pinned_by", "pinned_at")
    actions = ("release",)

    def has_add_permission(self, request) -> bool:
        return False  # pins are made by editing a field on the model's page

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # releasing goes through the action so the model is re-resolved

    @admin.action(description="Release selected pins back to the registry and automated sources")
    def release(self, request, queryset):
        released = 0
        for pin in queryset.select_related("model"):
            released += field_release(model=pin.model, field=pin.field, reason="released in admin", user=request.user)
        self.message_user(request, f"{released} pin(s) released.", messages.SUCCESS)


class FieldPinInline(admin.TabularInline):
    model = FieldPin
    fields = ("field", "value", "reason", "pinned_by", "pinned_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "pinned fields (release them from the Field pins page)"

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def _pin_admin_edits(request, obj, form, change) -> None:
    """Editing a sourced field in the admin pins it, with the change reason and the curator."""
    if change:
        model_pin_admin_edits(model=obj, fields=form.changed_data, reason=obj._change_reason, user=request.user)


def field_provenance(obj) -> str:
    if obj is None or obj.pk is None:
        return "—"
    rows = model_field_provenance(obj)
    body = format_html_join(
        "",
        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                r["field"],
                _show(r["value"]),
                r["source"] or "default",
                r["at"] or "",
                format_html_join("; ", "{}: {}", ((c.source, _show(c.value)) for c in r["others"])) or "—",
            )
            for r in rows
        ),
    )
    return format_html(
        "<table><thead><tr><th>field</th><th>shown value</th><th>source</th><th>since</th>"
        "<th>other sources</th></tr></thead><tbody>{}</tbody></table>",
        body,
    )


field_provenance.short_description = "Where each shown value came from"

admin_extend(
    Model,
    AdminExtension(inlines=(FieldPinInline,), provenance_fields=(field_provenance,), after_save=_pin_admin_edits),
)


def _show(value) -> str:
    if value in (None, "", []):
        return "—"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
