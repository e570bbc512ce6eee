"""Structured logs: with LOG_FORMAT=json every line is one JSON object (time, level, logger, message, request id);
a request's lines carry its X-Request-Id; a LOG_FORMAT that is neither plain nor json stops start-up naming it."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from django.test import Client

from modelgraph.logging_json import JsonFormatter
from modelgraph.request_id import REQUEST_ID

ROOT = Path(__file__).resolve().parents[2]


def formatted(record_logger: str, message: str, *args, **kwargs) -> dict:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(record_logger)
    logger.addHandler(handler)
    try:
        logger.warning(message, *args, **kwargs)
    finally:
        logger.removeHandler(handler)
    (line,) = stream.getvalue().splitlines()
    return json.loads(line)


class TestJsonFormatter:
    def test_a_line_is_one_object_with_the_standard_fields(self):
        line = formatted("modelgraph.tests", "probed %d offers", 3)
        assert {key: line[key] for key in ("level", "logger", "message")} == {
            "level": "WARNING",
            "logger": "modelgraph.tests",
            "message": "probed 3 offers",
        }
        assert datetime.fromisoformat(line["time"]).utcoffset().total_seconds() == 0
        assert "request_id" not in line  # logged outside any request

    def test_the_current_request_id_and_extra_fields_are_kept(self):
        token = REQUEST_ID.set("req-123")
        try:
            line = formatted("modelgraph.tests", "hello", extra={"pool": "tools", "attempts": 2})
        finally:
            REQUEST_ID.reset(token)
        assert line["request_id"] == "req-123"
        assert (line["pool"], line["attempts"]) == ("tools", 2)

    def test_a_traceback_stays_inside_the_one_line(self):
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            line = formatted("modelgraph.tests", "failed", exc_info=True)
        assert line["exception"].startswith("Traceback") and "ValueError: boom" in line["exception"]


@pytest.mark.django_db
def test_a_requests_log_lines_carry_its_request_id():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = Client().get("/api/no-such-thing", HTTP_X_REQUEST_ID="edge-4711")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 404 and response["x-request-id"] == "edge-4711"
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["request_id"] == "edge-4711" and line["message"] == "Not Found: /api/no-such-thing"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "modelgraph.settings.base", **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


class TestLogFormatSetting:
    def test_log_format_json_makes_every_line_json(self):
        code = "import logging; logging.getLogger('modelgraph.smoke').warning('from %s', 'the shell')"
        result = manage("shell", "-c", code, LOG_FORMAT="json", LOG_LEVEL="INFO")
        assert result.returncode == 0, result.stderr[-2000:]
        lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
        expected = {"level": "WARNING", "logger": "modelgraph.smoke", "message": "from the shell"}
        assert expected.items() <= lines[-1].items() and "time" in lines[-1]

    def test_an_unknown_log_format_stops_start_up_naming_the_variable(self):
        result = manage("check", LOG_FORMAT="yaml")
        assert result.returncode != 0
        assert "LOG_FORMAT must be 'plain' or 'json'" in result.stderr
