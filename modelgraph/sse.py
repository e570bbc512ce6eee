"""The one Server-Sent Events reader every outbound client uses (telemetry probes, the gateway).

SSE allows three line endings — CRLF, LF and a bare CR — and a chunk may end between the CR and the LF of one
CRLF. `SseSplitter` normalises all three to LF as bytes arrive and hands out only complete lines or events.
"""

from __future__ import annotations


class SseSplitter:
    """Feed it chunks; get back complete lines (`lines`) or complete events (`events`), LF-terminated."""

    def __init__(self) -> None:
        self._pending = b""

    def _normalised(self, chunk: bytes) -> bytes:
        buffer = self._pending + chunk
        held = b""
        if buffer.endswith(b"\r"):
            # It may be the first half of a CRLF: decide when the next byte (or the end) arrives.
            buffer, held = buffer[:-1], b"\r"
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self._pending = held
        return buffer

    def lines(self, chunk: bytes) -> list[bytes]:
        """The complete lines (without their ending) that `chunk` finishes."""
        *complete, rest = self._normalised(chunk).split(b"\n")
        self._pending = rest + self._pending
        return complete

    def events(self, chunk: bytes) -> list[bytes]:
        """The complete events that `chunk` finishes, each with its blank-line terminator (`\\n\\n`)."""
        *complete, rest = self._normalised(chunk).split(b"\n\n")
        self._pending = rest + self._pending
        return [event + b"\n\n" for event in complete if event.strip()]

    def _final(self) -> bytes:
        # At the end of the stream a held CR can only have been a line ending.
        final = self._pending.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self._pending = b""
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
