"""How a JSON Schema error reads in `FILE:LINE: message`: the path, a refused character by name, no long echo."""

from __future__ import annotations

import re
import unicodedata

from jsonschema import ValidationError
from jsonschema.exceptions import best_match


def path_text(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


_SHOWN_CHARACTERS = 60


def _shown(value: object) -> str:
    """A value as messages show it: its repr, cut short (a message never carries more than a glimpse of a file)."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARACTERS else text[: _SHOWN_CHARACTERS - 4] + "…" + text[-3:]


def _character_name(character: str) -> str:
    return f"U+{ord(character):04X} {unicodedata.name(character, 'a control character')}"


def schema_message(error: ValidationError) -> str:
    """A schema error as `path: what is wrong`, naming a refused character and never echoing a long value."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        # Explain by the branch of the instance's own type (a string alias, not the mapping form).
        error = best_match([e for e in error.context if e.validator != "type"] or error.context)
    where, instance = path_text(error.absolute_path), error.instance
    if error.validator == "not" and isinstance(instance, str) and "pattern" in error.validator_value:
        bad = re.search(error.validator_value["pattern"], instance)
        character = _character_name(bad.group()) if bad else "a character"
        return f"{where}: {_shown(instance)} holds {character}, which is not allowed here"
    message = error.message
    if len(repr(instance)) > _SHOWN_CHARACTERS:
        message = message.replace(repr(instance), _shown(instance))
    if error.validator == "maxLength":
        message += f" (at most {error.validator_value} characters)"
    return f"{where}: {message}"
