"""Request log rows (and gateway key usage) off the hot path: a background thread writes them in batches (or inline,
for tests)."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque

from django.db import connections

from routing import services
from routing.conf import setting
from routing.key_usage import key_usage_flush, usage_tally
from routing.orm import db

logger = logging.getLogger(__name__)


class RequestLogWriter:
    """One daemon thread per process wakes every ROUTING_LOG_FLUSH_SECONDS and bulk-inserts what piled up.

    Requests only append to a deque (thread-safe, no lock, no wake-up of the writer): the hot path pays a few
    hundred nanoseconds, not a thread switch.
    """

    def __init__(self):
        self.records: deque[dict] = deque()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.writing = 0
        self.stopping = False

    def put(self, record: dict) -> None:
        self.records.append(record)
        if self.thread is None:
            self._start()

    def _start(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.stopping = False
                self.thread = threading.Thread(target=self._run, name="routing-log-writer", daemon=True)
                self.thread.start()
                atexit.register(self.stop)  # a worker that exits writes what it still holds

    def _run(self) -> None:
        try:
            while not self.stopping:
                self.wake.wait(setting("ROUTING_LOG_FLUSH_SECONDS"))
                self.wake.clear()
                self._drain()
        finally:
            self._drain()
            connections.close_all()

    def _drain(self) -> None:
        size = setting("ROUTING_LOG_BATCH")
        while self.records:
            batch = []
            with self.lock:
                self.writing += 1
            try:
                while self.records and len(batch) < size:
                    batch.append(self.records.popleft())
                self._write(batch)
            finally:
                with self.lock:
                    self.writing -= 1
        if usage_tally.pending():  # after the rows of the same requests; one upsert per key and day
            with self.lock:
                self.writing += 1
            try:
                key_usage_flush()
            finally:
                with self.lock:
                    self.writing -= 1

    def _write(self, batch: list[dict]) -> None:
        try:
            services.request_log_write_many(batch)
        except Exception:  # losing log rows must never take the gateway down; the next batch gets a new connection
            logger.exception("routing: could not write %d request log rows", len(batch))
            connections.close_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Write every record put so far now (tests, benchmarks, shutdown); False if that took too long."""
        deadline = time.monotonic() + timeout
        self.wake.set()
        while (self.records or self.writing or usage_tally.pending()) and time.monotonic() < deadline:
            if self.thread is None or not self.thread.is_alive():
                return not self.records
            time.sleep(0.01)
        return not self.records and not self.writing and not usage_tally.pending()

    def stop(self, timeout: float = 10.0) -> None:
        if self.thread is None:
            return
        self.stopping = True
        self.wake.set()
        self.thread.join(timeout)
        self.thread = None


class RequestLogSink:
    def __init__(self):
        self.writer = RequestLogWriter()

    async def submit(self, record: dict) -> None:
        if setting("ROUTING_LOG_MODE") == "inline":
            try:
                await db(services.request_log_write_many, records=[record])
            except Exception:
                logger.exception("routing: could not write a request log row")
            await db(key_usage_flush)
        else:
            self.writer.put(record)
