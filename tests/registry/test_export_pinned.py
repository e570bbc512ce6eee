"""Curators' edits last and find their way back to the registry: pinned model fields, a curator's alias and pinned
offer prices and facts survive a registry load; `export_registry --pinned` writes them as registry YAML, and loading
that into a fresh catalogue gives the same answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
import yaml
from django.core.management import call_command

from catalog.models import Alias, Mapping, Model, Provider
from catalog.resolution import model_lookup_exact
from ingestion.alias_pins import alias_pin, alias_release
from ingestion.models import AliasPin
from ingestion.prices.curation import offer_pin_admin_edits
from ingestion.provenance import field_pin
from registry.loading import registry_load

pytestmark = pytest.mark.django_db


def groq_offer() -> Mapping:
    return Mapping.objects.get(provider__slug="groq", provider_model_id="llama-3.3-70b-versatile")


def answers() -> dict:
    """What the catalogue answers about the curated records."""
    model = Model.objects.get(slug="gpt-4o-mini")
    offer = groq_offer()
    found = model_lookup_exact("my-team/gpt-4o-mini")
    return {
        "status": model.status,
        "successor": model.successor.slug if model.successor else None,
        "alias": found[0].slug if found else None,
        "price_output": offer.price_output,
        "context_window": offer.context_window,
        "retirement_date": offer.retirement_date,
    }


@pytest.fixture
def curated(registry_dir):
    registry_load(path=registry_dir)
    mini = Model.objects.get(slug="gpt-4o-mini")
    field_pin(model=mini, field="status", value="deprecated", reason="OpenAI notice")
    field_pin(model=mini, field="successor", value="gpt-4o", reason="OpenAI notice")
    alias = Alias.objects.create(alias="my-team/gpt-4o-mini", model=mini, in_registry=False)
    alias_pin(alias=alias, reason="our gateway's name")
    offer = groq_offer()
    offer.price_output, offer.context_window = Decimal("0.80"), 65536
    offer.retirement_date = dt.date(2027, 1, 31)
    offer.save()
    offer_pin_admin_edits(
        mapping=offer, fields=["price_output", "context_window", "retirement_date"], reason="Groq pricing page"
    )
    return registry_dir


EXPECTED = {
    "status": "deprecated",
    "successor": "gpt-4o",
    "alias": "gpt-4o-mini",
    "price_output": Decimal("0.8"),
    "context_window": 65536,
    "retirement_date": dt.date(2027, 1, 31),
}


class TestEditsLast:
    def test_a_registry_load_keeps_every_pin_and_the_curators_alias(self, curated):
        assert answers() == EXPECTED
        registry_load(path=curated)
        assert answers() == EXPECTED
        assert registry_load(path=curated).rows_written == 0  # and a second load has nothing to fight about

    def test_a_released_alias_pin_lets_the_registry_decide_again(self, curated):
        alias = Alias.objects.get(alias="my-team/gpt-4o-mini")
        assert alias_release(alias=alias) and not AliasPin.objects.exists()
        registry_load(path=curated)
        alias.refresh_from_db()
        assert alias.in_registry is False  # not the registry's: listed as such for the curators


class TestExportPinned:
    def test_the_export_carries_the_curators_changes_into_a_fresh_catalogue(self, curated, tmp_path):
        out = tmp_path / "export"
        call_command("export_registry", "--out", str(out), "--pinned", stdout=StringIO())
        document = yaml.safe_load((out / "models" / "openai" / "gpt-4o-mini.yaml").read_text())
        assert (document["status"], document["successor"]) == ("deprecated", "gpt-4o")
        assert "my-team/gpt-4o-mini" in document["aliases"]
        offers = yaml.safe_load((out / "mappings" / "groq" / "llama-3.3-70b-instruct.yaml").read_text())["offers"]
        [groq] = [o for o in offers if o["provider_model_id"] == "llama-3.3-70b-versatile"]
        assert (groq["pricing"]["output"], groq["context_window"], groq["retirement_date"]) == (
            0.8,
            65536,
            "2027-01-31",
        )
        Model.objects.all().delete()  # a fresh catalogue: nothing but the exported registry
        Provider.objects.all().delete()
        registry_load(path=out)
        assert answers() == EXPECTED

    def test_without_pinned_the_export_is_the_registry_tier(self, curated, tmp_path):
        out = tmp_path / "plain"
        call_command("export_registry", "--out", str(out), stdout=StringIO())
        document = yaml.safe_load((out / "models" / "openai" / "gpt-4o-mini.yaml").read_text())
        assert document.get("status") != "deprecated" and "my-team/gpt-4o-mini" not in document.get("aliases", [])


class TestAdminExport:
    def test_the_models_list_offers_the_pinned_export_as_a_zip(self, curated, admin_client):
        import io
        import zipfile

        from django.urls import reverse

        listing = admin_client.get(reverse("admin:catalog_model_changelist")).content.decode()
        url = reverse("admin:catalog_model_export_pinned")
        assert url in listing and "Export curators" in listing
        response = admin_client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        document = yaml.safe_load(archive.read("registry/models/openai/gpt-4o-mini.yaml"))
        assert document["status"] == "deprecated" and "my-team/gpt-4o-mini" in document["aliases"]

    def test_anonymous_users_get_the_login_page(self, curated, client):
        from django.urls import reverse

        response = client.get(reverse("admin:catalog_model_export_pinned"))
        assert response.status_code == 302 and "/login/" in response["Location"]
