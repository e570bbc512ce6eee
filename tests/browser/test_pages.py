"""Flows a person follows in a real browser; each saves a screenshot to tests/browser/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_pick_compare_provider_chart(desktop):
    page = desktop.page
    desktop.goto("/")
    search = page.get_by_role("combobox", name="Search models by name or alias")
    search.press_sequentially("llama 3.3", delay=40)
    option = page.get_by_role("option", name=re.compile("Llama 3.3 70B Instruct"))
    expect(option).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    desktop.screenshot("1-search-as-you-type")

    search.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/models/llama-3\.3-70b-instruct$"))

    table = page.get_by_role("table", name=re.compile("at 2 providers"))
    expect(table).to_be_visible()
    groq = table.get_by_role("row", name=re.compile("Groq"))
    expect(groq.get_by_text("Cheapest", exact=True)).to_be_visible()
    expect(table.get_by_role("row", name=re.compile("Together"))).to_contain_text("fp8")
    desktop.screenshot("2-model-providers-compared")

    groq.get_by_role("link", name="Groq", exact=True).click()
    expect(page).to_have_url(re.compile(r"/providers/groq$"))
    chart = page.get_by_role("img", name=re.compile("Uptime of Groq"))
    expect(chart).to_be_visible()
    expect(page.locator("svg.chart path").first).to_be_visible()
    desktop.screenshot("3-provider-charts")


def test_list_filters_narrow_rows_and_stay_in_the_url(desktop):
    page = desktop.page
    desktop.goto("/models")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(4)
    page.get_by_label("Reasoning").check()
    page.get_by_label("Provider", exact=True).select_option(label="Together AI")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"capability=reasoning"))
    assert "provider=togetherai" in page.url
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("DeepSeek-R1")
    expect(page.get_by_label("Reasoning")).to_be_checked()
    desktop.screenshot("4-model-list-filtered")

    page.get_by_role("link", name=re.compile("^Clear all")).click()
    page.get_by_role("link", name=re.compile("^Context")).click()
    expect(page).to_have_url(re.compile(r"ordering=-context_window"))
    expect(rows.first).to_contain_text("Llama 3.3 70B Instruct")  # 131,072 tokens: the biggest context of the four
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Context")


def test_mistyped_model_url_suggests_the_model(desktop):
    page = desktop.page
    response = desktop.goto("/models/gpt-4p")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_contain_text("No model called “gpt-4p”")
    expect(page).to_have_title(re.compile("No model called"))
    desktop.screenshot("5-not-found-did-you-mean")
    page.get_by_role("list").filter(has_text="GPT-4o").get_by_role("link", name="GPT-4o", exact=True).click()
    expect(page).to_have_url(re.compile(r"/models/gpt-4o$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("GPT-4o")


def test_telemetry_dashboard_for_one_model_at_a_provider(desktop):
    page = desktop.page
    desktop.goto("/telemetry")
    expect(page.get_by_role("img", name=re.compile("least reliable"))).to_be_visible()
    desktop.screenshot("6-telemetry-overview")
    page.get_by_label("Provider", exact=True).select_option(label="Together AI")
    page.get_by_role("button", name="Show charts").click()
    page.get_by_label("Model at this provider").select_option(label="DeepSeek-R1 (deepseek-ai/DeepSeek-R1)")
    page.get_by_role("button", name="Show charts").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("DeepSeek-R1 at Together AI")
    expect(page.get_by_role("img", name=re.compile("Time to first token"))).to_be_visible()
    desktop.screenshot("7-telemetry-model-at-provider")


def test_phone_layout_has_no_sideways_scroll(phone):
    page = phone.page
    for path, name in (
        ("/", "8-phone-home"),
        ("/models/llama-3.3-70b-instruct", "9-phone-model"),
        ("/providers/groq", "10-phone-provider"),
        ("/models", "11-phone-list"),
    ):
        phone.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        phone.screenshot(name)
