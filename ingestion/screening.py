"""What a source states, screened before anything is written: one unstorable record is refused on its own.

A listing with one id of 5,000 characters, a NUL character in a name, or a context window of 1e308 made the whole
run fail at the database ("value too long", "cannot contain NUL"): every other model the source listed was lost
with it, and a NUL in the run's own details left the run row unsaved. Each record is checked here against what
the catalogue can hold; a record that fails is left out and named in the run, and the others are applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models as db_models

from catalog.models import Alias, Model
from ingestion.models import UnmatchedPrice
from ingestion.prices.statements import PriceStatement
from ingestion.sources.base import SourceRecord

MAX_ID = Alias._meta.get_field("alias").max_length  # an id becomes an alias: what the alias column holds
# PostgreSQL's integer limits, by Django field class.
_INT_LIMITS = {
    db_models.PositiveIntegerField: (0, 2**31 - 1),
    db_models.PositiveBigIntegerField: (0, 2**63 - 1),
    db_models.PositiveSmallIntegerField: (0, 2**15 - 1),
    db_models.IntegerField: (-(2**31), 2**31 - 1),
    db_models.BigIntegerField: (-(2**63), 2**63 - 1),
}


@dataclass(frozen=True)
class Refused:
    external_id: str
    reason: str

    def as_detail(self) -> dict[str, str]:
        return {"id": self.external_id, "reason": self.reason}


@dataclass
class Screened:
    kept: list
    refused: list[Refused]

    def details(self) -> dict[str, Any]:
        """What a run records of the refused (the first 50 and how many); nothing when none was."""
        if not self.refused:
            return {}
        return {"refused": [item.as_detail() for item in self.refused[:50]], "refused_count": len(self.refused)}

    def message(self, source: str, what: str) -> str:
        first = self.refused[0]
        return (
            f"{source}: {len(self.refused)} {what}(s) refused, the catalogue cannot hold them "
            f"(first: {shown(first.external_id, 60)!r}: {first.reason}); the others were applied"
        )


def shown(value: Any, limit: int = 80) -> str:
    """A value as a run may quote it: control characters escaped, cut to `limit`."""
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= 1e12:
        return f"{value:.3g}"
    text = value if isinstance(value, str) else repr(value)
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: limit + 1])
    return text[:limit] + ("…" if len(text) > limit else "")


def _unstorable_text(value: Any, path: str) -> str | None:
    """Why a string anywhere in `value` cannot be stored as text (PostgreSQL refuses NUL and lone surrogates)."""
    if isinstance(value, str):
        if "\x00" in value:
            return f"{path} contains a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{path} is not valid Unicode (a lone surrogate)"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if problem := _unstorable_text(key, path) or _unstorable_text(item, f"{path}.{shown(key, 30)}"):
                return problem
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if problem := _unstorable_text(item, f"{path}[{index}]"):
                return problem
    return None


def _field_problem(name: str, value: Any) -> str | None:
    if problem := _unstorable_text(value, name):
        return problem
    try:
        column = Model._meta.get_field(name)
    except Exception:  # a fact the model keeps elsewhere (JSON lists, a successor slug): no column limit
        return None
    if value is None:
        return None
    if isinstance(column, db_models.CharField) and isinstance(value, str) and len(value) > column.max_length:
        return f"{name} is {len(value):,} characters; the catalogue holds {column.max_length}"
    limits = next((limits for kind, limits in _INT_LIMITS.items() if type(column) is kind), None)
    if limits is not None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{name} is {shown(value, 30)}, not a whole number"
        low, high = limits
        if value != value or not low <= value <= high or (isinstance(value, float) and not value.is_integer()):
            return f"{name} is {shown(value, 30)}, outside {low:,}…{high:,}"
    return None


def record_problem(record: SourceRecord) -> str | None:
    """Why `record` cannot be stored as it is, or None."""
    ident = record.external_id
    if not isinstance(ident, str) or not ident.strip():
        return f"the id is {shown(ident, 30)}, not a name"
    if problem := _unstorable_text(ident, "the id"):
        return problem
    if len(ident) > MAX_ID:
        return f"the id is {len(ident):,} characters; the catalogue holds {MAX_ID}"
    if problem := _unstorable_text(record.provider, "the provider"):
        return problem
    for index, alias in enumerate(record.aliases):
        if not isinstance(alias, str) or len(alias) > MAX_ID:
            return f"alias {index + 1} is {shown(alias, 30)}: not a name of at most {MAX_ID} characters"
        if problem := _unstorable_text(alias, f"alias {index + 1}"):
            return problem
    for name, value in record.fields.items():
        if problem := _field_problem(name, value):
            return problem
    return None


def statement_problem(statement: PriceStatement) -> str | None:
    """Why a price feed's row cannot be stored (matched or listed as unmatched), or None."""
    for name in ("provider_key", "model_key"):
        value = getattr(statement, name)
        limit = UnmatchedPrice._meta.get_field(name).max_length
        if not isinstance(value, str) or not value.strip():
            return f"{name} is {shown(value, 30) if value else 'empty'}, not a name"
        if problem := _unstorable_text(value, name):
            return problem
        if len(value) > limit:
            return f"{name} is {len(value):,} characters; the catalogue holds {limit}"
    return _unstorable_text(statement.fields, "fields") or _unstorable_text(list(statement.notes), "notes")


def screen_records(records: list[SourceRecord]) -> Screened:
    """The records that can be stored, and the refused ones with the reason."""
    return _screen(records, record_problem, lambda record: record.external_id)


def screen_statements(statements: list[PriceStatement]) -> Screened:
    """The price rows that can be stored, and the refused ones with the reason."""
    return _screen(statements, statement_problem, lambda row: f"{row.provider_key}/{row.model_key}")


def _screen(items: list, problem_of: Callable[[Any], str | None], label_of: Callable[[Any], Any]) -> Screened:
    screened = Screened(kept=[], refused=[])
    for item in items:
        problem = problem_of(item)
        if problem is None:
            screened.kept.append(item)
        else:
            screened.refused.append(Refused(shown(label_of(item), 120), problem))
    return screened
