"""How deep a JSON text nests, measured without parsing it: Python's parser recurses once per level and fails with
a RecursionError (a 500) on a few thousand brackets, so every JSON body is measured first and a deeper one refused
as the caller's error."""

from __future__ import annotations

import re

# A JSON string (escapes included) or one bracket: enough to measure nesting without parsing.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def nesting_exceeds(raw: bytes, limit: int) -> bool:
    """Whether the JSON text opens more than `limit` arrays/objects inside each other (brackets in strings aside)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False
