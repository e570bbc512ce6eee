"""The data-quality report in the admin: /admin/catalog/quality/ lists what `catalogue_check` prints, for staff."""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path

from catalog.quality import catalogue_quality


def catalogue_quality_view(request):
    """Every finding of the identity rules over the live catalogue, grouped by kind (a fixed number of queries)."""
    report = catalogue_quality()
    context = {
        **admin.site.each_context(request),
        "title": "Catalogue quality",
        "report": report,
        "groups": report.by_kind(),
    }
    return TemplateResponse(request, "admin/catalog/quality.html", context)


def _with_quality_url(get_urls):
    # The admin site has no hook for a page that belongs to no model: its URL list is extended, ahead of the rest.
    def urls():
        view = admin.site.admin_view(catalogue_quality_view)
        return [path("catalog/quality/", view, name="catalog_quality"), *get_urls()]

    return urls


admin.site.get_urls = _with_quality_url(admin.site.get_urls)  # type: ignore[method-assign]
