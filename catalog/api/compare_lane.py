"""/api/models/{id}/compare answered in the fast lane (modelgraph/fastlane.py) without the response cache: the
model is found with one plain query, its offers and their telemetry come from the per-offer summaries
(telemetry/offer_summaries.py), so the body costs a few queries and no trip through Django's middleware stack or DRF.

The body is the view's (`model_compare_data`, shared). Only a request the view would answer with a 200 is answered
here: `page`, `page_size` and `billing`, each at most once, valid, for a model that exists; anything else (an unknown
model and its near matches, a bad parameter) goes to Django, which renders it as before.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from catalog import selectors
from catalog.api.views import PAGINATION_PARAMETERS, model_compare_data
from modelgraph.api.pagination import APIPagination
from modelgraph.api.precomputed import each_once_within

PARAMETERS = PAGINATION_PARAMETERS | {"billing"}
PATH = re.compile(r"/api/models/(?P<id>[\s\S]+)/compare/?")
_renderer = JSONRenderer()


def model_compare_answer(request: Any, query: list[tuple[str, str]]) -> bytes | None:
    """The JSON body /api/models/{id}/compare answers with, else None (Django answers)."""
    if not each_once_within(query, PARAMETERS):
        return None
    found = PATH.fullmatch(request.path_info)
    model_ref = selectors.model_ref_by_id_or_alias(found["id"]) if found else None
    if model_ref is None:
        return None
    drf_request = Request(request)
    try:
        data = model_compare_data(drf_request, model_ref, APIPagination(), {"request": drf_request})
    except Exception:  # a bad parameter or page: Django renders that error
        return None
    return _renderer.render(data)
