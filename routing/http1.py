"""The gateway's upstream HTTP/1.1 client: keep-alive connections on asyncio transports, parsed by httptools.

httpcore (under httpx) spent more CPU on a forwarded request than the rest of the gateway: anyio cancel scopes
around every socket call, h11's event objects, a pool that rechecks every connection on every request event. This
client does only what the gateway's hot path needs: a request is written as one buffer, the response is parsed by
httptools (llhttp, the parser uvicorn uses) straight from `data_received`, and the body is handed over as it arrives.

- One `Pool` per upstream origin and event loop (`pool_for`): idle connections are reused most-recently-freed first
  (sequential traffic keeps one warm connection), at most `max_connections` are open, a request waits for a free
  one within the pool timeout; idle ones expire after `keepalive_expiry`.
- A reused connection the server closed while it was idle (no byte of the answer received) is replaced once by a
  new one, as every keep-alive client does; any other failure is the caller's (the gateway retries elsewhere).
- Reads are bounded by the caller (`asyncio.timeout` around the request and between events); a request cancelled
  mid-answer closes its connection, which is never reused half-read.
- Errors are raised as httpcore's exception types, so `modelgraph.outbound.classify_exception` and the gateway's
  failure kinds are the same whichever client raised them.
- Never follows redirects, never decompresses (the gateway asks for `identity`), no proxies.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import re
import ssl
import time
import weakref
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpcore
import httptools

_UNSAFE = re.compile(rb"[\r\n\0]")
HIGH_WATER = 256 * 1024  # buffered body bytes at which reading from the socket pauses until the reader catches up


@functools.lru_cache(maxsize=1024)
def _target(url: str) -> tuple[tuple[str, str, int], bytes, bytes]:
    """((scheme, host, port), request target, Host header value) of an absolute http(s) URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise httpcore.UnsupportedProtocol(f"cannot send to {url[:80]!r}: an http(s) URL with a host is needed")
    default = 443 if scheme == "https" else 80
    try:
        port = parts.port or default
    except ValueError as exc:
        raise httpcore.UnsupportedProtocol(f"invalid port in {url[:80]!r}") from exc
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    host_header = host if port == default else f"{host}:{port}"
    return (scheme, parts.hostname, port), target.encode("ascii", "strict"), host_header.encode("idna")


