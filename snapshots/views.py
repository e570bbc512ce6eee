"""Browser pages of the OpenRouter archive: the list of archived models, and one model's price and availability
history across the hourly batches, inside the site's layout."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from snapshots import page_data, page_rows, selectors
from snapshots.charts import price_chart

PAGE_SIZE = 100


@require_safe
def archive_index(request: HttpRequest) -> HttpResponse:
    term = request.GET.get("q", "").strip()[: page_data.MAX_TERM_LENGTH]
    page = Paginator(page_data.archived_models(term), PAGE_SIZE).get_page(request.GET.get("page"))
    selectors.with_newest_complete(page.object_list)  # each row's "last seen" without a query per row
    context = {"term": term, "page": page, "latest": page_data.latest_batch()}
    return render(request, "snapshots/archive_index.html", context)


@require_safe
def model_history(request: HttpRequest, model_id: str) -> HttpResponse:
    history = selectors.model_price_history(model_id)
    if history is None:
        raise Http404(f"No model {model_id!r} in the OpenRouter archive.")
    endpoints, batches = history["endpoints"], history["batches"]
    charts = [
        price_chart(endpoints, batches, "prompt", title="Input price"),
        price_chart(endpoints, batches, "completion", title="Output price"),
    ]
    context = {
        **history,
        "model_id": model_id,
        "name": (history["versions"][-1].fields.get("name") if history["versions"] else "") or model_id,
        "catalogue_model": page_data.catalogue_model_for(model_id),
        "charts": [chart for chart in charts if chart is not None],
        "sections": page_rows.endpoint_sections(endpoints, batches),
        "event_rows": page_rows.event_rows(history["events"]),
    }
    return render(request, "snapshots/model_history.html", context)
