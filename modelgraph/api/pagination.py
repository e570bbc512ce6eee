"""Page-number pagination of the public and admin APIs: `page` and `page_size`, a bad value is a 400 naming it."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import InvalidPage
from django.http import HttpResponse
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer

from modelgraph.api.errors import ParameterError


def parse_positive_int(name: str, raw: str, maximum: int | None = None) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ParameterError(name, f"A whole number is required, got {raw[:40]!r}.") from None
    if value < 1 or (maximum is not None and value > maximum):
        bound = f" and at most {maximum}" if maximum is not None else ""
        raise ParameterError(name, f"Must be at least 1{bound}, got {value}.")
    return value


class APIPagination(PageNumberPagination):
    """Page-number pagination: `page` (1-based) and `page_size` (1–API_MAX_PAGE_SIZE); bad values are 400."""

    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.API_MAX_PAGE_SIZE

    @property
    def page_size(self) -> int:
        return settings.API_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:  # given but empty is a 400, like any other value that is not a number
            return self.page_size
        return parse_positive_int(self.page_size_query_param, raw, self.max_page_size)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if raw in self.last_page_strings:
            return paginator.num_pages
        return parse_positive_int(self.page_query_param, raw)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        paginator = self.django_paginator_class(queryset, self.get_page_size(request))
        number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            raise NotFound(f"Page {number} does not exist: the last page is {paginator.num_pages}.") from None
        return list(self.page)

    def get_rendered_paginated_response(self, results: list[str]) -> HttpResponse:
        """`get_paginated_response` for results already rendered as JSON (one object each): the same bytes the
        renderer would write for the same page, without parsing or re-encoding them."""
        envelope = JSONRenderer().render({"next": self.get_next_link(), "previous": self.get_previous_link()})
        body = f'{{"count":{self.page.paginator.count},{envelope.decode()[1:-1]},"results":[{",".join(results)}]}}'
        return HttpResponse(body.encode(), content_type=JSONRenderer.media_type)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1 (or `last`). A page beyond the last one is 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page (default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
