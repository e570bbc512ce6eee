"""Query parameters of the gateway's request log (routing admin API): one FilterSet; a bad value is a 400 naming it."""

from __future__ import annotations

import django_filters

from modelgraph.api.filtersets import APIFilterSet
from routing.models import Outcome, RequestLog


class RequestLogFilterSet(APIFilterSet):
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices, help_text="Only requests with this outcome.")
    pool = django_filters.CharFilter(field_name="pool__slug", help_text="Only requests routed through this pool.")
    requested = django_filters.CharFilter(help_text="Only requests naming this `model`.")

    class Meta:
        model = RequestLog
        fields: list[str] = []
