"""Curators' aliases in the admin: an alias added or edited on the Alias admin or in the model form's alias inline
is pinned (AliasPin), so no registry load changes or drops it; the alias form says so and shows who pinned it."""

from __future__ import annotations

from catalog.admin.curated import AdminExtension, admin_extend
from catalog.models import Alias, Model
from ingestion.alias_pins import alias_pin
from ingestion.models import AliasPin


def _pin_saved_alias(request, obj: Alias, form, change: bool) -> None:
    if form.has_changed() or not change:
        reason = form.cleaned_data.get("change_reason") or ("edited in admin" if change else "added in admin")
        alias_pin(alias=obj, reason=reason, user=request.user)


def _pin_inline_aliases(request, form, formset, change: bool) -> None:
    """After the model form's inlines are saved: pin every alias row the curator added or changed."""
    if getattr(formset, "model", None) is not Alias:
        return
    reason = (form.cleaned_data.get("change_reason") if hasattr(form, "cleaned_data") else "") or "edited in admin"
    for alias in (*formset.new_objects, *(obj for obj, _ in formset.changed_objects)):
        alias_pin(alias=alias, reason=reason, user=request.user)


def curator_pin(obj: Alias) -> str:
    pin = AliasPin.objects.filter(alias=obj).select_related("pinned_by").first()
    if pin is None:
        return "no: the registry decides this alias"
    who = pin.pinned_by.get_username() if pin.pinned_by else "a curator"
    return f"pinned by {who} on {pin.pinned_at:%Y-%m-%d}: {pin.reason} (export_registry --pinned writes it back)"


curator_pin.short_description = "Curator's pin"

admin_extend(Alias, AdminExtension(provenance_fields=(curator_pin,), after_save=_pin_saved_alias))
admin_extend(Model, AdminExtension(after_save_formset=_pin_inline_aliases))
