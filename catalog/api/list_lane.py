"""The unfiltered model list (/api/models, optionally paged) answered in the fast lane (modelgraph/fastlane.py)
without the response cache: its rows are stored rendered (catalog/list_rows.py), so a page is one count, one plain
join and string concatenation; Django's middleware stack and DRF add nothing to it.

Only what the view answers from the stored rows is answered here: no parameter but `page` and `page_size`, each at
most once, and a page that exists. Anything else (a filter, a bad or missing page) goes to Django, which answers it
(or renders its error) as before. The body is the view's, byte for byte: the same paginator, rows and links.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from catalog import selectors
from catalog.api.serializers import Links, list_rows_with_urls
from catalog.api.views import PAGINATION_PARAMETERS
from modelgraph.api.pagination import APIPagination


def model_list_answer(request: Any, query: list[tuple[str, str]]) -> bytes | None:
    """The JSON body /api/models answers `query` with from the stored rows, else None (Django answers)."""
    names = [name for name, _ in query]
    if len(set(names)) != len(names) or not set(names) <= PAGINATION_PARAMETERS:
        return None
    drf_request = Request(request)
    paginator = APIPagination()
    try:
        rows = paginator.paginate_queryset(selectors.model_list_bodies(), drf_request)
    except Exception:  # a bad page number or size, a page past the last: Django renders that error
        return None
    response = paginator.get_rendered_paginated_response(list_rows_with_urls(rows, Links(drf_request)))
    return response.content
