"""Curators' admin for offer prices: pins on the offer's page, a "disputed" filter and the disputed-prices queue."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from catalog.admin.curated import AdminExtension, admin_extend
from catalog.models import Mapping
from ingestion.models import OfferPin
from ingestion.prices.curation import (
    CurationRefused,
    offer_pin_admin_edits,
    offer_pin_source_value,
    offer_pins_refresh,
    offer_reject_source,
    offers_dispute_rows,
    offers_disputed,
)
from ingestion.prices.resolution import PRICE_RESOLVED_FIELDS

QUEUE_PAGE_SIZE = 50


class OfferPinForm(forms.ModelForm):
    field = forms.ChoiceField(choices=[(name, name) for name in PRICE_RESOLVED_FIELDS])

    class Meta:
        model = OfferPin
        fields = ("field", "value", "reason")


class OfferPinInline(admin.TabularInline):
    """A pinned price wins over the registry and every source, through every load and feed run."""

    model = OfferPin
    form = OfferPinForm
    fields = ("field", "value", "reason", "pinned_by", "pinned_at")
    readonly_fields = ("pinned_by", "pinned_at")
    extra = 0
    verbose_name = "pinned price"
    verbose_name_plural = "pinned prices (win over the registry and every price source)"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        curator = request.user

        class Stamped(formset):  # the curator who adds or changes a pin is the one it names
            def save_new(self, form, commit=True):
                form.instance.pinned_by = curator
                return super().save_new(form, commit)

            def save_existing(self, form, obj, commit=True):
                obj.pinned_by = curator
                return super().save_existing(form, obj, commit)

        return Stamped


class DisputedPricesFilter(admin.SimpleListFilter):
    title = "price sources"
    parameter_name = "prices"

    def lookups(self, request, model_admin):
        return [("disputed", "Disputed"), ("unchecked", "Never confirmed")]

    def queryset(self, request, queryset):
        if self.value() == "disputed":
            return queryset.filter(pk__in=offers_disputed().values("pk"))
        if self.value() == "unchecked":
            return queryset.filter(prices_checked__isnull=True)
        return queryset


def _pin_admin_edits(request, obj, form, change) -> None:
    """Editing a shown price on the offer's page pins it, as editing a model's field does."""
    if change:
        offer_pin_admin_edits(mapping=obj, fields=form.changed_data, reason=obj._change_reason, user=request.user)


def _after_pins_saved(request, form, formset, change) -> None:
    if formset.model is OfferPin and (formset.new_objects or formset.changed_objects or formset.deleted_objects):
        offer_pins_refresh(mapping=form.instance)


def disputed_view(model_admin, request):
    """The curators' queue: offers with a disputed price, each source's value and age, and two actions."""
    if request.method == "POST":
        return _settle(model_admin, request)
    page = Paginator(offers_disputed(), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    offers = list(page.object_list)
    rows = offers_dispute_rows(offers)
    now = timezone.now()
    entries = [
        {
            "offer": offer,
            "url": reverse("admin:catalog_mapping_change", args=[offer.pk]),
            "fields": [
                {
                    "name": name,
                    "shown": (offer.provenance[name] or {}).get("source"),
                    "values": [{"row": row, "age": timesince(row.since, now) if row.since else "—"} for row in values],
                }
                for name, values in sorted(rows.get(offer.pk, {}).items())
            ],
        }
        for offer in offers
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Disputed prices",
        "opts": model_admin.model._meta,
        "page": page,
        "entries": entries,
    }
    return TemplateResponse(request, "admin/ingestion/disputed_prices.html", context)


def _settle(model_admin, request):
    data = request.POST
    mapping = get_object_or_404(Mapping, pk=data.get("mapping"))
    action = {"pin": offer_pin_source_value, "reject": offer_reject_source}.get(data.get("action", ""))
    if action is None or not model_admin.has_change_permission(request, mapping):
        messages.error(request, "Unknown action or not allowed.")
    else:
        try:
            action(
                mapping=mapping,
                field=data.get("field", ""),
                source=data.get("source", ""),
                reason=data.get("reason", ""),
                user=request.user,
            )
        except CurationRefused as exc:
            messages.error(request, f"{mapping.provider_model_id}: {exc}.")
        else:
            done = "pinned" if data["action"] == "pin" else "marked wrong"
            messages.success(request, f"{mapping.provider_model_id} {data['field']}: {data['source']} {done}.")
    return HttpResponseRedirect(request.get_full_path())


def _queue_urls(model_admin) -> list:
    view = model_admin.admin_site.admin_view(lambda request: disputed_view(model_admin, request))
    return [path("disputed/", view, name="catalog_mapping_disputed")]


def prices_checked(obj) -> str:
    return obj.prices_checked.isoformat(timespec="minutes") if obj.prices_checked else "never"


prices_checked.short_description = "Prices checked"


def price_sources(obj) -> str:
    """Per price field: the value shown, who set it (pin, registry or a source) and since when, and what the registry
    and every source hold — so a curator sees on the form which fields are pinned and who disagrees."""
    provenance = {name: entry for name, entry in (obj.provenance or {}).items() if isinstance(entry, dict)}
    if not provenance:
        return "no source has spoken about this offer's prices yet"
    pinned = set(OfferPin.objects.filter(mapping=obj).values_list("field", flat=True))
    rows = format_html_join(
        "",
        "<tr><th scope='row'>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                name.removeprefix("price_"),
                entry.get("value"),
                "pinned" if name in pinned else (entry.get("source") or "—"),
                (entry.get("since") or "")[:10],
                ", ".join(f"{source} {value}" for source, value in sorted((entry.get("values") or {}).items()))
                + (" — disputed" if entry.get("disputed") else ""),
            )
            for name, entry in sorted(provenance.items())
            if name in PRICE_RESOLVED_FIELDS
        ),
    )
    return format_html(
        "<table><thead><tr><th>field</th><th>shown</th><th>set by</th><th>since</th>"
        "<th>the registry and each source say</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


price_sources.short_description = "Price sources"

admin_extend(
    Mapping,
    AdminExtension(
        inlines=(OfferPinInline,),
        provenance_fields=(prices_checked, price_sources),
        list_display=("prices_checked",),
        list_filter=(DisputedPricesFilter,),
        after_save=_pin_admin_edits,
        after_save_formset=_after_pins_saved,
        urls=_queue_urls,
    ),
)
