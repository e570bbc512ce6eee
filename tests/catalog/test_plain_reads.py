"""The API's plain-SQL reads answer what the ORM reads they replace answer: the model look-up by slug or alias and
one model's offers to rank."""

from __future__ import annotations

import pytest

from catalog.models import Alias, Model
from catalog.ranking import offers_to_rank, offers_to_rank_of_model
from catalog.resolution import model_lookup_exact
from catalog.selectors import model_ref_by_id_or_alias
from registry.loading import registry_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db, registry_dir) -> None:
    registry_load(path=registry_dir)


class TestModelRefByIdOrAlias:
    def test_same_model_and_match_as_the_exact_lookup(self, catalogue):
        alias = Alias.objects.select_related("model").first()
        names = ["gpt-4o", "GPT-4O", "openai/gpt-4o", "OpenAI/GPT-4o", alias.alias, alias.alias.upper(), "nothing-x"]
        for name in names:
            found = model_lookup_exact(name)
            ref = model_ref_by_id_or_alias(name)
            if found is None:
                assert ref is None, name
                continue
            model, match = found
            assert ref is not None, name
            assert (ref.pk, ref.slug, ref.name, ref.match) == (model.pk, model.slug, model.name, match), name
            assert (ref.creator_id, ref.family_id, ref.successor_id) == (
                model.creator_id,
                model.family_id,
                model.successor_id,
            )

    def test_empty_name_is_no_model(self, catalogue):
        assert model_ref_by_id_or_alias("") is None


class TestOffersToRankOfModel:
    def test_same_offers_columns_and_providers_as_the_queryset(self, catalogue):
        for model in Model.objects.all():
            plain = offers_to_rank_of_model(model.pk)
            orm = list(offers_to_rank([model.pk]))
            assert [m.pk for m in plain] == [m.pk for m in orm]
            for a, b in zip(plain, orm, strict=True):
                loaded = {f.attname for f in type(b)._meta.concrete_fields} - b.get_deferred_fields()
                assert {name: getattr(a, name) for name in loaded} == {name: getattr(b, name) for name in loaded}
                assert a.get_deferred_fields() == b.get_deferred_fields()
                assert (a.provider.pk, a.provider.slug, a.provider.name) == (
                    b.provider.pk,
                    b.provider.slug,
                    b.provider.name,
                )

    def test_a_narrow_column_set_reads_those_columns_and_defers_the_rest(self, catalogue):
        narrow = ("provider", "model", "provider_model_id", "price_input", "price_output", "billing", "status")
        for model in Model.objects.filter(mappings__isnull=False).distinct()[:20]:
            plain = offers_to_rank_of_model(model.pk, narrow)
            orm = list(offers_to_rank([model.pk]).only(*narrow, "provider__slug", "provider__name"))
            assert [m.pk for m in plain] == [m.pk for m in orm]
            for a, b in zip(plain, orm, strict=True):
                assert a.get_deferred_fields() == b.get_deferred_fields()
                assert "price_tiers" in a.get_deferred_fields() and "provenance" in a.get_deferred_fields()
                assert {name: getattr(a, name) for name in ("price_input", "price_output", "billing", "status")} == {
                    name: getattr(b, name) for name in ("price_input", "price_output", "billing", "status")
                }
                assert (a.provider.slug, a.provider.name) == (b.provider.slug, b.provider.name)
