"""History that tells the story: loads and ingestion named as the actor, a model's history with its aliases and
offers, the provenance table's "since", and list filters with a search box."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Mapping, Model
from registry.loading import registry_load
from tests.catalog.test_admin import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(registry_dir) -> Model:
    registry_load(path=registry_dir)
    return Model.objects.get(slug="llama-3.3-70b-instruct")


def history(admin_client, model: Model) -> str:
    response = admin_client.get(reverse("admin:catalog_model_history", args=[model.pk]))
    assert response.status_code == 200
    return response.content.decode()


def cells(html: str, table_id: str) -> list[list[str]]:
    table = html.split(f'id="{table_id}"')[1].split("</table>")[0]
    return [
        [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


def test_a_registry_load_is_named_as_the_actor(admin_client, loaded):
    html = history(admin_client, loaded)
    rows = [row for row in cells(html, "change-history") if row]
    assert rows and all(row[-3] == "registry load" for row in rows)  # "Changed by", not "None"
    assert ">None<" not in html.split('id="change-history"')[1].split("</table>")[0]


def test_a_models_history_includes_its_aliases_and_offers(admin_client, admin_user, loaded):
    offer = Mapping.objects.get(model=loaded, provider__slug="groq")
    url = reverse("admin:catalog_mapping_change", args=[offer.pk])
    data = form_data(admin_client.get(url))
    data.update(price_output="0.80", change_reason="Groq pricing page, 2026-12-01")
    assert admin_client.post(url, data).status_code == 302
    offer.refresh_from_db()
    offer.price_input, offer._change_reason = Decimal("0.60"), "ingestion: openrouter"
    offer.save()

    html = history(admin_client, loaded)
    related = html.split('id="related-history"')[1]
    rows = [
        [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<td>(.*?)</td>", r, re.S)]
        for r in re.findall(r"<tr>(.*?)</tr>", related, re.S)
    ]
    rows = [r for r in rows if r]
    newest, curated = rows[0], rows[1]
    assert newest[1] == "offer groq: llama-3.3-70b-versatile" and newest[3] == "ingestion: openrouter"
    assert "price_input: 0.590000 → 0.600000" in newest[5]
    assert (curated[3], curated[4]) == (admin_user.username, "Groq pricing page, 2026-12-01")
    assert "price_output: 0.790000 → 0.800000" in curated[5]
    aliases = [r for r in rows if r[1].startswith("alias ")]
    assert aliases and all(r[3] == "registry load" for r in aliases)
    assert f'href="{url}"' in related


def test_the_provenance_since_column_is_filled(admin_client, loaded):
    html = admin_client.get(reverse("admin:catalog_model_change", args=[loaded.pk])).content.decode()
    table = html.split("<th>since</th>")[1].split("</table>")[0]
    rows = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    registry = [row for row in rows if row[2] == "registry"]
    assert registry and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row[3]) for row in registry)


def test_a_provider_filter_has_a_search_box(admin_client, loaded):
    url = reverse("admin:catalog_mapping_changelist")
    html = admin_client.get(url, {"status": "active"}).content.decode()
    assert '<input type="search" name="provider" list="filter-provider-choices"' in html
    assert '<option value="groq">' in html and '<input type="hidden" name="status" value="active">' in html
    response = admin_client.get(url, {"provider": "groq"})
    assert {m.provider.slug for m in response.context["cl"].result_list} == {"groq"}
    models = admin_client.get(reverse("admin:catalog_model_changelist"), {"served_by": "groq"})
    assert [m.slug for m in models.context["cl"].result_list] == ["llama-3.3-70b-instruct"]
    assert 'list="filter-served_by-choices"' in models.content.decode()
