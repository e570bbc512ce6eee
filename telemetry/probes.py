"""The probes: async httpx, bounded concurrency, one deadline per probe, no ORM (plain targets in, results out).

A health probe is a GET of the provider's model listing (`{base}/models`) or, per mapping, of OpenAI's cheap
"retrieve model" (`{base}/models/{id}`). A latency probe is a small streaming chat completion with a fixed prompt
and `max_tokens`, timed to the first token and to `[DONE]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

import httpx
from django.utils import timezone

from modelgraph.outbound import BodyTooLarge, aread_capped, async_client
from modelgraph.secrets import redact as secrets_redact
from modelgraph.sse import SseSplitter, SseTooLong
from modelgraph.storable_text import storable_text
from telemetry.classification import ErrorClass, Outcome, classify_exception, classify_status
from telemetry.conf import ProbeConfig

logger = logging.getLogger(__name__)

HEALTH = "health"
LATENCY = "latency"
KINDS = (HEALTH, LATENCY)
_ERROR_BODY_BYTES = 2048
SHARD_CONNECTIONS = 4
_TOKEN_DELTA_KEYS = ("content", "reasoning_content", "reasoning", "tool_calls")


@dataclass(frozen=True)
class ProbeTarget:
    """What to probe. `skip` says why it is not probed at all (no key, no endpoint): recorded as not configured."""

    kind: str
    provider_id: int
    mapping_id: int | None
    label: str
    base_url: str = ""
    api_key: str | None = field(default=None, repr=False)
    model: str = ""
    stream: bool = True
    skip: ErrorClass | None = None


@dataclass
class ProbeResult:
    target: ProbeTarget
    checked_at: datetime
    outcome: Outcome = Outcome.FAILURE
    status_code: int | None = None
    response_ms: float | None = None
    ttft_ms: float | None = None
    output_tokens: int | None = None
    tokens_from_usage: bool = False
    tokens_per_second: float | None = None
    error_class: ErrorClass = ErrorClass.NONE
    error_message: str = ""

    @property
    def total_ms(self) -> float | None:
        return self.response_ms


class _ProbeFailed(Exception):
    def __init__(self, error_class: ErrorClass, message: str):
        super().__init__(message)
        self.error_class = error_class


def redact(message: str, secret: str | None) -> str:
    """Never let a key reach a log or a row, whatever an exception chose to print."""
    return secrets_redact(message, secret)[:300]


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _headers(target: ProbeTarget) -> dict[str, str]:
    headers = {"Accept": "text/event-stream" if target.kind == LATENCY and target.stream else "application/json"}
    if target.api_key:
        headers["Authorization"] = f"Bearer {target.api_key}"
    return headers


async def _error_body(response: httpx.Response, max_bytes: int) -> str:
    # Read it all (the deadline and the cap bound it) so the connection can be reused; keep the start.
    try:
        body = await aread_capped(response, max_bytes)
    except BodyTooLarge as large:
        return f"(an error body larger than {large.limit:,} bytes, not read)"
    # Stored with the sample: a NUL in it (PostgreSQL refuses one) would fail the round's whole insert.
    return storable_text(body[:_ERROR_BODY_BYTES].decode("utf-8", "replace"))


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    try:
        return await aread_capped(response, max_bytes)
    except BodyTooLarge as large:
        raise _ProbeFailed(ErrorClass.MALFORMED, str(large)) from None


def _read_line(line: bytes, result: ProbeResult, started: float, state: dict) -> None:
    if state["done"] or not line.startswith(b"data:"):
        # Blank separators, `: keep-alive` comments, `event:`/`id:` fields; anything after [DONE] is only read
        # so the connection goes back to the pool.
        return
    data = line[5:].strip()
    if data == b"[DONE]":
        state["done"], result.response_ms = True, _elapsed_ms(started)
        return
    try:
        chunk = json.loads(data)
    except ValueError:
        raise _ProbeFailed(ErrorClass.MALFORMED, f"malformed chunk: {data[:80].decode(errors='replace')!r}") from None
    if not isinstance(chunk, dict):
        raise _ProbeFailed(ErrorClass.MALFORMED, f"malformed chunk: {data[:80].decode(errors='replace')!r}")
    if chunk.get("error"):
        raise _ProbeFailed(ErrorClass.SERVER_ERROR, f"error in stream: {json.dumps(chunk['error'])[:200]}")
    if _has_token(chunk):
        state["token_chunks"] += 1
        if result.ttft_ms is None:
            result.ttft_ms = _elapsed_ms(started)
    usage_tokens = _usage_tokens(chunk)
    if usage_tokens is not None:
        result.output_tokens, result.tokens_from_usage = usage_tokens, True


def _has_token(chunk: dict) -> bool:
    for choice in chunk.get("choices") or []:
        delta = (choice or {}).get("delta") or (choice or {}).get("message") or {}
        if any(delta.get(key) for key in _TOKEN_DELTA_KEYS):
            return True
    return False


def _usage_tokens(chunk: dict) -> int | None:
    usage = chunk.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
        return usage["completion_tokens"]
    return None


async def _read_stream(response: httpx.Response, result: ProbeResult, started: float, max_bytes: int) -> None:
    """Parse SSE `data:` lines to `[DONE]`; time the first token; take output tokens from `usage` where given."""
    state = {"token_chunks": 0, "done": False}
    splitter = SseSplitter(max_pending=max_bytes)
    try:
        # Split lines ourselves from the raw bytes: httpx's text and line decoders cost more CPU than the probe.
        async for data in response.aiter_bytes():
            for line in splitter.lines(data):
                _read_line(line, result, started, state)
        for line in splitter.end_lines():
            _read_line(line, result, started, state)
    except SseTooLong as long:
        raise _ProbeFailed(ErrorClass.MALFORMED, f"stream: {long}") from None
    except httpx.TransportError:
        if not state["done"]:
            raise
        # After [DONE] the answer is complete; a connection dropped while draining only costs its reuse.
    done, token_chunks = state["done"], state["token_chunks"]
    if result.response_ms is None:
        result.response_ms = _elapsed_ms(started)
    if result.output_tokens is None and token_chunks:
        result.output_tokens = token_chunks  # one token per chunk: the usual framing when `usage` is missing
    if not done:
        raise _ProbeFailed(ErrorClass.STREAM_CUT, "stream ended before [DONE]")
    if result.ttft_ms is None:
        raise _ProbeFailed(ErrorClass.EMPTY_STREAM, "no token streamed")
    generation_s = (result.response_ms - result.ttft_ms) / 1000
    if result.output_tokens and generation_s > 0:
        result.tokens_per_second = round(result.output_tokens / generation_s, 3)


async def _read_json(response: httpx.Response, result: ProbeResult, started: float, max_bytes: int) -> None:
    content = await _read_capped(response, max_bytes)
    try:
        body = json.loads(content)
    except ValueError:
        raise _ProbeFailed(ErrorClass.MALFORMED, "answer is not JSON") from None
    # Without streaming the first token arrives with the whole answer: that is its time to first token.
    result.response_ms = result.ttft_ms = _elapsed_ms(started)
    if not isinstance(body, dict):
        raise _ProbeFailed(ErrorClass.MALFORMED, "answer is not a JSON object")
    result.output_tokens = _usage_tokens(body)
    result.tokens_from_usage = result.output_tokens is not None
    if not _has_token(body) and not result.output_tokens:
        raise _ProbeFailed(ErrorClass.EMPTY_STREAM, "no token in the answer")


def _request(target: ProbeTarget, config: ProbeConfig) -> tuple[str, str, dict | None]:
    base = target.base_url.rstrip("/")
    if target.kind == HEALTH:
        path = f"/models/{quote(target.model, safe='')}" if target.mapping_id else "/models"
        return "GET", base + path, None
    body = {
        "model": target.model,
        "messages": [{"role": "user", "content": config.prompt}],
        "max_tokens": config.max_tokens,
        "temperature": 0,
        "stream": target.stream,
    }
    if target.stream:
        body["stream_options"] = {"include_usage": True}
    return "POST", base + "/chat/completions", body


async def probe_one(client: httpx.AsyncClient | None, target: ProbeTarget, config: ProbeConfig) -> ProbeResult:
    """Run one probe; whatever happens it ends within `config.timeout` and returns a classified result."""
    result = ProbeResult(target=target, checked_at=timezone.now())
    if target.skip is not None:
        result.outcome, result.error_class = Outcome.NOT_CONFIGURED, target.skip
        return result
    method, url, body = _request(target, config)
    started = time.perf_counter()
    try:
        # One overall deadline: a provider that stalls mid-stream costs at most this, never more.
        async with asyncio.timeout(config.timeout):
            async with client.stream(method, url, json=body, headers=_headers(target)) as response:
                result.status_code = response.status_code
                result.outcome, result.error_class = classify_status(response.status_code)
                if result.outcome != Outcome.SUCCESS:
                    result.error_message = await _error_body(response, config.max_bytes)
                elif target.kind == HEALTH:
                    await _read_capped(response, config.max_bytes)
                elif target.stream:
                    await _read_stream(response, result, started, config.max_bytes)
                else:
                    await _read_json(response, result, started, config.max_bytes)
    except _ProbeFailed as failed:
        result.outcome, result.error_class, result.error_message = Outcome.FAILURE, failed.error_class, str(failed)
    except Exception as exc:  # a probe never takes the round down; classify_exception says whose fault it was
        result.outcome, result.error_class = classify_exception(exc)
        result.error_message = f"{type(exc).__name__}: {exc}"
        if result.error_class == ErrorClass.PROBE_ERROR:
            logger.warning("probe %s raised %s", target.label, type(exc).__name__)
    if result.response_ms is None:
        result.response_ms = _elapsed_ms(started)
    result.error_message = redact(result.error_message, target.api_key)
    return result


def _origin(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return url  # the probe itself will report it (config error)
    return f"{parsed.scheme}://{parsed.host}:{parsed.port}"


def _shard_targets(targets: list[ProbeTarget], concurrency: int) -> list[tuple[int, list[ProbeTarget]]]:
    """Split targets into (connection limit, targets) groups: one per origin, big origins split further.

    httpcore's pool scans every connection it holds for every request it assigns, so one pool of 50+ connections
    spends more CPU than the probes themselves; pools of at most SHARD_CONNECTIONS keep that cost flat.
    """
    by_origin: dict[str, list[ProbeTarget]] = {}
    for target in targets:
        by_origin.setdefault(_origin(target.base_url), []).append(target)
    shards = []
    for group in by_origin.values():
        connections = min(concurrency, len(group))
        count = math.ceil(connections / SHARD_CONNECTIONS)
        for index in range(count):
            shards.append((math.ceil(connections / count), group[index::count]))
    return shards


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """Loading the CA bundle takes ~20 ms: once per process, shared by every client (contexts are thread-safe)."""
    return httpx.create_ssl_context()


async def probe_many(
    targets: Iterable[ProbeTarget], config: ProbeConfig, on_result: Callable[[ProbeResult], None] | None = None
) -> list[ProbeResult]:
    """Probe every target, at most `config.concurrency` at a time, over pooled keep-alive connections."""
    targets = list(targets)
    semaphore = asyncio.Semaphore(config.concurrency)
    results: dict[int, ProbeResult] = {}

    async def run(client: httpx.AsyncClient | None, index: int, target: ProbeTarget) -> None:
        if target.skip is not None:
            result = await probe_one(client, target, config)
        else:
            async with semaphore:
                result = await probe_one(client, target, config)
        results[index] = result
        if on_result is not None:
            on_result(result)

    async with contextlib.AsyncExitStack() as stack:
        client_of: dict[int, httpx.AsyncClient] = {}
        for connections, group in _shard_targets([t for t in targets if t.skip is None], config.concurrency):
            client = await stack.enter_async_context(
                async_client(
                    "probe",
                    timeout=config.timeout,
                    connect_timeout=config.connect_timeout,
                    max_connections=connections,
                    verify=_ssl_context(),
                )
            )
            client_of.update((id(target), client) for target in group)
        # Jobs queue for the semaphore in the targets' order, so the shards' pools fill evenly.
        await asyncio.gather(*(run(client_of.get(id(t)), index, t) for index, t in enumerate(targets)))
    return [results[index] for index in range(len(targets))]


def probe_run(
    targets: Iterable[ProbeTarget], config: ProbeConfig, on_result: Callable[[ProbeResult], None] | None = None
) -> list[ProbeResult]:
    """Synchronous entry point for services, commands and tasks."""
    return asyncio.run(probe_many(list(targets), config, on_result))
