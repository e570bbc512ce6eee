"""Text PostgreSQL will store: it refuses a NUL character in text and JSON, and a lone surrogate in JSON.

Both reach us inside valid JSON from outside (`"\\u0000"`; `"\\ud83d"` where JavaScript cut a string inside an
emoji). Catalogue data holding them is refused where it enters (ingestion/screening.py); what only describes or
indexes something kept elsewhere byte for byte (a run's message, a snapshot event's before and after: the archive
keeps the answer itself) is stored with such characters written out as visible escapes.
"""

from __future__ import annotations

from typing import Any


def storable_text(text: str) -> str:
    """`text` with each NUL as `\\x00` and each lone surrogate as `\\udXXX`; any other text unchanged."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def storable(value: Any) -> Any:
    """`storable_text` applied to every string in a JSON-like value (keys too)."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    return value


def is_storable(value: Any) -> bool:
    """Whether every string in `value` is text PostgreSQL stores as it is."""
    if isinstance(value, str):
        return storable_text(value) == value
    if isinstance(value, dict):
        return all(is_storable(key) and is_storable(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return all(is_storable(item) for item in value)
    return True
