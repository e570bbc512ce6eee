"""The catalogue's current rows as a registry load compares them, read without decoding every JSON value.

A reload of the 2,000-model registry reads some 60,000 JSON values to find that nothing changed. Read as text, each
distinct text is decoded once (the modalities, tiers and delivery modes of thousands of rows are a handful of texts),
and a value the load compares only for emptiness (an offer's `registry_values` and `provenance`) is never decoded.
"""

from __future__ import annotations

import json

from django.db.models import JSONField, TextField
from django.db.models.functions import Cast

# An empty JSON value as PostgreSQL's jsonb and Django's JSONField (on SQLite) write it out.
_EMPTY_TEXTS = frozenset({"{}", "[]", "null", '""', "0", "false"})
_TEXT = "registry_text_"
_MISS = object()


def existing_rows(
    model_class, natural_key: tuple[str, ...], compared: tuple[str, ...], emptiness_only: tuple[str, ...]
) -> dict[tuple, dict]:
    """natural key -> {"pk", key fields, compared fields (decoded), emptiness-only fields (True when not empty)}."""
    is_json = {name: isinstance(model_class._meta.get_field(name), JSONField) for name in (*compared, *emptiness_only)}
    texts = {f"{_TEXT}{name}": Cast(name, TextField()) for name, json_field in is_json.items() if json_field}
    plain = [name for name in compared if not is_json[name]]
    plain += [name for name in emptiness_only if not is_json[name]]
    decoded: dict[str | None, object] = {None: None}
    rows = {}
    queryset = model_class.objects.annotate(**texts).values("pk", *natural_key, *plain, *texts)
    for row in queryset.iterator(chunk_size=5000):
        for name in compared:
            if is_json[name]:
                text = row.pop(f"{_TEXT}{name}")
                value = decoded.get(text, _MISS)
                if value is _MISS:
                    value = decoded[text] = json.loads(text)
                row[name] = value
        for name in emptiness_only:
            if is_json[name]:
                text = row.pop(f"{_TEXT}{name}")
                row[name] = text is not None and text not in _EMPTY_TEXTS
        rows[tuple(row[k] for k in natural_key)] = row
    return rows
