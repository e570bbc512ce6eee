"""The model change form stays fast and small however many offers the model has: a limited offer inline and a
"show all" link to the offers' own list. Run with `-s` to print the time and size measured."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.urls import reverse
from model_bakery import baker

from catalog.models import Mapping, Model, Provider

pytestmark = pytest.mark.django_db

OFFERS = 48
MAX_BYTES = 150_000  # measured with 48 offers: 505 KB (all inline, 15 prices each) before, 123 KB now


@pytest.fixture
def busy_model() -> Model:
    model = baker.make(Model, slug="llama-3.3-70b-instruct", name="Llama 3.3 70B Instruct")
    for i in range(OFFERS):
        provider = baker.make(Provider, slug=f"host-{i:02d}", name=f"Host {i:02d}")
        baker.make(
            Mapping,
            provider=provider,
            model=model,
            provider_model_id=f"meta-llama/llama-3.3-70b-instruct-{i}",
            price_input=Decimal("0.59"),
            price_output=Decimal("0.79"),
        )
    return model


def test_the_change_form_with_many_offers_is_bounded(admin_client, busy_model):
    url = reverse("admin:catalog_model_change", args=[busy_model.pk])
    admin_client.get(url)  # warm the template cache
    started = time.perf_counter()
    response = admin_client.get(url)
    seconds = time.perf_counter() - started
    print(f"\nmodel change form with {OFFERS} offers: {seconds:.3f} s, {len(response.content):,} bytes")
    assert response.status_code == 200
    assert len(response.content) < MAX_BYTES


def test_the_form_shows_ten_offers_and_links_to_all(admin_client, busy_model):
    response = admin_client.get(reverse("admin:catalog_model_change", args=[busy_model.pk]))
    offers = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "mappings")
    assert len(offers.formset.forms) == 10 and offers.formset.total == OFFERS
    link = f"{reverse('admin:catalog_mapping_changelist')}?model__id__exact={busy_model.pk}"
    assert f"Showing 10 of {OFFERS} offers" in response.content.decode() and link in response.content.decode()
    listed = admin_client.get(link)
    assert listed.status_code == 200 and listed.context["cl"].result_count == OFFERS


def test_an_offer_edited_inline_saves_and_the_others_are_kept(admin_client, busy_model):
    from tests.catalog.test_admin import form_data

    url = reverse("admin:catalog_model_change", args=[busy_model.pk])
    data = form_data(admin_client.get(url))
    assert data["mappings-TOTAL_FORMS"] == "10" and data["mappings-INITIAL_FORMS"] == "10"
    data["mappings-0-price_output"] = "0.80"
    data["change_reason"] = "Groq output price per its pricing page"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    first = Mapping.objects.get(pk=data["mappings-0-id"])
    assert first.price_output == Decimal("0.80")
    assert Mapping.objects.filter(model=busy_model).count() == OFFERS
    assert Mapping.objects.filter(model=busy_model, price_output=Decimal("0.79")).count() == OFFERS - 1


def test_prices_show_their_units(admin_client, busy_model):
    offer = busy_model.mappings.first()
    html = admin_client.get(reverse("admin:catalog_mapping_change", args=[offer.pk])).content.decode()
    assert "Output ($ / 1M tokens)" in html and "Per request ($ per request)" in html
    assert "Web search ($ per 1,000 searches)" in html
    inline = admin_client.get(reverse("admin:catalog_model_change", args=[busy_model.pk])).content.decode()
    assert "Input ($ / 1M tokens)" in inline
