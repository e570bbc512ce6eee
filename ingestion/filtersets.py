"""Query parameters of the ingestion runs list (admin API): one FilterSet; a bad value is a 400 naming it."""

from __future__ import annotations

import django_filters

from ingestion.models import IngestionRun, RunStatus
from modelgraph.api.filtersets import APIFilterSet


class IngestionRunFilterSet(APIFilterSet):
    source = django_filters.CharFilter(help_text="Only runs of this source (e.g. `openai`, `huggingface`).")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices, help_text="Only runs with this status.")

    class Meta:
        model = IngestionRun
        fields: list[str] = []
