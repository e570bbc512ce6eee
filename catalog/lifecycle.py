"""Lifecycle rules shared by the admin, ingestion and the registry tools: successor links and the derived retired state.

A model is deprecated or retired when its creator says so (Model.status); a provider retiring it on its platform
retires that offer (Mapping.status / retirement_date). A model whose every offer is retired is shown retired as a
derived state, never written onto the model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping as MappingType

from django.db.models import Count, Q, QuerySet

from catalog.models import Lifecycle, Mapping, Model


def successor_refusal(model_id: int, target_id: int | None, successors: MappingType[int, int | None]) -> str | None:
    """Why `target_id` cannot be the successor of `model_id` (itself, or a link that closes a loop), else None.

    `successors` is the current successor link of every model that has one (model id → successor id).
    """
    if target_id is None:
        return None
    if target_id == model_id:
        return "a model cannot succeed itself"
    seen = {model_id}
    current: int | None = target_id
    while current is not None:
        if current in seen:
            return "the link would close a successor loop"
        seen.add(current)
        current = successors.get(current)
    return None


def successor_links() -> dict[int, int | None]:
    """Every model's successor link, model id → successor id (one query)."""
    return dict(Model.objects.filter(successor__isnull=False).values_list("pk", "successor_id"))


def offer_is_retired_q(today: dt.date | None = None) -> Q:
    """An offer no longer served: marked retired, or its retirement date has passed."""
    today = today or dt.date.today()
    return Q(status=Lifecycle.RETIRED) | Q(retirement_date__lte=today)


def models_retired_by_offers(models: QuerySet[Model] | None = None, *, today: dt.date | None = None) -> set[int]:
    """Ids of the models (of `models`, default all) that have offers and no offer still served."""
    today = today or dt.date.today()
    served = [status for status in Lifecycle.values if status != Lifecycle.RETIRED]
    live = Q(mappings__status__in=served) & (
        Q(mappings__retirement_date__isnull=True) | Q(mappings__retirement_date__gt=today)
    )
    rows = (models if models is not None else Model.objects.all()).annotate(
        offers=Count("mappings", distinct=True), live_offers=Count("mappings", filter=live, distinct=True)
    )
    return set(rows.filter(offers__gt=0, live_offers=0).values_list("pk", flat=True))


def model_shown_status(model: Model, *, today: dt.date | None = None) -> str:
    """The status a reader sees: the creator's word, or "retired" when no offer of the model is still served."""
    if model.status == Lifecycle.RETIRED:
        return model.status
    offers = Mapping.objects.filter(model=model)
    if offers.exists() and not offers.exclude(offer_is_retired_q(today)).exists():
        return Lifecycle.RETIRED
    return model.status
