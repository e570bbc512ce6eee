"""The API's JSON parser: DRF's, refusing a body nested deeper than API_MAX_JSON_DEPTH with a 400 before parsing
it (Python's parser fails with a RecursionError, a 500, on a few thousand brackets)."""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from modelgraph.json_depth import nesting_exceeds


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        limit = settings.API_MAX_JSON_DEPTH
        if nesting_exceeds(raw, limit):
            raise ParseError(f"JSON parse error - the body nests arrays or objects more than {limit} deep.")
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:  # a limit set above what the interpreter's stack allows
            raise ParseError("JSON parse error - the body nests arrays or objects too deep.") from None
