"""Real HTTP servers on loopback for tests and the bench: the one place that owns the serving mechanics and faults.

`LoopbackServer` is the machinery: a threaded HTTP/1.1 server on 127.0.0.1 (a free port), a log of the requests it
was asked, an in-flight count, and `send`/`inject` to answer or to misbehave. Subclasses only decide what to answer
(`respond`): `ReplayServer` below from a route table, `tests.snapshots.replay.CatalogueServer` from a scripted
OpenRouter catalogue. `tests.replay.asgi.AsgiLoopbackServer` runs an ASGI app under uvicorn instead, for many
concurrent streams (`tests.fakes.openai_server`, the fake OpenAI-compatible provider).

    server = ReplayServer().start()
    base_url = server.mount("anthropic")                  # routes from tests/fixtures/sources/anthropic/routes.json
    server.fault("truncated", path="/v1/models", query={"after_id": "claude-3-opus-20240229"})
    ... adapter.fetch(client=client, base_url=base_url, api_key="k") ...
    server.requests_to("/v1/models")[0].headers["x-api-key"]

Routes match on method, path and a subset of the query (a `None` value means "absent"); the most specific match
wins. A `Fault` applies to the first `times` matching requests (or all): `delay`, `timeout`, `status` (429 with
Retry-After, 500, 401…), `malformed`, `truncated` (mode "length": Content-Length larger than the bytes sent; mode
"cut": the JSON cut in half), `schema_change` (valid JSON of another shape) and `reset` (the connection dropped
without an answer). `latency` delays every response.
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sources"
FAULT_KINDS = frozenset(
    {"delay", "timeout", "status", "malformed", "truncated", "schema_change", "reset", "trickle", "endless", "bomb"}
)
BOMB_BYTES = 256 * 1024 * 1024  # a gzip bomb: 256 MiB of blanks (4x the default cap) from 250 KB on the wire
SCHEMA_CHANGED = {"object": "page", "results": [{"model_id": "gpt-4o", "created_at": 1715367049}], "has_next": False}


@dataclass
class Fault:
    kind: str
    seconds: float = 5.0  # delay / timeout: how long the server sits on the request; trickle: between bytes
    status: int = 500
    retry_after: str | float | None = None
    body: Any = None  # status / schema_change: the body to send instead (bytes, str or JSON-able)
    mode: str = "length"  # truncated: "length" or "cut"
    times: int | None = None  # only the first N matching requests; None: every one
    used: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {sorted(FAULT_KINDS)}")
        if self.kind == "truncated" and self.mode not in ("length", "cut"):
            raise ValueError("truncated mode is 'length' or 'cut'")
        if self.kind == "bomb":
            _bomb()  # packed now, not while a client waits on the first request

    @property
    def active(self) -> bool:
        return self.times is None or self.used < self.times


@dataclass
class Route:
    method: str
    path: str
    query: dict[str, Any] | None
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    hits: int = 0

    def fault(self, kind: str, *, times: int | None = None, **options) -> Route:
        self.faults.append(Fault(kind, times=times, **options))
        return self

    def matches(self, method: str, path: str, query: dict[str, list[str]]) -> bool:
        if method != self.method or path != self.path:
            return False
        for key, wanted in (self.query or {}).items():
            values = query.get(key)
            if wanted is None:
                if values:
                    return False
            elif isinstance(wanted, list | tuple):
                if sorted(values or []) != sorted(wanted):
                    return False
            elif not values or str(wanted) not in values:
                return False
        return True


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # percent-decoded
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


def as_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def _malformed(body: bytes) -> bytes:
    """The same body made invalid right after its first bracket; balanced, so it reads as malformed, not cut."""
    at = min((i for i in (body.find(b"{"), body.find(b"[")) if i >= 0), default=-1)
    if at < 0:
        return b"<html><body>502 Bad Gateway</body></html>"
    return body[: at + 1] + b" ,, " + body[at + 1 :]


@functools.cache
def _bomb() -> bytes:
    """A JSON array of BOMB_BYTES (blanks inside brackets, so valid JSON if read whole), gzipped: about 1 MB."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as packed:
        packed.write(b"[")
        blank = b" " * (1024 * 1024)
        for _ in range(BOMB_BYTES // len(blank)):
            packed.write(blank)
        packed.write(b"]")
    return out.getvalue()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stalls
    server: _Server

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):  # the client hung up: nothing to answer
            pass

    def do_GET(self) -> None:
        self.server.owner.handle(self)

    do_POST = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        return  # keep test output quiet


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 512  # the default backlog of 5 refuses bursts of concurrent connections
    owner: LoopbackServer


