"""The API's JSON parser: DRF's, refusing a body nested deeper than API_MAX_JSON_DEPTH with a 400 before parsing
it (Python's parser fails with a RecursionError, a 500, on a few thousand brackets), and a body holding a NUL
character (`\\u0000`) anywhere, naming where: PostgreSQL can neither store nor compare one, so a NUL in a slug
list was a database error, a 500."""

from __future__ import annotations

import io
import re

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

from modelgraph.json_depth import nesting_exceeds

NUL = "\x00"


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        limit = settings.API_MAX_JSON_DEPTH
        if nesting_exceeds(raw, limit):
            raise ParseError(f"JSON parse error - the body nests arrays or objects more than {limit} deep.")
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:  # a limit set above what the interpreter's stack allows
            raise ParseError("JSON parse error - the body nests arrays or objects too deep.") from None
        where = _nul_at(data, "")
        if where is not None:  # named as a parameter's error, like any other bad value
            parameter = re.split(r"[.\[]", where, maxsplit=1)[0] if isinstance(data, dict) else "non_field_errors"
            message = f"a NUL character (\\u0000) in {where or 'the body'}: it cannot be stored"
            raise ValidationError({parameter.replace(NUL, "\\u0000"): [message.replace(NUL, "\\u0000")]})
        return data


def _nul_at(value, path: str) -> str | None:
    """Where the first NUL character is in parsed JSON (`allowed_models[0]`), or None."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, list):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(value))
    elif isinstance(value, dict):
        for key in value:
            if NUL in key:
                return f"{path}.{key}" if path else key
        items = ((f"{path}.{key}" if path else key, item) for key, item in value.items())
    else:
        return None
    for at, item in items:
        found = _nul_at(item, at)
        if found is not None:
            return found
    return None
