"""Reading an answer's body within bounds: at most `limit` bytes (decoded) and, for blocking reads, by a deadline.

httpx's `read()` takes whatever arrives: a body that never ends, or a small gzip that inflates to gigabytes, fills
the worker's memory, and a body trickled a byte at a time passes every read timeout. Each reader here refuses a
body as soon as it declares or reaches more than `limit` bytes, and the blocking one gives up at `deadline`.
"""

from __future__ import annotations

import io
import time

import httpx


class BodyTooLarge(Exception):
    """The answer declared, or delivered, more than the limit: refused before it is held whole."""

    def __init__(self, limit: int, detail: str) -> None:
        super().__init__(f"the answer is larger than {limit:,} bytes: {detail}")
        self.limit, self.detail = limit, detail


class BodyTooSlow(Exception):
    """The body was still arriving at the deadline."""

    def __init__(self, received: int) -> None:
        super().__init__(f"{received:,} bytes of the body had arrived")
        self.received = received


def _check_declared(response: httpx.Response, limit: int) -> None:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit, f"it declares {int(declared):,} bytes")


def read_capped(response: httpx.Response, limit: int, *, deadline: float | None = None) -> bytes:
    """A streamed response's decoded body, kept as its `.content` too (as `read()` does)."""
    _check_declared(response, limit)
    buffer = io.BytesIO()
    for chunk in response.iter_bytes():
        if buffer.tell() + len(chunk) > limit:
            raise BodyTooLarge(limit, f"more than {limit:,} bytes arrived")
        if deadline is not None and time.monotonic() > deadline:
            raise BodyTooSlow(buffer.tell())
        buffer.write(chunk)
    response._content = body = buffer.getvalue()
    return body


async def aread_capped(response: httpx.Response, limit: int) -> bytes:
    """The async form (its deadline is the caller's `asyncio.timeout`): one growing buffer, never chunks joined,
    and handed over only as the result (not kept on the response too, which may outlive the caller's use of it)."""
    _check_declared(response, limit)
    buffer = io.BytesIO()
    async for chunk in response.aiter_bytes():
        if buffer.tell() + len(chunk) > limit:
            raise BodyTooLarge(limit, f"more than {limit:,} bytes arrived")
        buffer.write(chunk)
    return buffer.getvalue()
