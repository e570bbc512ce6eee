"""Fetching OpenRouter: one async httpx client on a background event loop, bounded concurrency, retries with backoff.

The caller (a sync Django service) asks for one path at a time with `fetch`, or for many with `fetch_many`, which
yields each response as it arrives. At most `concurrency` responses are in flight or waiting to be processed: a
permit is given back only when the caller has finished with a response, so memory stays flat however long the
list of paths is. A body is received into one growing buffer (`_receive`), never as chunks joined at the end: a
15 MB list would otherwise be held twice over while it arrives.
"""

from __future__ import annotations

import asyncio
import queue
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import httpx

from modelgraph.outbound import (
    RETRYABLE,
    BodyTooLarge,
    FailureKind,
    RetryPolicy,
    aread_capped,
    async_client,
    retry_after_seconds,
)
from snapshots.conf import setting

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# A body that fails to decode (a garbled compressed answer) is fetched again too.
RETRY_FAILURES = RETRYABLE | {FailureKind.DECODE}


@dataclass
class Fetched:
    path: str
    status: int  # 0 when no answer came
    body: bytes | None
    error: str = ""
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.body is not None and not self.error


class SpooledAnswer:
    """An answer whose body waits in a temporary file while the same list is fetched again (the shrink guard), so a
    sync holds one list body in memory at a time: at 10x the real bodies the frontend list alone is 15 MB.

    The caller drops its own references to the answer; `restore()` gives it back whole, byte for byte. Where the
    file cannot be written (a full disk) the body stays in memory: the sync goes on, as before spooling."""

    def __init__(self, fetched: Fetched):
        self.fetched = replace(fetched, body=None)
        self.size = None if fetched.body is None else len(fetched.body)
        self.file = None
        self.held: bytes | None = None  # the body itself when it could not be written out (a full disk)
        if fetched.body is not None:
            try:
                self.file = tempfile.TemporaryFile(prefix="modelgraph-answer-")
                self.file.write(fetched.body)
                self.file.flush()
            except OSError:
                self.close()
                self.held = fetched.body

    def restore(self) -> Fetched:
        if self.held is not None:
            return replace(self.fetched, body=self.held)
        if self.file is None:
            return self.fetched
        self.file.seek(0)
        body = self.file.read()
        self.close()
        if len(body) != self.size:
            raise OSError(f"a spooled answer of {self.size} bytes came back as {len(body)}")
        return replace(self.fetched, body=body)

    def close(self) -> None:
        self.held = None
        if self.file is not None:
            self.file.close()
            self.file = None


class Crawler:
    """`with Crawler(base_url) as crawler:` — a client on its own event loop thread."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        concurrency: int | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float | None = None,
    ):
        self.base_url = (base_url or setting("SNAPSHOTS_BASE_URL")).rstrip("/")
        self.concurrency = concurrency or setting("SNAPSHOTS_CONCURRENCY")
        self.timeout = timeout or setting("SNAPSHOTS_TIMEOUT")
        self.max_bytes = setting("SNAPSHOTS_MAX_RESPONSE_BYTES")
        self.retries = setting("SNAPSHOTS_RETRIES") if retries is None else retries
        self.backoff = setting("SNAPSHOTS_BACKOFF") if backoff is None else backoff
        self.max_retry_after = setting("SNAPSHOTS_MAX_RETRY_AFTER")
        self.retry = RetryPolicy(
            attempts=self.retries + 1,
            backoff=self.backoff,
            backoff_max=self.max_retry_after,
            retry_after_max=self.max_retry_after,
            jitter=0.5,
            retry_on=RETRY_FAILURES,
            statuses=RETRY_STATUSES,
        )
        self.requests = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="snapshots-crawl", daemon=True)

    def __enter__(self) -> Crawler:
        self._thread.start()
        self._client = self._run(self._open())
        return self

    def __exit__(self, *exc) -> None:
        self._run(self._client.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _open(self) -> httpx.AsyncClient:
        return async_client(
            "snapshots",
            base_url=self.base_url,
            timeout=self.timeout,
            max_connections=self.concurrency,
            headers={"Accept": "application/json"},
        )

    async def _fetch(self, path: str) -> Fetched:
        status, body, error = 0, None, ""
        attempts = max(1, self.retry.attempts)
        for attempt in range(1, attempts + 1):
            self.requests += 1
            retry_after = None
            try:
                # One deadline for the whole answer: a body trickled a byte at a time passes every read timeout.
                async with asyncio.timeout(self.timeout):
                    status, body, headers = await self._receive(path)
            except httpx.HTTPError as exc:
                status, body, error = 0, None, f"{type(exc).__name__}: {exc}"[:300]
                if isinstance(exc, httpx.TimeoutException):  # a read timeout and the deadline say the same
                    error = f"no complete answer within {self.timeout:g}s ({type(exc).__name__})"
                if not self.retry.retries_exception(exc):
                    break
            except TimeoutError:
                status, body, error = 0, None, f"no complete answer within {self.timeout:g}s"
                if not self.retry.retries(FailureKind.TIMEOUT):
                    break
            except BodyTooLarge as exc:
                status, body, error = 0, None, f"{exc} (SNAPSHOTS_MAX_RESPONSE_BYTES)"
                break  # the same answer again would be as large
            else:
                if status == 200:
                    return Fetched(path, 200, body, attempts=attempt)
                error = f"HTTP {status}"
                if not self.retry.retries_status(status):
                    break
                retry_after = retry_after_seconds(headers.get("Retry-After"))
            if attempt < attempts:
                await self.retry.async_sleep(self.retry.wait(attempt, retry_after))
        return Fetched(path, status, body, error, attempts=attempt)

    async def _receive(self, path: str) -> tuple[int, bytes, httpx.Headers]:
        """(status, body, headers) of one GET. The decoded chunks are written into a BytesIO as they arrive, whose
        `getvalue()` hands its buffer over without a copy: the body is in memory once, not once as chunks and once
        joined (what `response.content` does)."""
        async with self._client.stream("GET", path) as response:
            body = await aread_capped(response, self.max_bytes)  # refused beyond SNAPSHOTS_MAX_RESPONSE_BYTES
            return response.status_code, body, response.headers

    def fetch(self, path: str) -> Fetched:
        return self._run(self._fetch(path))

    def fetch_many(self, paths: Iterable[str]) -> Iterator[Fetched]:
        """Each path's response, in the order they arrive."""
        paths = list(paths)
        results: queue.Queue[Fetched] = queue.Queue()
        permits = asyncio.Semaphore(self.concurrency)

        async def one(path: str) -> None:
            try:
                results.put(await self._fetch(path))
            except BaseException as exc:  # never leave the consumer waiting
                results.put(Fetched(path, 0, None, f"{type(exc).__name__}: {exc}"[:300]))
                raise

        async def produce() -> None:
            tasks = set()
            for path in paths:
                await permits.acquire()
                task = asyncio.ensure_future(one(path))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

        producer = asyncio.run_coroutine_threadsafe(produce(), self._loop)
        try:
            for _ in paths:
                result = results.get()
                try:
                    yield result
                finally:
                    self._loop.call_soon_threadsafe(permits.release)
        finally:
            producer.cancel()
