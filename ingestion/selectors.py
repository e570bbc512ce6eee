"""Reads for ingestion and conflict resolution."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import OuterRef, QuerySet, Subquery

from ingestion.models import FieldPin, IngestionRun, Observation
from ingestion.resolution import SourceValue


def model_pins(model_ids) -> dict[int, dict]:
    """{model id: {field: pinned value}}."""
    pins: dict[int, dict] = defaultdict(dict)
    if model_ids:
        for model_id, field, value in FieldPin.objects.filter(model_id__in=model_ids).values_list(
            "model_id", "field", "value"
        ):
            pins[model_id][field] = value
    return pins


def model_observation_candidates(model_ids) -> dict[int, dict[str, list[SourceValue]]]:
    """{model id: {field: [SourceValue per source]}} from every source's latest observation."""
    found: dict[int, dict[str, list[SourceValue]]] = defaultdict(lambda: defaultdict(list))
    if model_ids:
        rows = Observation.objects.filter(model_id__in=model_ids).values_list(
            "model_id", "field", "source", "tier", "value", "observed_at"
        )
        for model_id, field, source, tier, value, observed_at in rows:
            found[model_id][field].append(SourceValue(source, tier, value, observed_at.isoformat()))
    return found


def ingestion_run_list() -> QuerySet[IngestionRun]:
    """Every run; the API's IngestionRunFilterSet narrows it."""
    return IngestionRun.objects.all()


def ingestion_latest_runs() -> list[IngestionRun]:
    """The newest run of each source, in one query on any database."""
    newest = IngestionRun.objects.filter(source=OuterRef("source")).order_by("-started_at", "-id").values("pk")[:1]
    return list(IngestionRun.objects.filter(pk=Subquery(newest)))


def model_field_provenance(model) -> list[dict]:
    """Per resolved field: the winning value, its source and time, and what the other sources hold."""
    from ingestion.resolution import DEFAULTS, RESOLVED_FIELDS, candidates_for

    pins = model_pins([model.pk]).get(model.pk, {})
    observations = model_observation_candidates([model.pk]).get(model.pk, {})
    creator = model.creator.slug if model.creator_id else None
    rows = []
    for field in RESOLVED_FIELDS:
        ranked = candidates_for(
            field,
            pins=pins,
            registry_values=model.registry_values,
            observations=observations.get(field, []),
            creator=creator,
        )
        winner = ranked[0] if ranked else None
        rows.append(
            {
                "field": field,
                "value": winner.value if winner else DEFAULTS[field],
                "source": winner.source if winner else None,
                "at": winner.observed_at if winner else None,
                "others": ranked[1:],
            }
        )
    return rows
