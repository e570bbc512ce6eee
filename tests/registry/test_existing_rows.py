"""The rows a load compares against, read as text (registry/existing_rows.py): the same values the ORM reads."""

from __future__ import annotations

import pytest

from catalog.models import Mapping, Model
from registry.existing_rows import existing_rows
from registry.loading import registry_load

pytestmark = pytest.mark.django_db


class TestExistingRows:
    def test_compared_json_values_are_what_the_orm_decodes(self, registry_dir):
        registry_load(path=registry_dir)
        fields = ("input_modalities", "capabilities", "registry_values", "provenance", "release_date")
        rows = existing_rows(Model, ("slug",), fields, ())
        assert len(rows) == Model.objects.count()
        for model in Model.objects.values("pk", "slug", *fields):
            assert rows[(model["slug"],)] == model

    def test_emptiness_only_fields_say_whether_a_value_is_there(self, registry_dir):
        registry_load(path=registry_dir)
        Mapping.objects.filter(provider_model_id="deepseek-reasoner").update(registry_values={}, price_tiers=[])
        rows = existing_rows(Mapping, ("provider_model_id",), (), ("registry_values", "price_tiers", "provenance"))
        assert rows[("deepseek-reasoner",)]["registry_values"] is False
        assert rows[("deepseek-reasoner",)]["price_tiers"] is False
        assert rows[("deepseek-reasoner",)]["provenance"] is True
        others = [row for key, row in rows.items() if key != ("deepseek-reasoner",)]
        assert others and all(row["registry_values"] is True for row in others)


class TestReloadComparesTheSame:
    def test_a_reload_refills_what_the_file_states_when_the_row_lost_it(self, registry_dir):
        registry_load(path=registry_dir)
        Mapping.objects.filter(provider_model_id="deepseek-reasoner").update(registry_values={})
        result = registry_load(path=registry_dir)
        assert (result.counts["mappings"].updated, result.rows_written) == (1, 1)
        assert Mapping.objects.get(provider_model_id="deepseek-reasoner").registry_values

    def test_a_changed_json_column_is_written_back(self, registry_dir):
        registry_load(path=registry_dir)
        Model.objects.filter(slug="deepseek-r1").update(capabilities=["made-up"])
        Mapping.objects.filter(provider_model_id="deepseek-reasoner").update(delivery_modes=["batch"])
        result = registry_load(path=registry_dir)
        assert (result.counts["models"].updated, result.counts["mappings"].updated) == (1, 1)
        assert "made-up" not in Model.objects.get(slug="deepseek-r1").capabilities
        assert Mapping.objects.get(provider_model_id="deepseek-reasoner").delivery_modes == ["sync", "streaming"]
        assert registry_load(path=registry_dir).rows_written == 0
