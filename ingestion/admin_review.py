"""The curators' work queue in the admin (/admin/catalog/model/review/): the list /api/v1/admin/review answers,
each item with its subject's page and the one action that resolves it; linked from the admin index."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.urls import path

from catalog.admin.curated import AdminExtension, admin_extend
from catalog.models import Model
from ingestion.curation_api.review import REVIEW_KINDS, review_queue

PAGE_SIZE = 50


def review_view(model_admin, request):
    kind = request.GET.get("kind") or None
    if kind not in REVIEW_KINDS:
        kind = None
    items = [item.as_dict() for item in review_queue(kind=kind)]
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Work queue",
        "opts": model_admin.model._meta,
        "page": page,
        "kinds": REVIEW_KINDS,
        "kind": kind,
    }
    return TemplateResponse(request, "admin/ingestion/review_queue.html", context)


def _review_urls(model_admin) -> list:
    view = model_admin.admin_site.admin_view(lambda request: review_view(model_admin, request))
    return [path("review/", view, name="catalog_model_review")]


admin_extend(Model, AdminExtension(urls=_review_urls))
