"""A curator's alias in the admin (the model form's inline or the Alias admin) is pinned and survives a registry
load; the alias form says who pinned it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.models import Alias, Model
from catalog.resolution import model_lookup_exact
from ingestion.models import AliasPin
from registry.loading import registry_load
from tests.catalog.test_admin import form_data

pytestmark = pytest.mark.django_db


def change_url(obj) -> str:
    return reverse(f"admin:catalog_{obj._meta.model_name}_change", args=[obj.pk])


def test_an_inline_alias_is_pinned_and_kept_by_the_next_load(admin_client, admin_user, registry_dir):
    registry_load(path=registry_dir)
    model = Model.objects.get(slug="gpt-4o")
    data = form_data(admin_client.get(change_url(model)))
    count = int(data["aliases-TOTAL_FORMS"])
    data |= {
        "aliases-TOTAL_FORMS": str(count + 1),
        f"aliases-{count}-alias": "team-gateway/gpt-4o",
        f"aliases-{count}-model": str(model.pk),
        f"aliases-{count}-status": "active",
        "change_reason": "our gateway's name",
    }
    response = admin_client.post(change_url(model), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    pin = AliasPin.objects.get(alias__alias="team-gateway/gpt-4o")
    assert (pin.pinned_by, pin.reason) == (admin_user, "our gateway's name")
    registry_load(path=registry_dir)
    assert model_lookup_exact("team-gateway/gpt-4o")[0].slug == "gpt-4o"
    page = admin_client.get(change_url(Alias.objects.get(alias="team-gateway/gpt-4o"))).content.decode()
    assert f"pinned by {admin_user.get_username()}" in page


def test_an_alias_added_in_the_alias_admin_is_pinned(admin_client, registry_dir):
    registry_load(path=registry_dir)
    model = Model.objects.get(slug="deepseek-r1")
    response = admin_client.post(
        reverse("admin:catalog_alias_add"), {"alias": "r1-latest-internal", "model": model.pk, "status": "active"}
    )
    assert response.status_code == 302
    assert AliasPin.objects.filter(alias__alias="r1-latest-internal").exists()
    registry_load(path=registry_dir)
    assert Alias.objects.get(alias="r1-latest-internal").model == model
