"""The OpenRouter archive's model page in real Chromium, on a desktop (1280×800) and a phone (390×844): reached from
the catalogue's model page, inside the site's layout, prices per million tokens, gaps drawn as gaps, a legend.

Screenshots go to $TMPDIR/modelgraph-snapshot-page/ (look at them when the page changes)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from catalog.models import Alias, Model, Provider
from ingestion.models import RunStatus
from ingestion.services import ingestion_run_source
from registry.loading import registry_load
from tests.browser.conftest import Session
from tests.web.snapshot_archive import MODEL, archive_synced

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir()) / "modelgraph-snapshot-page"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
HISTORY = f"/snapshots/models/{MODEL}"


@pytest.fixture
def site(transactional_db, live_server, registry_dir, settings):
    """The small registry, Mistral Medium 3 in the catalogue, and six archived hours (one missing, one incomplete)
    projected into OpenRouter offers of it."""
    registry_load(path=registry_dir)
    model = Model.objects.create(
        slug="mistral-medium-3",
        name="Mistral Medium 3",
        creator=Provider.objects.create(slug="mistral", name="Mistral"),
    )
    Alias.objects.create(alias=MODEL, model=model)
    with archive_synced(settings) as archive:
        assert ingestion_run_source(source="openrouter").status == RunStatus.SUCCESS
        yield {"url": live_server.url, **archive}


def session(browser, site, **options):
    context = browser.new_context(**options)
    opened = Session(context, site["url"])
    yield opened
    opened.check_clean()
    context.close()


@pytest.fixture
def desktop(browser, site):
    yield from session(browser, site, viewport=DESKTOP)


@pytest.fixture
def phone(browser, site):
    yield from session(browser, site, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)


def shoot(opened: Session, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    opened.page.screenshot(path=str(path), full_page=True)
    return path


def line_runs(page, endpoint_key: str) -> list[list[float]]:
    """The x coordinates of each separately drawn run of one endpoint's input-price line."""
    d = page.locator(f'svg[aria-labelledby^="chart-prompt-t"] g.series[data-endpoint="{endpoint_key}"] path')
    return [[float(x) for x in re.findall(r"([\d.]+),[\d.]+", run)] for run in d.get_attribute("d").split("M")[1:]]


def check_the_page(page, site) -> None:
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("on OpenRouter")
    expect(page.get_by_role("img", name="Input price per million tokens")).to_be_visible()
    expect(page.get_by_text("How to read the charts")).to_be_visible()
    periods = page.get_by_role("table", name=re.compile(f"Price periods of {site['tags'][0]}"))
    expect(periods).to_contain_text("$0.5")
    expect(periods).to_contain_text("$0.4")
    expect(periods).not_to_contain_text("0.0000005")
    runs = line_runs(page, f"{MODEL}@{site['tags'][0]}")
    assert len(runs) == 3, runs  # hours 0-1, 3 and 5: no sync in hour 2, not fetched in the incomplete hour 4
    assert runs[0][-1] < runs[1][0] and runs[1][-1] < runs[2][0], "a gap is drawn as a line"


def test_from_the_model_page_to_its_history_on_a_desktop(desktop, site):
    page = desktop.page
    desktop.goto("/models/mistral-medium-3")
    page.get_by_role("link", name=MODEL).click()
    expect(page).to_have_url(re.compile(re.escape(HISTORY) + "$"))
    check_the_page(page, site)
    shoot(desktop, "desktop-model-history")
    page.get_by_role("link", name="Mistral Medium 3").click()
    expect(page).to_have_url(re.compile(r"/models/mistral-medium-3$"))

    endpoint = f"{MODEL}@{site['tags'][1]}"
    desktop.goto("/providers/openrouter")
    page.get_by_role("link", name=f"OpenRouter history of {endpoint}").click()
    expect(page).to_have_url(re.compile(re.escape(HISTORY) + "#endpoint-"))
    expect(page.get_by_role("table", name=re.compile(f"Price periods of {site['tags'][1]}"))).to_be_in_viewport()


def test_the_history_on_a_phone_fits_the_screen(phone, site):
    page = phone.page
    phone.goto(HISTORY)
    check_the_page(page, site)
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"), page.evaluate(
        "[document.scrollingElement.scrollWidth, window.innerWidth]"
    )
    chart = page.get_by_role("img", name="Input price per million tokens").bounding_box()
    assert chart["width"] <= PHONE["width"] and chart["x"] >= 0  # the whole chart on screen, not scrolled sideways
    shoot(phone, "phone-model-history")
    phone.goto("/snapshots/")
    expect(page.get_by_role("link", name=MODEL)).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    shoot(phone, "phone-archive-list")
