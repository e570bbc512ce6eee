"""One uptime figure per offer and window: the compare API, the telemetry API, the model page and the provider page
print the same string; a provider's API health is shown as the provider's, never as an offer's (issue 15, point 4)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Mapping
from telemetry.rollups import floor_hour
from telemetry.services import telemetry_rollup_range
from tests import recipes
from tests.telemetry.conftest import add_health, add_latency
from web.templatetags.web_format import percent

pytestmark = pytest.mark.django_db

UPTIME_CELL = re.compile(r'<td class="num uptime">(.*?)</td>', re.S)


@pytest.fixture
def seeded(db) -> dict[str, Mapping]:
    """gpt-4o at Groq (599 of 600 health checks passed, and failed latency probes that are not uptime) and at OpenAI
    (the dated id, never probed on its own, while OpenAI's API answered every check)."""
    model = recipes.text_model.make(slug="gpt-4o", name="GPT-4o")
    groq = recipes.provider.make(slug="groq", name="Groq")
    openai = recipes.provider.make(slug="openai", name="OpenAI")
    price = {"price_input": Decimal("2.50"), "price_output": Decimal("10.00")}
    offers = {
        "groq": recipes.offer.make(model=model, provider=groq, provider_model_id="gpt-4o", **price),
        "openai": recipes.offer.make(model=model, provider=openai, provider_model_id="gpt-4o-2024-08-06", **price),
    }
    this_hour = floor_hour(timezone.now())
    start = this_hour - timedelta(hours=30)
    mapping = offers["groq"]
    add_health(groq, start, mapping=mapping, count=599, every=timedelta(minutes=2))
    add_health(groq, start + timedelta(minutes=1), mapping=mapping, outcome="failure")
    add_latency(mapping, start, ttft_ms=[300.0] * 10)
    add_latency(mapping, start + timedelta(minutes=7), outcome="failure", ttft_ms=[None] * 4, total_ms=[None] * 4)
    add_health(openai, start, count=200)  # OpenAI's API (no mapping): the provider's figure
    telemetry_rollup_range(start=this_hour - timedelta(days=8), end=this_hour + timedelta(hours=1))
    return offers


def page_row(page: str, marker: str) -> str:
    """The one row of the page's offers table (the provider page has chart tables above it) naming `marker`."""
    offers = page[page.index('class="sticky-first') :]
    table = offers[offers.index("<tbody") : offers.index("</tbody>")]
    (row,) = [row for row in table.split("<tr")[1:] if marker in row]
    return row


def uptime_cell(row: str) -> str:
    return UPTIME_CELL.search(row).group(1)


def compare_rows(client) -> dict[str, dict]:
    rows = client.get("/api/models/gpt-4o/compare").json()["results"]
    return {row["provider"]["slug"]: row for row in rows}


class TestOneUptimeEverywhere:
    def test_api_model_page_and_provider_page_show_the_same_uptime(self, seeded, client):
        compare = compare_rows(client)["groq"]
        assert compare["uptime"] == 0.9983 and compare["measured"] and compare["window"] == "7d"
        assert compare["samples"]["uptime"] == 600  # health checks only: the latency probes are not in it
        shown = percent(compare["uptime"])
        assert shown == "99.83%"
        model_page = client.get("/models/gpt-4o").content.decode()
        assert uptime_cell(page_row(model_page, 'href="/providers/groq')) == shown
        provider_page = client.get("/providers/groq?window=7d").content.decode()
        assert uptime_cell(page_row(provider_page, 'href="/models/gpt-4o')) == shown
        (health,) = client.get("/api/telemetry/health/groq?window=7d").json()["mappings"]
        assert percent(health["uptime"]) == shown
        (ranked,) = [r for r in client.get("/api/telemetry/ranked/gpt-4o").json()["providers"] if r["uptime"]]
        assert percent(ranked["uptime"]) == shown


class TestProviderFiguresAreTheProviders:
    def test_an_unprobed_offer_shows_no_uptime_of_its_own_and_no_score(self, seeded, client):
        compare = compare_rows(client)
        openai = compare["openai"]
        assert openai["uptime"] is None and openai["score"] is None and openai["measured"] is False
        assert openai["provider_uptime"] == {"scope": "provider_api", "uptime": 1.0, "samples": 200, "window": "7d"}
        assert list(compare) == ["groq", "openai"]  # measured first

    def test_the_model_page_labels_the_provider_uptime_as_the_providers(self, seeded, client):
        page = client.get("/models/gpt-4o").content.decode()
        row = page_row(page, 'href="/providers/openai')
        assert "100.00%" not in uptime_cell(row) and "not measured" in uptime_cell(row)
        assert "OpenAI API uptime (provider-wide): 100.00%" in row
        assert '<span class="muted">not measured</span>' in row  # the score cell
        assert "not measured" not in page_row(page, 'href="/providers/groq')

    def test_the_provider_page_keeps_its_api_uptime_apart_from_the_offers(self, seeded, client):
        page = client.get("/providers/openai").content.decode()
        assert "API uptime" in page and "100.00%" in page
        row = page_row(page, 'href="/models/gpt-4o')
        assert "100.00%" not in uptime_cell(row) and "not measured" in uptime_cell(row)

    def test_the_openapi_schema_documents_the_markers(self, client):
        schema = client.get("/api/schema/?format=json")
        if schema.status_code == 404:
            pytest.skip("no schema route")
        properties = schema.json()["components"]["schemas"]["CompareRow"]["properties"]
        assert {"measured", "window", "samples", "provider_uptime"} <= set(properties)
