"""Structured logs (`LOG_FORMAT=json`): one JSON object a line with time, level, logger, message and request id.

The request id is the one of the request being served where the line was logged (modelgraph/request_id.py), or a
`request_id` passed in `extra`; lines logged outside any request carry none. Tracebacks go in `exception`, whatever a
caller put in `extra` beside the standard fields is kept under its own name.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from modelgraph.request_id import current_request_id

# The attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            line["request_id"] = request_id
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in line:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)
