"""The curators' disputed-prices queue and offer pins in the admin, through the real admin views."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Mapping
from ingestion.models import IngestionRun, OfferPin, SourceRejection, Tier
from ingestion.prices.apply import ingestion_apply_prices
from ingestion.prices.statements import PriceStatement
from tests.recipes import offer

pytestmark = pytest.mark.django_db

QUEUE = "admin:catalog_mapping_disputed"
STATED = dt.datetime(2026, 7, 24, tzinfo=dt.UTC)


def disputed_offer(**prices) -> Mapping:
    """A registry offer at 3 / 15 that LiteLLM prices at 3.3 / 15 (a +10% regional id, say)."""
    mapping = offer.make(source="registry", price_input=Decimal("3"), price_output=Decimal("15"))
    statement = PriceStatement(
        source="litellm",
        provider_key="bedrock",
        model_key=mapping.provider_model_id,
        fields={"price_input": Decimal("3.3"), "price_output": Decimal("15")},
        observed_at=STATED,
        valid_from=STATED,
    )
    run = IngestionRun.objects.create(source="litellm", tier=Tier.PRICE_FEEDS, status="success")
    ingestion_apply_prices(run=run, statements=[(mapping, statement)])
    return Mapping.objects.get(pk=mapping.pk)


def settle(admin_client, mapping: Mapping, action: str, reason: str = "checked the provider's page"):
    data = {"mapping": mapping.pk, "field": "price_input", "source": "litellm", "action": action, "reason": reason}
    return admin_client.post(reverse(QUEUE), data)


class TestQueue:
    def test_lists_each_sources_value_and_its_age(self, admin_client):
        mapping = disputed_offer()
        page = admin_client.get(reverse(QUEUE)).content.decode()
        assert mapping.provider_model_id in page
        assert "price_input" in page and "price_output" not in page  # only the disputed field
        assert "3.3" in page and "litellm" in page and "registry" in page
        assert "ago" in page

    def test_query_count_does_not_grow_with_the_queue(self, admin_client):
        disputed_offer()
        admin_client.get(reverse(QUEUE))  # session, permissions and content types warmed
        with CaptureQueriesContext(connection) as one:
            admin_client.get(reverse(QUEUE))
        for _ in range(4):
            disputed_offer()
        with CaptureQueriesContext(connection) as five:
            admin_client.get(reverse(QUEUE))
        assert len(five) == len(one)

    def test_accepting_a_sources_value_pins_it_and_settles_the_dispute(self, admin_client, admin_user):
        mapping = disputed_offer()
        settle(admin_client, mapping, "pin")
        pin = OfferPin.objects.get(mapping=mapping, field="price_input")
        assert (pin.value, pin.pinned_by) == ("3.3", admin_user)
        shown = Mapping.objects.get(pk=mapping.pk)
        assert shown.price_input == Decimal("3.3")
        assert shown.provenance["price_input"]["source"] == "pin"
        assert shown.provenance["price_input"]["disputed"] is False
        assert mapping.provider_model_id not in admin_client.get(reverse(QUEUE)).content.decode()

    def test_a_reason_is_required(self, admin_client):
        mapping = disputed_offer()
        response = settle(admin_client, mapping, "pin", reason=" ")
        assert not OfferPin.objects.exists()
        messages = [str(m) for m in response.wsgi_request._messages]
        assert any("a reason is required" in m for m in messages)

    def test_marking_a_source_wrong_removes_it_from_the_vote(self, admin_client):
        mapping = disputed_offer()
        settle(admin_client, mapping, "reject", reason="regional id, +10%")
        assert SourceRejection.objects.filter(mapping=mapping, source="litellm", field="price_input").exists()
        shown = Mapping.objects.get(pk=mapping.pk)
        assert shown.price_input == Decimal("3")
        assert shown.provenance["price_input"]["disputed"] is False
        assert shown.provenance["price_input"]["values"] == {"registry": "3"}


class TestMappingAdmin:
    def test_the_change_page_edits_pins_and_shows_when_prices_were_checked(self, admin_client):
        mapping = disputed_offer()
        page = admin_client.get(reverse("admin:catalog_mapping_change", args=[mapping.pk])).content.decode()
        assert "Pinned prices" in page and 'name="pins-TOTAL_FORMS"' in page
        assert "Prices checked" in page

    def test_a_pin_added_on_the_change_page_wins_at_once(self, admin_client, admin_user):
        mapping = disputed_offer()
        url = reverse("admin:catalog_mapping_change", args=[mapping.pk])
        data = _change_form_data(admin_client.get(url))
        data.update(
            {
                "pins-TOTAL_FORMS": "1",
                "pins-0-field": "price_input",
                "pins-0-value": '"3.15"',
                "pins-0-reason": "provider's pricing page, 2026-08-01",
                "change_reason": "pinned input price",
            }
        )
        response = admin_client.post(url, data)
        assert response.status_code == 302, response.context["errors"] if response.context else response
        pin = OfferPin.objects.get(mapping=mapping)
        assert (pin.field, pin.value, pin.pinned_by) == ("price_input", "3.15", admin_user)
        shown = Mapping.objects.get(pk=mapping.pk)
        assert shown.price_input == Decimal("3.15") and shown.provenance["price_input"]["source"] == "pin"

    def test_editing_a_price_on_the_change_page_pins_it(self, admin_client):
        mapping = disputed_offer()
        url = reverse("admin:catalog_mapping_change", args=[mapping.pk])
        data = _change_form_data(admin_client.get(url))
        data.update({"price_output": "14.5", "change_reason": "provider cut the output price"})
        assert admin_client.post(url, data).status_code == 302
        pin = OfferPin.objects.get(mapping=mapping)
        assert (pin.field, pin.value, pin.reason) == ("price_output", "14.5", "provider cut the output price")
        statement = PriceStatement("litellm", "bedrock", "x", {"price_output": Decimal("15")}, STATED, None, STATED)
        run = IngestionRun.objects.create(source="litellm", tier=Tier.PRICE_FEEDS, status="success")
        ingestion_apply_prices(run=run, statements=[(mapping, statement)])
        assert Mapping.objects.get(pk=mapping.pk).price_output == Decimal("14.5")

    def test_the_changelist_filters_disputed_offers(self, admin_client):
        mapping = disputed_offer()
        calm = offer.make(source="registry")
        page = admin_client.get(reverse("admin:catalog_mapping_changelist") + "?prices=disputed").content.decode()
        assert mapping.provider_model_id in page and calm.provider_model_id not in page


def _change_form_data(response) -> dict:
    """The change form as the browser would submit it unchanged: the main form and every inline formset."""
    data = {}
    every_form = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        every_form.extend(formset.forms)
        management = formset.management_form
        data.update({management.add_prefix(name): value for name, value in management.initial.items()})
    for form in every_form:
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if value is None or name == "change_reason":
                continue
            if isinstance(field, forms.MultipleChoiceField):
                value = list(value)
            elif isinstance(value, list | dict):
                value = json.dumps(value)
            if isinstance(value, bool):
                if not value:
                    continue
                value = "on"
            data[form.add_prefix(name)] = value
    return data
