"""Real headless Chromium (Debian's /usr/bin/chromium, installed by bin/test; never downloaded) driven by
Playwright against pytest-django's live server, with the small registry and two days of seeded telemetry."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from catalog.models import Mapping
from registry.loading import registry_load
from tests.web.seeding import seed_telemetry

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module. Playwright's sync API keeps an event loop running in this thread, which Django
    takes for async code; the ORM calls of the fixtures are synchronous all the same, so they are allowed for as long
    as the browser lives (and no longer: other modules keep Django's check)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: bin/test installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(transactional_db, live_server, registry_dir) -> str:
    registry_load(path=registry_dir)
    seed_telemetry(list(Mapping.objects.all()), hours=48)
    return live_server.url


class Session:
    """A browser page on the live server that records every request leaving it (there must be none)."""

    def __init__(self, context, base_url: str):
        self.context = context
        self.base_url = base_url
        self.outside: list[str] = []
        self.errors: list[str] = []
        host = urlsplit(base_url).netloc
        context.route("**/*", lambda route: self._route(route, host))
        self.page = context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _route(self, route, host: str) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("http", "https") and url.netloc != host:
            self.outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def goto(self, path: str):
        return self.page.goto(self.base_url + path)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def check_clean(self) -> None:
        assert not self.outside, f"requests left the app: {self.outside}"
        assert not self.errors, f"JavaScript errors: {self.errors}"


def _session(browser, site, **options):
    context = browser.new_context(**options)
    session = Session(context, site)
    yield session
    session.check_clean()
    context.close()


@pytest.fixture
def desktop(browser, site):
    yield from _session(browser, site, viewport=DESKTOP)


@pytest.fixture
def phone(browser, site):
    yield from _session(browser, site, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
