"""Browser pages: parse the request, call selectors, render a template. Nothing here decides business rules."""

from __future__ import annotations

import re
from urllib.parse import unquote

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from catalog.models import ModelCapability
from catalog.search import MAX_TERM_LENGTH
from catalog.selectors import provider_get
from modelgraph.api.errors import is_api_path
from modelgraph.api.errors import not_found as api_not_found
from snapshots.page_data import offer_history_links
from telemetry.selectors import provider_health, provider_latency
from web import model_page, offer_table, panels, selectors, series, status
from web.cache import CATALOGUE, TELEMETRY, cached_page
from web.filtersets import ModelPageFilterSet
from web.price_history import model_price_history_chart
from web.tables import Column, query_with, sort_headers

PAGE_SIZE = 50
SEARCH_PAGE_LIMIT = 50
MODEL_COLUMNS = [
    Column("Model", "name"),
    Column("Released", "release_date", descending_first=True),
    Column("Context", "context_window", numeric=True, descending_first=True),
    Column("Input from", "price", numeric=True, hint="Cheapest input price, USD per million tokens"),
    Column("Output from", "output_price", numeric=True, hint="Cheapest output price, USD per million tokens"),
    Column("Providers", "providers", numeric=True, descending_first=True),
    Column("Capabilities"),
]
OFFER_COLUMNS = [
    Column("Provider", "provider"),
    Column("Input", "input", numeric=True, hint="USD per million input tokens"),
    Column("Output", "output", numeric=True, hint="USD per million output tokens"),
    Column("Cached", numeric=True, hint="USD per million cached input tokens"),
    Column("Context", "context", numeric=True, descending_first=True),
    Column("Max output", "max_output", numeric=True, descending_first=True),
    Column("Quant.", hint="Quantization of the served weights"),
    Column("Uptime", "uptime", numeric=True, descending_first=True, hint="Over the last 7 days"),
    Column("TTFT", "ttft", numeric=True, hint="Median time to first token, last 7 days"),
    Column("Total time", "total", numeric=True, hint="Median time to the whole answer, last 7 days"),
    Column("Score", "score", numeric=True, descending_first=True, hint="Telemetry ranking: uptime, speed, price"),
]
MODEL_PATH = re.compile(r"^/models/(?P<name>.+?)/?$")


@require_safe
@cached_page(CATALOGUE)
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "counts": selectors.catalogue_counts(),
        "newest": selectors.newest_models(),
        "most_served": selectors.most_served_models(),
    }
    return render(request, "web/home.html", context)


@require_safe
@cached_page(CATALOGUE)
def search(request: HttpRequest) -> HttpResponse:
    """Search-as-you-type answers JSON (`format=json`); without JavaScript the form lands on a results page."""
    term = request.GET.get("q", "").strip()[:MAX_TERM_LENGTH]
    if request.GET.get("format") == "json":
        results = [
            {
                "slug": model.slug,
                "name": model.name,
                "creator": model.creator.name if model.creator_id else "",
                "url": reverse("web:model", args=[model.slug]),
            }
            for model in selectors.search_suggestions(term)
        ]
        return JsonResponse({"query": term, "results": results})
    results = selectors.search_suggestions(term, limit=SEARCH_PAGE_LIMIT)
    return render(request, "web/search.html", {"term": term, "results": results})


@require_safe
@cached_page(CATALOGUE)
def model_list(request: HttpRequest) -> HttpResponse:
    filterset = ModelPageFilterSet(request.GET or None, queryset=selectors.model_list_queryset())
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    ordering = request.GET.get("ordering", "")
    context = {
        "filter": filterset,
        "form": filterset.form,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "headers": sort_headers(request.GET, MODEL_COLUMNS, current=ordering, param="ordering"),
        "ordering": ordering,
        "capabilities": ModelCapability,
    }
    return render(request, "web/model_list.html", context)


@require_safe
@cached_page(CATALOGUE, TELEMETRY)
def model_detail(request: HttpRequest, identifier: str) -> HttpResponse:
    """A model and its providers side by side; an alias or other spelling redirects (301) to the canonical URL."""
    part = model_page.model_page_part(identifier.rstrip("/") or identifier)
    lookup = part.lookup
    if lookup.redirect_to or (lookup.model and identifier.endswith("/")):
        target = reverse("web:model", args=[lookup.redirect_to or lookup.model.slug])
        query = request.GET.urlencode()
        return redirect(f"{target}?{query}" if query else target, permanent=True)
    if lookup.model is None:
        return model_not_found(request, identifier)
    model = lookup.model
    sort = request.GET.get("sort", "")
    offers = selectors.model_offers(lookup.offers, sort=sort)
    history_links = lookup.history_links.offers  # OpenRouter's offers of it: the archive's pages
    context = {
        "model": model,
        "part": part,
        "offers": offers,
        "offer_rows": offer_table.offer_table_rows(offers, model_name=model.name, history_links=history_links),
        "headers": sort_headers(request.GET, OFFER_COLUMNS, current=sort),
        "cheapest": next((o for o in offers if o.cheapest), None),
        "fastest": next((o for o in offers if o.fastest), None),
        "price_history": model_price_history_chart(lookup.price_history, model.name, now=timezone.now()),
    }
    return render(request, "web/model_detail.html", context)


