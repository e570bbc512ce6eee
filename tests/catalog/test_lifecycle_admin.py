"""The admin's lifecycle rules: a successor is never the model itself nor a loop; offers and aliases show theirs."""

from __future__ import annotations

import pytest

from catalog.models import Model
from tests.catalog.test_admin import change_url, form_data, make_graph

pytestmark = pytest.mark.django_db


def save_successor(admin_client, model: Model, successor: Model):
    data = form_data(admin_client.get(change_url(model)))
    data |= {"successor": str(successor.pk), "change_reason": "successor by hand"}
    return admin_client.post(change_url(model), data)


class TestSuccessorInTheModelForm:
    def test_a_model_cannot_succeed_itself(self, admin_client):
        (model,) = make_graph(1)
        response = save_successor(admin_client, model, model)
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors["successor"]
        assert errors == ["'model-0' cannot be the successor of this model: a model cannot succeed itself."]
        model.refresh_from_db()
        assert model.successor_id is None

    def test_a_successor_closing_a_loop_is_refused(self, admin_client):
        first, second, third = make_graph(3)
        Model.objects.filter(pk=second.pk).update(successor=third)
        Model.objects.filter(pk=third.pk).update(successor=first)
        response = save_successor(admin_client, first, second)
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["successor"] == [
            "'model-1' cannot be the successor of this model: the link would close a successor loop."
        ]
        first.refresh_from_db()
        assert first.successor_id is None

    def test_a_successor_that_ends_a_chain_is_saved(self, admin_client):
        first, second = make_graph(2)
        assert save_successor(admin_client, first, second).status_code == 302
        first.refresh_from_db()
        assert first.successor_id == second.pk


def test_offer_and_alias_inlines_show_their_lifecycle(admin_client):
    (model,) = make_graph(1)
    form_fields = admin_client.get(change_url(model)).context["inline_admin_formsets"]
    fields = {inline.formset.prefix: set(inline.formset.form.base_fields) for inline in form_fields}
    assert {"status", "retirement_date"} <= fields["aliases"]
    assert {"status", "retirement_date", "served_by", "variant"} <= fields["mappings"]
