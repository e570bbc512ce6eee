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

from catalog.api.views import PAGINATION_PARAMETERS, model_list_stored_page
from modelgraph.api.pagination import APIPagination
from modelgraph.api.precomputed import each_once_within


def model_list_answer(request: Any, query: list[tuple[str, str]]) -> bytes | None:
    """The JSON body /api/models answers `query` with from the stored rows, else None (Django answers)."""
    if not each_once_within(query, PAGINATION_PARAMETERS):
        return None
    try:
        return model_list_stored_page(Request(request), APIPagination()).content
    except Exception:  # a bad page number or size, a page past the last: Django renders that error
        return None
