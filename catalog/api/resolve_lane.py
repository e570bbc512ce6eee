"""/api/resolve answered in the fast lane (modelgraph/fastlane.py) without the response cache: the in-process
resolution index (catalog/resolution_index.py) knows the answer to an exact, alias or normalised name with no query,
so rendering it needs neither Django's middleware stack nor DRF.

Only a request Django would answer the same way is answered here: one `name` parameter, valid as
ResolveQuerySerializer would find it, that an index stage resolves. A fuzzy answer, a 404 with suggestions, a bad or
extra parameter: None, and Django answers (and renders its error) as before. The body is the view's, byte for byte:
the same serializer and renderer.
"""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import JSONRenderer

from catalog.api.serializers import MAX_NAME_LENGTH, ResolutionSerializer
from catalog.resolution import model_resolve_known
from modelgraph.api.precomputed import each_once_within

_renderer = JSONRenderer()


def resolve_answer(request: Any, query: list[tuple[str, str]]) -> bytes | None:
    """The JSON body /api/resolve answers `query` with when an index stage resolves its name, else None."""
    if len(query) != 1 or not each_once_within(query, {"name"}):
        return None
    name = query[0][1].strip()  # as the serializer's CharField trims it
    if not name or len(name) > MAX_NAME_LENGTH or "\x00" in name:
        return None
    resolution = model_resolve_known(name)
    if resolution is None:
        return None
    data = ResolutionSerializer(resolution, context={"request": request}).to_representation(resolution)
    return _renderer.render(data)