class LoopbackServer:
    """Serving, request log and fault injection; a subclass implements `respond` (what to answer one request)."""

    def __init__(self, *, host: str = "127.0.0.1", latency: float = 0.0) -> None:
        self.host = host
        self.latency = latency
        self.in_flight = self.max_in_flight = 0
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ---------------------------------------------------------------------------------------------
    def start(self) -> Self:
        self._stopping.clear()
        self._server = _Server((self.host, 0), Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sitting on a delay or timeout fault
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if not self._server:
            raise RuntimeError("the loopback server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- what was asked -----------------------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    # --- serving ------------------------------------------------------------------------------------------------
    def handle(self, handler: Handler) -> None:
        parts = urlsplit(handler.path)
        headers = {name.lower(): value for name, value in handler.headers.items()}
        request = RecordedRequest(
            handler.command, unquote(parts.path), parse_qs(parts.query, keep_blank_values=True), headers
        )
        with self._lock:
            self._requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                self._stopping.wait(self.latency)
            self.respond(handler, request)
        finally:
            with self._lock:
                self.in_flight -= 1

    def respond(self, handler: Handler, request: RecordedRequest) -> None:
        raise NotImplementedError

    def inject(self, handler: Handler, fault: Fault, status: int, body: bytes, headers: dict[str, str]) -> None:
        """Answer with `fault` applied to the response (`status`, `body`, `headers`) that would have been sent."""
        kind, headers = fault.kind, dict(headers)
        if kind == "reset":
            handler.close_connection = True
            return
        if kind in ("delay", "timeout"):
            self._stopping.wait(fault.seconds)
            return self.send(handler, status, body, headers)
        if kind == "status":
            injected = {"message": f"injected HTTP {fault.status}", "type": "injected_fault", "code": fault.status}
            error = fault.body if fault.body is not None else {"error": injected}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            return self.send(handler, fault.status, as_bytes(error), headers)
        if kind == "malformed":
            return self.send(handler, 200, _malformed(body), headers)
        if kind in ("trickle", "endless", "bomb"):
            return self._stream(handler, fault, body, headers)
        if kind == "schema_change":
            changed = fault.body if fault.body is not None else SCHEMA_CHANGED
            return self.send(handler, 200, as_bytes(changed), headers)
        half = body[: len(body) // 2]
        if fault.mode == "cut":
            return self.send(handler, 200, half, headers)
        # "length": promise the whole body, send half, hang up
        return self.send(handler, 200, half, headers, content_length=len(body), close=True)

    def _stream(self, handler: Handler, fault: Fault, body: bytes, headers: dict[str, str]) -> None:
        """trickle: the whole body promised, then one byte every `seconds` (each read arrives well within any read
        timeout, the body never in any reasonable time); endless: a chunked body that never ends, as fast as the
        client reads it; bomb: a gzip-encoded body that inflates to BOMB_BYTES."""
        try:
            handler.send_response(200)
            for name, value in headers.items():
                handler.send_header(name, value)
            if fault.kind == "bomb":
                wire = _bomb()
                handler.send_header("Content-Encoding", "gzip")
                handler.send_header("Content-Length", str(len(wire)))
                handler.end_headers()
                handler.wfile.write(wire)
                handler.wfile.flush()
                return
            if fault.kind == "endless":
                handler.send_header("Transfer-Encoding", "chunked")
                handler.end_headers()
                chunk = b" " * 65536
                frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
                handler.wfile.write(b"1\r\n[\r\n")
                while not self._stopping.is_set():
                    handler.wfile.write(frame)
                return
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            for index in range(len(body)):
                handler.wfile.write(body[index : index + 1])
                handler.wfile.flush()
                if self._stopping.wait(fault.seconds):
                    return
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the client gave up, as it should
        handler.close_connection = True

    @staticmethod
    def send(
        handler: Handler,
        status: int,
        body: bytes,
        headers: dict[str, str],
        *,
        content_length: int | None = None,
        close: bool = False,
    ) -> None:
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(body) if content_length is None else content_length))
            if close:
                handler.send_header("Connection", "close")
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(body)
            handler.wfile.flush()
            if close:
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError, OSError):
            handler.close_connection = True  # the client gave up (a timeout fault): nothing left to tell it


