"""Every record editable: slugs follow the registry schema's rule (dots allowed) in the models and the admin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.urls import reverse

from catalog.models import Family, Model, Provider
from catalog.validators import SLUG_PATTERN, slug_problem
from registry.loading import registry_load
from tests.catalog.test_admin import form_data

pytestmark = pytest.mark.django_db

SCHEMA = Path(__file__).resolve().parents[2] / "registry" / "schemas" / "common.schema.json"


def test_the_pattern_is_the_registry_schemas():
    definitions = json.loads(SCHEMA.read_text())["$defs"]
    for name in ("provider_slug", "family_slug", "model_slug"):
        assert definitions[name]["pattern"] == SLUG_PATTERN, name
        assert definitions[name]["not"] == {"pattern": "\\n"}, name


@pytest.mark.parametrize(
    ("model", "max_length"), [(Provider, 100), (Family, 100), (Model, 150)], ids=lambda v: getattr(v, "__name__", v)
)
def test_every_slug_field_keeps_its_column_and_takes_the_rule(model, max_length):
    field = model._meta.get_field("slug")
    assert (field.max_length, field.unique, field.db_index) == (max_length, True, True)
    assert any(getattr(v, "code", "") == "invalid_slug" for v in field.validators)


@pytest.mark.parametrize("slug", ["gpt-4.1", "llama-3.3-70b-instruct", "deepseek-v3.1", "a", "x_y.z-1"])
def test_schema_slugs_are_accepted(slug):
    assert slug_problem(slug) is None


@pytest.mark.parametrize("slug", ["GPT-4.1", ".hidden", "-x", "gpt 4.1", "gpt/4.1", "", "gpt-4.1\n", "ünï"])
def test_slugs_the_schema_refuses_are_refused(slug):
    assert slug_problem(slug) == f"{slug!r} does not match {SLUG_PATTERN!r}"


@pytest.fixture
def dotted(registry_dir) -> Model:
    """The small registry with a real dotted-slug model added (gpt-4.1, as in the bundled registry)."""
    source = (registry_dir / "models" / "openai" / "gpt-4o.yaml").read_text()
    dotted = source.replace("slug: gpt-4o", "slug: gpt-4.1").replace("name: GPT-4o", "name: GPT-4.1")
    dotted = dotted.split("aliases:")[0]
    (registry_dir / "models" / "openai" / "gpt-4.1.yaml").write_text(dotted)
    registry_load(path=registry_dir)
    return Model.objects.get(slug="gpt-4.1")


def change_url(obj) -> str:
    return reverse(f"admin:catalog_{obj._meta.model_name}_change", args=[obj.pk])


class TestAdminSave:
    def test_a_dotted_slug_model_saves_through_the_admin(self, admin_client, dotted):
        data = form_data(admin_client.get(change_url(dotted)))
        data.update(status="deprecated", deprecation_date="2026-07-14", change_reason="deprecated per OpenAI notice")
        response = admin_client.post(change_url(dotted), data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        dotted.refresh_from_db()
        assert (dotted.slug, dotted.status) == ("gpt-4.1", "deprecated")
        assert dotted.history.first().history_change_reason == "deprecated per OpenAI notice"

    def test_a_slug_the_schema_refuses_is_refused_with_its_message(self, admin_client, dotted):
        data = form_data(admin_client.get(change_url(dotted)))
        data.update(slug="GPT 4.1", change_reason="rename")
        response = admin_client.post(change_url(dotted), data)
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors["slug"]
        assert errors == [
            "Enter a valid slug: lowercase letters, digits, dots, hyphens and underscores, starting with a letter or "
            f"digit ('GPT 4.1' does not match {SLUG_PATTERN!r})."
        ]
        assert Model.objects.filter(slug="gpt-4.1").exists()

    def test_a_dotted_provider_and_family_save_too(self, admin_client, dotted):
        for obj, slug in ((dotted.creator, "open.ai"), (dotted.family, "gpt-4.x")):
            data = form_data(admin_client.get(change_url(obj)))
            data.update(slug=slug, change_reason="dotted slug")
            response = admin_client.post(change_url(obj), data)
            assert response.status_code == 302, response.context["adminform"].form.errors
            obj.refresh_from_db()
            assert obj.slug == slug
