"""The base every catalogue ModelAdmin shares: history with who and why, and a read-only provenance fieldset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from catalog.forms import change_reason_field
from modelgraph.admin_relations import SafeRelationsAdmin

CREATED_REASON = "created in admin"
CHANGED_REASON = "changed in admin"
DELETED_REASON = "deleted in admin"


@dataclass(frozen=True)
class AdminExtension:
    """What an app above the catalogue adds to a catalogue admin without replacing it (see `admin_extend`)."""

    inlines: tuple = ()
    # Read-only callables `(obj) -> str` shown first in the Provenance section.
    provenance_fields: tuple = ()
    list_display: tuple = ()
    list_filter: tuple = ()
    # Called after the object is saved: `(request, obj, form, change)`; after an inline formset: `(request, form,
    # formset, change)`.
    after_save: Callable | None = None
    after_save_formset: Callable | None = None
    # `(model_admin) -> [path(...)]`: extra admin URLs, placed before the admin's own.
    urls: Callable | None = None


_extensions: dict[type, list[AdminExtension]] = {}


def history_actor(record) -> str:
    """Who made a historical change: the curator, else the process its reason names ("registry load",
    "ingestion: openai")."""
    if record.history_user_id is not None and record.history_user is not None:
        return record.history_user.get_username()
    return record.history_change_reason or "a process (no user recorded)"


def admin_extend(model: type, extension: AdminExtension) -> None:
    """The catalogue admins' extension point: ingestion adds pins, per-field provenance and the price queue here."""
    registered = _extensions.setdefault(model, [])
    if extension not in registered:
        registered.append(extension)


class CuratedAdmin(SafeRelationsAdmin, SimpleHistoryAdmin):
    """History for a curated model, a required reason on its change form, and where its values came from.

    Subclasses declare `fields` or `fieldsets` for the editable fields only; the Provenance fieldset and the
    "Reason for change" fieldset are appended here.
    """

    base_provenance_fields = ("source_note", "registry_file", "in_registry", "created_at", "updated_at")
    ask_change_reason = True
    # Where no user made a change (a registry load, an ingestion run), its reason names the actor.
    object_history_list_template = "admin/catalog/object_history_list.html"

    @property
    def extensions(self) -> list[AdminExtension]:
        return _extensions.get(self.model, [])

    @property
    def provenance_fields(self) -> tuple:
        extra = tuple(field for extension in self.extensions for field in extension.provenance_fields)
        return (*extra, *self.base_provenance_fields)

    def get_inlines(self, request, obj):
        return (*super().get_inlines(request, obj), *(i for extension in self.extensions for i in extension.inlines))

    def get_list_display(self, request):
        extra = (field for extension in self.extensions for field in extension.list_display)
        return (*super().get_list_display(request), *extra)

    def get_list_filter(self, request):
        extra = (field for extension in self.extensions for field in extension.list_filter)
        return (*super().get_list_filter(request), *extra)

    def get_urls(self):
        extra = [url for extension in self.extensions if extension.urls for url in extension.urls(self)]
        return [*extra, *super().get_urls()]

    def asks_change_reason(self, request, obj=None) -> bool:
        # Only a change form that can be saved asks; the add form records CREATED_REASON.
        return self.ask_change_reason and obj is not None and self.has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly + tuple(f for f in self.provenance_fields if f not in readonly)

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.append(("Provenance", {"fields": self.provenance_fields}))
        if self.asks_change_reason(request, obj):
            fieldsets.append(("Reason for change", {"fields": ("change_reason",)}))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self.asks_change_reason(request, obj):
            base = kwargs.get("form", self.form)
            kwargs["form"] = type(base.__name__, (base,), {"change_reason": change_reason_field()})
        return super().get_form(request, obj, change=change, **kwargs)

    @staticmethod
    def change_reason(form, change: bool) -> str:
        reason = form.cleaned_data.get("change_reason", "") if hasattr(form, "cleaned_data") else ""
        return reason or (CHANGED_REASON if change else CREATED_REASON)

    def save_model(self, request, obj, form, change):
        obj._change_reason = self.change_reason(form, change)
        super().save_model(request, obj, form, change)  # SimpleHistoryAdmin sets obj._history_user
        for extension in self.extensions:
            if extension.after_save is not None:
                extension.after_save(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        # Inline rows saved with the parent carry the parent's reason and curator into their own history.
        reason = self.change_reason(form, change)
        for inline_form in formset.forms:
            inline_form.instance._change_reason = reason
            inline_form.instance._history_user = request.user
        super().save_formset(request, form, formset, change)
        for extension in self.extensions:
            if extension.after_save_formset is not None:
                extension.after_save_formset(request, form, formset, change)

    def delete_model(self, request, obj):
        obj._change_reason = DELETED_REASON
        obj._history_user = request.user
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # One delete per row (not a bulk delete) so each historical record carries the curator and reason.
        for obj in queryset:
            self.delete_model(request, obj)

    @admin.display(description="Where this row came from")
    def source_note(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "Not saved yet."
        if obj.registry_file:
            source = format_html("Last set by registry file <code>{}</code>.", obj.registry_file)
        else:
            source = "No registry file has set this row."
        if not obj.in_registry:
            source = format_html("{} It is no longer in the registry.", source)
        latest = obj.history.select_related("history_user").first()
        if latest is None:
            return source
        who = history_actor(latest)
        last = format_html(
            "Last change: {} by {}{}.",
            timezone.localtime(latest.history_date).strftime("%Y-%m-%d %H:%M %Z"),
            who,
            format_html(" — “{}”", latest.history_change_reason)
            if latest.history_change_reason and latest.history_user_id is not None
            else "",
        )
        return format_html_join(" ", "{}", ((source,), (last,)))