def model_not_found(request: HttpRequest, name: str) -> HttpResponse:
    context = {
        "missing": name,
        "missing_term": name,
        "kind": "model",
        "suggestions": [
            {"name": m.name, "detail": m.slug, "url": reverse("web:model", args=[m.slug])}
            for m in selectors.model_suggestions(name)
        ],
    }
    return render(request, "web/404.html", context, status=404)


@require_safe
@cached_page(CATALOGUE)
def provider_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/provider_list.html", {"providers": selectors.provider_directory()})


@require_safe
@cached_page(CATALOGUE, TELEMETRY)
def provider_detail(request: HttpRequest, slug: str) -> HttpResponse:
    provider = provider_get(slug)
    if provider is None:
        return provider_not_found(request, slug)
    if provider.slug != slug:
        return redirect("web:provider", provider.slug, permanent=True)
    window = series.window_get(request.GET.get("window"))
    health = provider_health(provider, window=window.key)
    latency = provider_latency(provider, window=window.key)
    figures = panels.offer_telemetry(health, latency)
    mappings = selectors.provider_offers(provider)
    history_links = offer_history_links(provider, mappings)  # OpenRouter's offers: the archive's page of each
    context = {
        "provider": provider,
        "offers": [{"mapping": m, "history": history_links.get(m.pk), **figures.get(m.pk, {})} for m in mappings],
        "health": health,
        "latency": latency,
        "window": window,
        "window_tabs": window_tabs(request, window),
        "panels": panels.subject_panels(window, provider=provider, latency=latency, chart_id="provider"),
    }
    return render(request, "web/provider_detail.html", context)


def provider_not_found(request: HttpRequest, slug: str) -> HttpResponse:
    context = {
        "missing": slug,
        "kind": "provider",
        "suggestions": [
            {"name": p.name, "detail": p.slug, "url": reverse("web:provider", args=[p.slug])}
            for p in selectors.provider_suggestions(slug)
        ],
    }
    return render(request, "web/404.html", context, status=404)


def window_tabs(request: HttpRequest, window: series.Window) -> list[dict]:
    """Links to the same page over each window, every other parameter kept."""
    return [
        {"key": key, "label": label, "url": query_with(request.GET, window=key), "current": key == window.key}
        for key, (label, _) in series.WINDOWS.items()
    ]


@require_safe
@cached_page(CATALOGUE, TELEMETRY)
def telemetry(request: HttpRequest) -> HttpResponse:
    """Pick a provider, then optionally one of its offers (model@provider): uptime and latency percentiles over time."""
    window = series.window_get(request.GET.get("window"))
    providers = selectors.telemetry_providers()
    provider = next((p for p in providers if p.slug == request.GET.get("provider")), None)
    offers = selectors.telemetry_offers(provider) if provider else []
    offer = next((m for m in offers if str(m.pk) == request.GET.get("offer")), None)
    context = {
        "window": window,
        "window_tabs": window_tabs(request, window),
        "providers": providers,
        "provider": provider,
        "offers": offers,
        "offer": offer,
        "panels": panels.subject_panels(window, provider=provider, mapping=offer, chart_id="t") if provider else None,
        "overview": None if provider else panels.overview_panel(window),
    }
    return render(request, "web/telemetry.html", context)


@require_safe
def ingestion_status(request: HttpRequest) -> HttpResponse:
    return render(request, "web/status.html", status.status_page())


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    """Project 404: JSON under /api/ and /v1/ (the API's own handler); a page elsewhere, with "did you mean" for
    models (not for a path with a NUL, which the database cannot even compare)."""
    if is_api_path(request.path):
        return api_not_found(request, exception)
    found = MODEL_PATH.match(request.path)
    if found and "\x00" not in request.path:
        return model_not_found(request, unquote(found["name"]))
    return render(request, "web/404.html", {"missing": request.path, "kind": "page"}, status=404)
