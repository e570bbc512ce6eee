"""The one SSE reader: LF, CRLF and bare-CR line endings, in any chunking."""

from __future__ import annotations

import random

import pytest

from modelgraph.sse import SseSplitter, SseTooLong

BODY = 'data: {"a": 1}\n\n: keep-alive\n\ndata: [DONE]\n\n'


def _chunked(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "bare-cr"])
@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
class TestSseSplitter:
    def test_events_are_the_same_whatever_the_line_ending_and_chunking(self, ending, size):
        splitter = SseSplitter()
        events = []
        for chunk in _chunked(BODY.replace("\n", ending).encode(), size):
            events.extend(splitter.events(chunk))
        events.extend(splitter.end_events())
        assert events == [b'data: {"a": 1}\n\n', b": keep-alive\n\n", b"data: [DONE]\n\n"]

    def test_lines_are_the_same_whatever_the_line_ending_and_chunking(self, ending, size):
        splitter = SseSplitter()
        lines = []
        for chunk in _chunked(BODY.replace("\n", ending).encode(), size):
            lines.extend(splitter.lines(chunk))
        lines.extend(splitter.end_lines())
        assert [line for line in lines if line] == [b'data: {"a": 1}', b": keep-alive", b"data: [DONE]"]


def test_an_unterminated_last_line_is_handed_out_at_the_end():
    splitter = SseSplitter()
    assert splitter.lines(b"data: 1\rdata: 2") == [b"data: 1"]
    assert splitter.end_lines() == [b"data: 2"]


def test_an_unterminated_last_event_is_dropped_at_the_end():
    splitter = SseSplitter()
    assert splitter.events(b"data: 1\r\rdata: 2\r") == [b"data: 1\n\n"]
    assert splitter.end_events() == []


def test_a_crlf_split_between_chunks_is_one_line_ending_not_two():
    splitter = SseSplitter()
    assert splitter.events(b"data: 1\r\n\r") == []
    assert splitter.events(b"\ndata: 2\r\n\r\n") == [b"data: 1\n\n", b"data: 2\n\n"]


def _reference_events(body: bytes) -> list[bytes]:
    """The events of a whole body read at once: the answer every chunking must give."""
    text = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    *complete, _unterminated = text.split(b"\n\n")
    return [event + b"\n\n" for event in complete if event.strip()]


def test_any_chunking_of_mixed_endings_gives_the_events_of_the_whole_body():
    rng = random.Random(7)
    pieces = [b"data: x", b"data: {}", b": c", b"\n", b"\r\n", b"\r", b"\n\n", b"\r\n\r\n", b"\r\r", b"id: 1"]
    for _ in range(300):
        body = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        cuts = sorted(rng.sample(range(len(body) + 1), k=min(len(body) + 1, rng.randint(0, 8))))
        splitter, events, last = SseSplitter(), [], 0
        for cut in [*cuts, len(body)]:
            events.extend(splitter.events(body[last:cut]))
            last = cut
        events.extend(splitter.end_events())
        assert events == _reference_events(body), body


def test_an_event_without_end_is_refused_past_the_limit():
    splitter = SseSplitter(max_pending=1000)
    assert splitter.events(b"data: " + b"x" * 900 + b"\n\n") == [b"data: " + b"x" * 900 + b"\n\n"]
    with pytest.raises(SseTooLong, match="longer than 1,000 bytes"):
        for _ in range(20):
            splitter.events(b"y" * 100)
