"""A curator's day in real Chromium, through the real login form: fix a price on a dotted-slug model's offer and
see it survive a registry load marked pinned; add an alias inline on that model; deprecate a model with a successor;
export the curators' changes and load them into a fresh catalogue with the same answers; run a source on an
install that has never run one."""

from __future__ import annotations

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from catalog.models import Alias, Mapping, Model, Provider
from ingestion.models import AliasPin, IngestionRun, OfferPin
from registry.loading import registry_load

PASSWORD = "curator-password-1"


@pytest.fixture
def curator(site):
    return get_user_model().objects.create_superuser("curator", "curator@example.org", PASSWORD)


def groq_offer() -> Mapping:
    return Mapping.objects.get(provider__slug="groq", provider_model_id="llama-3.3-70b-versatile")


def log_in(session) -> None:
    session.goto("/admin/login/?next=/admin/")
    session.page.fill("#id_username", "curator")
    session.page.fill("#id_password", PASSWORD)
    session.page.click("input[type=submit]")
    session.page.wait_for_selector("#site-name")


def save_with_reason(session, reason: str) -> None:
    session.page.fill("#id_change_reason", reason)
    session.page.click("input[name=_save]")
    session.page.wait_for_selector("ul.messagelist li.success")


def test_a_curators_day(desktop, curator, registry_dir, tmp_path):
    session, page = desktop, desktop.page
    log_in(session)

    # 1. Fix a price on an offer of a dotted-slug model (llama-3.3-70b-instruct): Groq output 0.79 → 0.80.
    offer = groq_offer()
    assert offer.model.slug == "llama-3.3-70b-instruct" and offer.price_output == Decimal("0.79")
    session.goto(f"/admin/catalog/mapping/{offer.pk}/change/")
    page.fill("#id_price_output", "0.80")
    save_with_reason(session, "Groq pricing page, 3 Dec")
    assert groq_offer().price_output == Decimal("0.8")

    # 2. A registry load keeps the fix, and the offer's page says it is pinned.
    registry_load(path=registry_dir)
    assert groq_offer().price_output == Decimal("0.8")
    session.goto(f"/admin/catalog/mapping/{offer.pk}/change/")
    assert page.input_value("#id_price_output") in ("0.8", "0.80", "0.800000")
    sources = page.locator("tr:has(th:text-is('output'))").first.inner_text()
    assert "pinned" in sources and "registry 0.79" in sources  # the form says what is pinned and what the file says
    pins = page.locator("#pins-group")
    assert "price_output" in pins.inner_text() and "Groq pricing page" in pins.inner_html()
    session.screenshot("curator-offer-pinned")

    # 3. Add an alias inline on the dotted-slug model's form (the form saves: dots are allowed in slugs).
    model = offer.model
    session.goto(f"/admin/catalog/model/{model.pk}/change/")
    page.click("#aliases-group .add-row a")
    row = page.locator("#aliases-group tr.form-row.dynamic-aliases").last
    row.locator("input[name$='-alias']").fill("team-gateway/llama-3.3-70b")
    save_with_reason(session, "our gateway's name for it")
    assert AliasPin.objects.filter(alias__alias="team-gateway/llama-3.3-70b", alias__model=model).exists()

    # 4. Deprecate gpt-4o-mini with gpt-4o as its successor (the successor picked in the autocomplete).
    mini = Model.objects.get(slug="gpt-4o-mini")
    session.goto(f"/admin/catalog/model/{mini.pk}/change/")
    page.select_option("#id_status", "deprecated")
    page.click("#id_successor + .select2 .select2-selection")
    page.fill(".select2-search__field", "gpt-4o")
    page.locator(".select2-results__option", has_text=re.compile(r"^GPT-4o$|gpt-4o$")).first.click()
    save_with_reason(session, "OpenAI deprecation notice")
    mini.refresh_from_db()
    assert (mini.status, mini.successor.slug) == ("deprecated", "gpt-4o")
    registry_load(path=registry_dir)
    mini.refresh_from_db()
    assert (mini.status, mini.successor.slug) == ("deprecated", "gpt-4o")
    session.goto("/models/gpt-4o-mini")
    assert "deprecated" in page.inner_text("main").lower()

    # 5. Export the curators' changes; a fresh catalogue loaded from the export answers the same.
    before = answers()
    out = tmp_path / "export"
    call_command("export_registry", "--out", str(out), "--pinned", stdout=StringIO())
    OfferPin.objects.all().delete()
    Model.objects.all().delete()
    Provider.objects.all().delete()
    assert not Alias.objects.exists()
    registry_load(path=out)
    assert answers() == before

    # 6. Run a source on an install that has never run one: no run needs selecting first.
    IngestionRun.objects.all().delete()
    session.goto("/admin/ingestion/ingestionrun/")
    page.select_option("#run-now-source", "openrouter-snapshot")
    page.click("form.run-now button[type=submit]")
    page.wait_for_selector("ul.messagelist li")
    assert IngestionRun.objects.filter(source="openrouter-snapshot").exists()
    session.screenshot("curator-run-now")


def answers() -> dict:
    offer, mini = groq_offer(), Model.objects.get(slug="gpt-4o-mini")
    alias = Alias.objects.get(alias="team-gateway/llama-3.3-70b")
    return {
        "price_output": offer.price_output,
        "alias": alias.model.slug,
        "status": mini.status,
        "successor": mini.successor.slug if mini.successor else None,
    }
