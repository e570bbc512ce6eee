"""Calling the WSGI fast lane and Django's own WSGI handler in-process, as a WSGI server would."""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO

from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections

from modelgraph.fastlane import FastLane


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # by lower-cased name
    body: bytes
    names: list[str] = field(default_factory=list)  # as sent

    def json(self):
        import json

        return json.loads(self.body)

    def __getitem__(self, name: str) -> str:
        return self.headers[name.lower()]


@dataclass
class Apps:
    """Django's handler, the lane in front of it, and every path Django itself was asked for."""

    django: WSGIHandler
    lane: FastLane
    django_paths: list[str] = field(default_factory=list)


def environ(path: str, method: str = "GET", **headers: str) -> dict:
    path_info, _, query = path.partition("?")
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": BytesIO(),
        "wsgi.errors": BytesIO(),
    }
    env.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    return env


def call(app, path: str, method: str = "GET", **headers: str) -> Answer:
    captured: dict = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"], captured["headers"] = int(status.split()[0]), response_headers

    # As Django's test client does: a request must not close the test's database connection (its transaction).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        result = app(environ(path, method, **headers), start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    sent = captured["headers"]
    return Answer(captured["status"], {name.lower(): value for name, value in sent}, body, [name for name, _ in sent])


def make_apps() -> Apps:
    django = WSGIHandler()
    apps = Apps(django=django, lane=None)  # type: ignore[arg-type]

    def counted(environ, start_response):
        apps.django_paths.append(environ["PATH_INFO"])
        return django(environ, start_response)

    apps.lane = FastLane(counted)
    return apps


# What differs between two answers to the same request by design: a fresh request id each time.
PER_REQUEST_HEADERS = {"x-request-id"}


def assert_same_answer(django: Answer, lane: Answer) -> None:
    """The lane's answer is Django's: status, body and every header (names and values) but the request id."""
    assert lane.status == django.status
    assert lane.body == django.body
    assert {k: v for k, v in lane.headers.items() if k not in PER_REQUEST_HEADERS} == {
        k: v for k, v in django.headers.items() if k not in PER_REQUEST_HEADERS
    }


def assert_goes_to_django(apps: Apps, warm: str, url: str) -> None:
    """After the lane has answered `warm` (so it knows the route's headers), `url` is handed to Django, whose answer
    the lane passes on unchanged."""
    call(apps.lane, warm)
    paths = len(apps.django_paths)
    lane = call(apps.lane, url)
    assert len(apps.django_paths) == paths + 1
    assert_same_answer(call(apps.django, url), lane)
