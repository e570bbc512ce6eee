"""The one Server-Sent Events reader every outbound client uses (telemetry probes, the gateway).

SSE allows three line endings — CRLF, LF and a bare CR — and a chunk may end between the CR and the LF of one
CRLF. `SseSplitter` normalises all three to LF as bytes arrive and hands out only complete lines or events.
"""

from __future__ import annotations

# One line or event held unfinished beyond this is an answer without end, not a chunk (an image in a chat answer
# is a few MB): the reader stops instead of holding it all.
MAX_PENDING_BYTES = 64 * 1024 * 1024


class SseTooLong(ValueError):
    """A line or event still unfinished after `limit` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"an event longer than {limit:,} bytes without its end")
        self.limit = limit


class SseSplitter:
    """Feed it chunks; get back complete lines (`lines`) or complete events (`events`), LF-terminated.

    Linear in what arrives: each chunk is normalised on its own (a CR at its end is held until the next byte tells
    whether it began a CRLF) and appended to the unfinished rest, which is split only when the chunk brought a
    separator. A line or event left unfinished past `max_pending` bytes raises SseTooLong."""

    def __init__(self, max_pending: int = MAX_PENDING_BYTES) -> None:
        self._pending = bytearray()  # normalised: no CR
        self._held_cr = False
        self.max_pending = max_pending

    def _append(self, chunk: bytes) -> int:
        """Append `chunk`, normalised; returns where a separator ending in the new bytes may start."""
        data = b"\r" + chunk if self._held_cr else chunk
        self._held_cr = data.endswith(b"\r")
        if self._held_cr:
            # It may be the first half of a CRLF: decide when the next byte (or the end) arrives.
            data = data[:-1]
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        start = max(0, len(self._pending) - 1)
        self._pending += data
        return start

    def _split(self, chunk: bytes, separator: bytes) -> list[bytes]:
        start = self._append(chunk)
        if self._pending.find(separator, start) < 0:
            complete: list[bytes] = []
        else:
            *complete, rest = bytes(self._pending).split(separator)
            self._pending = bytearray(rest)
        if len(self._pending) > self.max_pending:
            raise SseTooLong(self.max_pending)
        return complete

    def lines(self, chunk: bytes) -> list[bytes]:
        """The complete lines (without their ending) that `chunk` finishes."""
        return self._split(chunk, b"\n")

    def events(self, chunk: bytes) -> list[bytes]:
        """The complete events that `chunk` finishes, each with its blank-line terminator (`\\n\\n`)."""
        return [event + b"\n\n" for event in self._split(chunk, b"\n\n") if event.strip()]

    def _final(self) -> bytes:
        # At the end of the stream a held CR can only have been a line ending.
        final = bytes(self._pending) + (b"\n" if self._held_cr else b"")
        self._pending, self._held_cr = bytearray(), False
        return final

    def end_lines(self) -> list[bytes]:
        """At the end of the stream: the lines still held, the unterminated last one included."""
        final = self._final()
        lines = final.split(b"\n")
        return lines[:-1] + ([lines[-1]] if lines[-1] else [])

    def end_events(self) -> list[bytes]:
        """At the end of the stream: the events a held CR completes (an unterminated event is dropped)."""
        *complete, _unterminated = self._final().split(b"\n\n")
        return [event + b"\n\n" for event in complete if event.strip()]
