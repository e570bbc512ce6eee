"""Operators' admin: ingestion runs, observations, pins and API keys; models gain per-field provenance and pins."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from catalog.admin.curated import AdminExtension, admin_extend
from catalog.models import Model
from ingestion import (
    admin_aliases,  # noqa: F401 (curators' aliases are pinned)
    admin_prices,  # noqa: F401 (offer pins and the disputed-prices queue)
    admin_review,  # noqa: F401 (the curators' work queue page)
)
from ingestion.models import FieldPin, IngestionRun, Observation, RunStatus
from ingestion.prices.sources import PRICE_SOURCES
from ingestion.provenance import field_release, model_pin_admin_edits
from ingestion.run_report import error_line, queue_note, run_counts_text
from ingestion.selectors import model_field_provenance
from ingestion.services import UnknownSource, ingestion_queue_run
from ingestion.sources import SOURCES


@admin.register(IngestionRun)
class IngestionRunAdmin(admin.ModelAdmin):
    list_display = (
        "source",
        "tier",
        "status",
        "started_at",
        "finished_at",
        "counts",
        "short_error",
    )
    list_filter = ("status", "source", "tier")
    date_hierarchy = "started_at"
    search_fields = ("source", "error_message")
    readonly_fields = [f.name for f in IngestionRun._meta.fields]
    actions = ("run_source_now",)
    # Buttons above the list run any source (or all) without selecting a run first: a fresh install has none.
    change_list_template = "admin/ingestion/ingestionrun/change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.run_now_view))
        return [path("run-now/", view, name="ingestion_ingestionrun_run_now"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "run_sources": sorted(SOURCES),
            "run_price_feeds": sorted(PRICE_SOURCES),
            "run_now_url": reverse("admin:ingestion_ingestionrun_run_now"),
        }
        return super().changelist_view(request, extra_context)

    def run_now_view(self, request):
        """POST `source` (one name, or `all` for every listing source): queue the runs, report each, go back."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        wanted = request.POST.get("source", "")
        sources = sorted(SOURCES) if wanted == "all" else [wanted]
        for source in sources:
            self._queue(request, source)
        return HttpResponseRedirect(reverse("admin:ingestion_ingestionrun_changelist"))

    def _queue(self, request, source: str) -> None:
        try:
            run = ingestion_queue_run(source=source)
        except UnknownSource as exc:
            self.message_user(request, error_line(str(exc)), messages.ERROR)
            return
        if run.status == RunStatus.RUNNING:
            note = " A worker will take it; if none is running it stays queued and is reported so."
            self.message_user(request, f"Run #{run.pk} of {source} queued.{note}", messages.SUCCESS)
        elif run.status == RunStatus.SKIPPED and run.details.get("reason") == "locked":
            self.message_user(request, f"Run of {source} not queued — {run.error_message}.", messages.WARNING)
        else:  # run at once (a synchronous queue): report how it ended
            level = messages.SUCCESS if run.status == RunStatus.SUCCESS else messages.WARNING
            ended = f"{run.get_status_display().lower()}: {run_counts_text(run)}"
            error = error_line(run.error_message)
            self.message_user(request, f"Run #{run.pk} of {source} {ended}{' — ' + error if error else ''}.", level)

    @admin.display(description="Counts")
    def counts(self, obj) -> str:
        return run_counts_text(obj) if obj.status != RunStatus.RUNNING else "—"

    @admin.display(description="Error or state")
    def short_error(self, obj) -> str:
        return queue_note(obj) or error_line(obj.error_message, limit=80)

    @admin.action(description="Run this source now")
    def run_source_now(self, request, queryset):
        for source in sorted(set(queryset.values_list("source", flat=True))):
            self._queue(request, source)


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


def _since(obj, rows: list[dict]) -> dict[str, str]:
    """When each shown value was set: the source's observation time, the pin's time, else (registry values and
    defaults) the oldest history record since which the model's column has held its value."""
    since = {r["field"]: _when(r["at"]) for r in rows if r["at"]}
    pins = dict(FieldPin.objects.filter(model=obj).values_list("field", "pinned_at"))
    columns = {}
    for r in rows:
        if r["field"] in since:
            continue
        if r["source"] == "pin" and r["field"] in pins:
            since[r["field"]] = _when(pins[r["field"]])
            continue
        try:
            columns[r["field"]] = Model._meta.get_field(r["field"]).attname
        except FieldDoesNotExist:
            continue
    if not columns:
        return since
    history = list(obj.history.order_by("-history_date", "-history_id").values("history_date", *columns.values()))
    for field, column in columns.items():
        held = None
        for record in history:  # newest first: walk back while the column still holds today's value
            if record[column] != history[0][column]:
                break
            held = record["history_date"]
        if held is not None:
            since[field] = _when(held)
    return since


def _when(value) -> str:
    if isinstance(value, str):
        value = parse_datetime(value) or value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def field_provenance(obj) -> str:
    if obj is None or obj.pk is None:
        return "—"
    rows = model_field_provenance(obj)
    since = _since(obj, rows)
    body = format_html_join(
        "",
        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                r["field"],
                _show(r["value"]),
                r["source"] or "default",
                since.get(r["field"], ""),
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