class ReplayServer(LoopbackServer):
    """Recorded responses from a route table (`route`, `mount`), with faults per route (`fault`)."""

    def __init__(self, *, host: str = "127.0.0.1", latency: float = 0.0) -> None:
        super().__init__(host=host, latency=latency)
        self._routes: list[Route] = []

    # --- routes and faults --------------------------------------------------------------------------------------
    def route(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        json: Any = None,
        file: str | Path | None = None,
        body: bytes | str | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Route:
        if file is not None:
            payload = Path(file).read_bytes()
        elif body is not None:
            payload = as_bytes(body)
        else:
            payload = as_bytes(json)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        new = Route(method.upper(), path, dict(query) if query else None, payload, status, all_headers)
        with self._lock:
            self._routes.append(new)
        return new

    def routes(self, *, path: str | None = None, method: str = "GET", query: dict | None = None) -> list[Route]:
        """Routes on a path (every path when None) whose own query agrees with `query` where both name a key."""
        with self._lock:
            found = [r for r in self._routes if r.method == method and (path is None or r.path == path)]
        if query:
            found = [r for r in found if all((r.query or {}).get(k, v) == v for k, v in query.items())]
        return found

    def fault(
        self,
        kind: str,
        *,
        path: str | None = None,
        method: str = "GET",
        query: dict | None = None,
        times: int | None = None,
        **options,
    ) -> list[Route]:
        """Add a fault to every matching route (see `routes`); returns them. Raises if none matched."""
        targets = self.routes(path=path, method=method, query=query)
        if not targets:
            raise LookupError(f"no route for {method} {path} {query or ''} to fault")
        for target in targets:
            target.fault(kind, times=times, **options)
        return targets

    def mount(self, source: str, *, prefix: str = "", directory: Path = FIXTURES) -> str:
        """Serve a source's recorded responses (its `routes.json`) under `prefix`; returns the base URL to use."""
        base_url = f"{self.url}{prefix}"
        manifest = json.loads((directory / source / "routes.json").read_text())
        for spec in manifest["routes"]:
            headers = {k: v.replace("{base_url}", base_url) for k, v in spec.get("headers", {}).items()}
            self.route(
                spec.get("method", "GET"),
                prefix + spec["path"],
                query=spec.get("query"),
                file=directory / source / spec["file"],
                status=spec.get("status", 200),
                headers=headers,
            )
        return base_url

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self._requests.clear()

    def respond(self, handler: Handler, request: RecordedRequest) -> None:
        with self._lock:
            candidates = [r for r in self._routes if r.matches(request.method, request.path, request.query)]
            # most specific first; among equals the latest added, so a test can override a mounted route
            route = max(reversed(candidates), key=lambda r: len(r.query or {}), default=None)
            fault = next((f for f in route.faults if f.active), None) if route else None
            if route:
                route.hits += 1
            if fault:
                fault.used += 1
        if route is None:
            message = {
                "error": {"message": f"no replay route for {request.method} {handler.path}", "type": "not_found"}
            }
            return self.send(handler, 404, as_bytes(message), {"Content-Type": "application/json"})
        if fault is None:
            return self.send(handler, route.status, route.body, route.headers)
        return self.inject(handler, fault, route.status, route.body, route.headers)