def _head(method: str, target: bytes, host: bytes, headers: list[tuple[bytes, bytes]], length: int | None) -> bytes:
    lines = [b"%s %s HTTP/1.1" % (method.encode("ascii"), target), b"Host: " + host]
    for name, value in headers:
        lowered = name.lower()
        if lowered in (b"host", b"content-length", b"transfer-encoding", b"connection"):
            continue  # stated here, once
        lines.append(name + b": " + value)
    if length is not None:
        lines.append(b"Content-Length: %d" % length)
    if any(_UNSAFE.search(line) for line in lines):
        raise httpcore.LocalProtocolError("a request line or header holds a line break or NUL")
    return b"\r\n".join(lines) + b"\r\n\r\n"


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: at most one request at a time, its answer parsed as it arrives."""

    def __init__(self, pool: Pool):
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = time.monotonic()
        self.requests = 0
        self.gone = False  # no longer counted by the pool
        self._reset()

    def _reset(self) -> None:
        self.received = 0  # bytes of the current answer received so far
        self.headers: list[tuple[bytes, bytes]] = []
        self.status = 0
        self.head_done: asyncio.Future | None = None
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.complete = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future | None = None
        self.framed = False  # Content-Length or chunked: the end of the body is known without the connection closing
        self.paused = False
        self.keep_alive = False

    # asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpcore.RemoteProtocolError(f"malformed upstream response: {exc}"))
            self.close()

    def eof_received(self) -> bool:
        return False  # close the transport: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        answered = self.head_done is not None and self.head_done.done() and self.error is None
        if answered and not self.complete and not self.framed:
            self.on_message_complete(keep=False)  # a body that ends when the connection does
        elif not self.complete:
            if self.head_done is None or not self.head_done.done():
                error: Exception = httpcore.RemoteProtocolError("the upstream closed the connection without an answer")
            else:
                error = httpcore.ReadError(f"the upstream closed the connection mid-answer{f': {exc}' if exc else ''}")
            self._fail(error)
        if self.transport is not None:
            self.pool._discard(self)

    def pause_writing(self) -> None:  # a request body larger than the socket buffer: the transport buffers it
        pass

    def resume_writing(self) -> None:
        pass

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        lowered = name.lower()
        if lowered == b"content-length" or (lowered == b"transfer-encoding" and b"chunked" in value.lower()):
            self.framed = True

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if self.status < 200:  # an interim answer (100 Continue, 103 Early Hints): the final one follows
            self.headers, self.framed = [], False
            return
        if self.head_done is not None and not self.head_done.done():
            self.head_done.set_result(None)

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self, keep: bool | None = None) -> None:
        if self.status < 200:
            return
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive() if keep is None else keep
        self._wake()

    # the client side
    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        if self.head_done is not None and not self.head_done.done():
            self.head_done.set_exception(error)
            self.head_done.exception()  # retrieved: no "never retrieved" warning when nobody awaits it
        self._wake()

    async def send(self, head: bytes, content: bytes) -> None:
        """Write a request and wait for the head of its answer."""
        assert self.transport is not None
        self._reset()
        self.requests += 1
        self.head_done = asyncio.get_running_loop().create_future()
        self.transport.write(head + content if len(content) < 65536 else head)
        if len(content) >= 65536:
            self.transport.write(content)
        await self.head_done

    async def next_chunk(self) -> bytes | None:
        """The next piece of the body as received, or None at its end."""
        while not self.chunks:
            if self.complete:
                return None
            if self.error is not None:
                raise self.error
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        chunk = self.chunks.popleft()
        self.buffered -= len(chunk)
        if self.paused and self.buffered <= HIGH_WATER // 4 and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return chunk

    def reusable(self) -> bool:
        return not self.closed and self.complete and self.keep_alive and self.transport is not None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


DEFAULT_MAX_BODY = 64 * 1024 * 1024  # the largest answer `aread` takes unless the caller says otherwise


class Response:
    """An upstream answer: status and headers at once, the body read whole (`aread`) or as it arrives."""

    __slots__ = ("_connection", "_content", "_max_body", "headers", "status")

    def __init__(self, connection: _Connection):
        self._connection: _Connection | None = connection
        self.status = connection.status
        self.headers = connection.headers
        self._content: bytes | None = None
        self._max_body = connection.pool.max_body

    @property
    def content(self) -> bytes:
        if self._content is None:
            raise RuntimeError("the body was not read: call aread() or pass stream=False")
        return self._content

    async def aiter_stream(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            return
        try:
            while (chunk := await connection.next_chunk()) is not None:
                yield chunk
        except BaseException:
            await self.aclose()
            raise
        await self.aclose()

    async def aread(self) -> bytes:
        """The whole body; more than the pool's `max_body` bytes is a ReadError (the connection is closed)."""
        if self._content is None:
            limit = self._max_body
            buffer = bytearray()
            async for chunk in self.aiter_stream():
                buffer += chunk
                if len(buffer) > limit:
                    await self.aclose()
                    raise httpcore.ReadError(f"the answer is larger than {limit:,} bytes (ROUTING_MAX_RESPONSE_BYTES)")
            self._content = bytes(buffer)
        return self._content

    async def aclose(self) -> None:
        """Give the connection back when the answer was read to its end; close it otherwise."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.pool._release(connection)


class Pool:
    """Keep-alive connections to one origin (scheme, host, port) on one event loop."""

    def __init__(
        self,
        origin: tuple[str, str, int],
        *,
        ssl_context: ssl.SSLContext | None,
        max_connections: int,
        keepalive_expiry: float,
        max_body: int = DEFAULT_MAX_BODY,
    ):
        self.origin = origin
        self.max_body = max_body
        self.ssl_context = ssl_context if origin[0] == "https" else None
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self.idle: list[_Connection] = []
        self.open = 0
        self.opened = 0  # connections made over the pool's life (tests and the bench read it)
        self.waiting: collections.deque[asyncio.Future] = collections.deque()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: list[tuple[bytes, bytes]],
        content: bytes = b"",
        connect_timeout: float,
        stream: bool = False,
    ) -> Response:
        """Send a request and return its answer: read whole, or (`stream`) with the body still to read, in which
        case the caller must read it to its end or `aclose` it."""
        _, target, host = _target(url)
        head = _head(method, target, host, headers, len(content) if content or method in ("POST", "PUT") else None)
        for attempt in (1, 2):
            connection = await self._acquire(connect_timeout)
            reused = connection.requests > 0
            try:
                await connection.send(head, content)
            except (httpcore.RemoteProtocolError, httpcore.ReadError, OSError) as exc:
                self._release(connection)
                if attempt == 1 and reused and connection.received == 0:
                    continue  # closed by the server while idle: once more on a new connection
                if isinstance(exc, OSError):
                    raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc
                raise
            except BaseException:
                self._release(connection)  # cancelled or timed out: closed, never reused half-read
                raise
            response = Response(connection)
            if not stream:
                await response.aread()
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _acquire(self, connect_timeout: float) -> _Connection:
        while True:
            now = time.monotonic()
            while self.idle:
                connection = self.idle.pop()
                if not connection.closed and now - connection.idle_since < self.keepalive_expiry:
                    return connection
                self._drop(connection)
            if self.open < self.max_connections:
                break
            waiter = asyncio.get_running_loop().create_future()
            self.waiting.append(waiter)
            try:
                async with asyncio.timeout(connect_timeout):
                    await waiter
            except TimeoutError:
                raise httpcore.PoolTimeout("no upstream connection became free in time") from None
            finally:
                if waiter in self.waiting:
                    self.waiting.remove(waiter)
        self.open += 1
        try:
            return await self._connect(connect_timeout)
        except BaseException:
            self.open -= 1
            self._wake_one()
            raise

    async def _connect(self, timeout: float) -> _Connection:
        scheme, host, port = self.origin
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    functools.partial(_Connection, self),
                    host,
                    port,
                    ssl=self.ssl_context,
                    server_hostname=host if self.ssl_context is not None else None,
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"connecting to {host}:{port} timed out") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpcore.ConnectError(f"{type(exc).__name__}: {exc}") from exc
        self.opened += 1
        return connection

    def _release(self, connection: _Connection) -> None:
        if connection.reusable():
            connection.idle_since = time.monotonic()
            self.idle.append(connection)
            self._wake_one()
        else:
            self._drop(connection)

    def _drop(self, connection: _Connection) -> None:
        connection.close()
        self._discard(connection)

    def _discard(self, connection: _Connection) -> None:
        """A connection that is gone: no longer counted (called once per connection, on close or on loss)."""
        if connection.gone:
            return
        connection.gone = True
        if connection in self.idle:
            self.idle.remove(connection)
        self.open -= 1
        self._wake_one()

    def _wake_one(self) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        for connection in list(self.idle):
            self._drop(connection)


_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str, int], Pool]] = (
    weakref.WeakKeyDictionary()
)


def pool_for(
    url: str,
    *,
    ssl_context: ssl.SSLContext,
    max_connections: int,
    keepalive_expiry: float,
    max_body: int = DEFAULT_MAX_BODY,
) -> Pool:
    """The pool of `url`'s origin on the running event loop (made on first use); `max_body` as the caller says
    now (the largest answer `aread` takes)."""
    origin = _target(url)[0]
    loop = asyncio.get_running_loop()
    pools = _pools.get(loop)
    if pools is None:
        pools = _pools[loop] = {}
    pool = pools.get(origin)
    if pool is None:
        pool = pools[origin] = Pool(
            origin, ssl_context=ssl_context, max_connections=max_connections, keepalive_expiry=keepalive_expiry
        )
    pool.max_body = max_body
    return pool
