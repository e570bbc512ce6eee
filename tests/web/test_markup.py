"""Markup every page owes its readers and search engines: a title and description, one h1, a skip link, labelled
controls, captioned tables with scoped headers, named charts, and no asset from another host."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from catalog.models import Mapping

pytestmark = pytest.mark.django_db


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.labels_for: set[str] = set()
        self.open_labels = 0
        self.labelled_by_wrapping: list[str] = []
        self.h1 = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "label":
            self.open_labels += 1
            if attrs.get("for"):
                self.labels_for.add(attrs["for"])
        if tag in ("input", "select") and self.open_labels:
            self.labelled_by_wrapping.append(attrs.get("id", ""))
        self.h1 += tag == "h1"

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


def urls() -> list[str]:
    offer = Mapping.objects.get(provider__slug="groq").pk
    return [
        "/",
        "/search?q=gpt",
        "/models",
        "/models?capability=tools",
        "/models/gpt-4o",
        "/models/gpt-4p",
        "/providers",
        "/providers/groq",
        "/telemetry",
        f"/telemetry?provider=groq&offer={offer}",
        "/status",
    ]


def test_every_page(telemetry, client):
    for url in urls():
        html = client.get(url).content.decode()
        page = Page(html)
        assert page.h1 == 1, url
        assert page.all("html")[0].get("lang") == "en", url
        description = [m for m in page.all("meta") if m.get("name") == "description"]
        assert len(description) == 1 and len(description[0]["content"]) > 40, url
        assert "<title>" in html and " · ModelGraph</title>" in html, url
        assert any(a.get("href") == "#main" for a in page.all("a")), url
        assert page.all("main")[0].get("id") == "main", url
        for control in page.all("input") + page.all("select"):
            if control.get("type") in ("hidden", "submit"):
                continue
            named = control.get("id") in page.labels_for or control.get("aria-label")
            assert named or control.get("id") in page.labelled_by_wrapping, (url, control)
        tables = html.count("<table")
        assert html.count("<caption") == tables, url
        assert html.count('<th scope="col"') + html.count('<th scope="row"') >= 2 * tables, url
        for svg in page.all("svg"):
            if "chart" in svg.get("class", ""):
                assert svg.get("role") == "img" and svg.get("aria-labelledby"), url
        for source in [t.get("src", "") for t in page.all("script") + page.all("img")] + [
            link.get("href", "") for link in page.all("link") if link.get("rel") in ("stylesheet", "icon")
        ]:
            assert source.startswith("/static/"), (url, source)
