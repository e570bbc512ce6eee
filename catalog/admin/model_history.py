"""A model's history page tells the whole story: its own rows, then its aliases' and offers' history rows."""

from __future__ import annotations

from django.urls import reverse

from catalog.admin.curated import history_actor
from catalog.models import Alias, Mapping, Provider

RELATED_ROWS = 200  # newest alias and offer history rows shown on a model's history page, per kind
_UNTRACKED = {"id", "created_at", "updated_at", "model_id"}


def _changes(record, previous, fields: list[str]) -> list[tuple[str, object, object]]:
    if previous is None:
        return []
    return [(f, getattr(previous, f), getattr(record, f)) for f in fields if getattr(previous, f) != getattr(record, f)]


def _rows(model_class, model_pk: int, kind: str, label) -> list[dict]:
    fields = [f.attname for f in model_class._meta.concrete_fields if f.attname not in _UNTRACKED]
    records = list(
        model_class.history.filter(model_id=model_pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:RELATED_ROWS]
    )
    existing = set(model_class.objects.filter(pk__in={r.id for r in records}).values_list("pk", flat=True))
    providers = dict(
        Provider.objects.filter(pk__in={getattr(r, "provider_id", None) for r in records}).values_list("pk", "slug")
    )
    change = f"admin:catalog_{model_class._meta.model_name}_change"
    previous: dict[int, object] = {}
    rows = []
    for record in reversed(records):  # oldest first, so each row is compared with the one before it
        rows.append(
            {
                "when": record.history_date,
                "kind": kind,
                "label": label(record, providers),
                "url": reverse(change, args=[record.id]) if record.id in existing else "",
                "type": record.get_history_type_display(),
                "actor": history_actor(record),
                "user": record.history_user_id is not None,
                "reason": record.history_change_reason or "",
                "changes": _changes(record, previous.get(record.id), fields),
            }
        )
        previous[record.id] = record
    return rows


def model_related_history(model_pk: int) -> list[dict]:
    """The newest history rows of the model's aliases and offers (RELATED_ROWS of each), newest first, each with
    who made it (the curator or the process its reason names) and what it changed."""
    aliases = _rows(Alias, model_pk, "alias", lambda r, providers: r.alias)
    offers = _rows(
        Mapping,
        model_pk,
        "offer",
        lambda r, providers: f"{providers.get(r.provider_id, r.provider_id)}: {r.provider_model_id}",
    )
    return sorted([*aliases, *offers], key=lambda row: row["when"], reverse=True)
