"""Serving one chat completion: resolve → plan → attempts (retry and rotate) → answer, then the request log row.

Streams are passed through event by event as they arrive. Until the first event has gone downstream, a failure is
retried like any other; after it, the stream ends with one `data: {"error": …}` event (no `[DONE]`) and is never
retried: a second answer would be appended to the first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from django.utils import timezone

from modelgraph import metrics
from modelgraph.request_id import current_request_id
from modelgraph.secrets import redact
from routing import connectors, embeddings, errors, key_limits, retry, upstream
from routing.candidates import OPENAI_API, STREAMING, SYNC, RouteCandidate
from routing.chat_request import ChatRequest, chat_request_parse
from routing.conf import setting
from routing.connectors.openai_compat import chat_payload
from routing.models import Endpoint, Outcome
from routing.pipeline import NoRoute, Plan
from routing.router import CAPABILITY, Router, Target, UnknownTarget

logger = logging.getLogger(__name__)
# Retry-After of a 503 when no member will come back by itself (all on standby, or none serves the model yet).
UNKNOWN_RETRY_AFTER = 30
__all__ = ["Answer", "ChatRequest", "StreamAnswer", "chat_request_parse", "complete", "embed", "stream"]
# The path that serves each capability endpoint (a capability of another endpoint is refused there).
ENDPOINT_PATHS = {Endpoint.CHAT: "/v1/chat/completions", Endpoint.EMBEDDINGS: "/v1/embeddings"}


@dataclass
class Exchange:
    """What one request did, for its answer headers and its request log row."""

    router: Router
    request: ChatRequest
    started: float
    at: object = field(default_factory=timezone.now)
    target: Target | None = None
    plan: Plan | None = None
    candidate: RouteCandidate | None = None
    attempts: list[dict] = field(default_factory=list)
    status: int = 200
    outcome: str = Outcome.SUCCESS
    ttft_ms: float | None = None
    usage: dict | None = None
    error: str = ""
    request_id: str = field(default_factory=current_request_id)
    key: key_limits.KeyGrant | None = field(default_factory=key_limits.current_grant.get)
    refused: bool = False  # by the key's scopes or limits

    def elapsed_ms(self) -> float:
        return round((self.router.monotonic() - self.started) * 1000, 3)

    def attempted(self, candidate: RouteCandidate, failure: retry.Failure | None, began: float) -> None:
        ms = round((self.router.monotonic() - began) * 1000, 3)
        entry = {"route": candidate.label, "mapping_id": candidate.mapping_id, "ms": ms}
        if failure is not None:
            entry.update(kind=failure.kind, status=failure.status, error=failure.describe()[:200])
        self.attempts.append(entry)

    def failed(self, error: errors.GatewayError, outcome: str) -> None:
        self.status, self.outcome, self.error = error.status, outcome, error.message

    def headers(self) -> dict[str, str]:
        headers = {"X-ModelGraph-Attempts": str(len(self.attempts))}
        if self.candidate is not None:
            headers["X-ModelGraph-Route"] = self.candidate.label
        if self.plan is not None:
            headers["X-ModelGraph-Pool"] = self.plan.spec.slug
        return headers

    def record(self) -> dict:
        usage, c = self.usage or {}, self.candidate
        return {
            "at": self.at,
            "requested": self.request.model[:300],
            "capability_id": self.target.capability.id if self.target and self.target.kind == CAPABILITY else None,
            "pool_id": self.plan.spec.id if self.plan else None,
            "mapping_id": c.mapping_id if c else None,
            "provider_id": c.provider_id if c else None,
            "stream": self.request.stream,
            "status": self.status,
            "outcome": self.outcome,
            "attempts": len(self.attempts),
            "attempt_log": self.attempts,
            "latency_ms": self.elapsed_ms(),
            "ttft_ms": self.ttft_ms,
            "prompt_tokens": usage.get("prompt_tokens"),
            "completion_tokens": usage.get("completion_tokens"),
            "error": self.error,
            "price_input": c.price_input if c else None,
            "price_output": c.price_output if c else None,
            "request_id": self.request_id,
        }

    def observed(self, latency_ms: float) -> None:
        """This request in the gateway's metrics (modelgraph/metrics.py); every model request shares pool "model"
        (a pool label per model would grow without bound)."""
        spec, c = self.plan.spec if self.plan else None, self.candidate
        pool = "none" if spec is None else ("model" if spec.capability_id is None and spec.id is None else spec.slug)
        ttft = None if self.ttft_ms is None else self.ttft_ms / 1000
        metrics.gateway_request_observed(
            pool, c.provider_slug if c else "none", self.outcome, self.request.stream, latency_ms / 1000, ttft
        )


async def _begin(router: Router, request: ChatRequest, exchange: Exchange, endpoint: str = Endpoint.CHAT) -> Plan:
    try:
        exchange.target = target = await router.resolve(request.model)
    except UnknownTarget:
        raise errors.GatewayError(
            404,
            f"No capability or model is called {request.model[:200]!r}.",
            param="model",
            type=errors.NOT_FOUND,
            code="model_not_found",
        ) from None
    if target.capability is not None and target.capability.endpoint != endpoint:
        raise errors.GatewayError(
            400,
            f"{target.capability.slug!r} is not served by {ENDPOINT_PATHS[endpoint]}; use "
            f"{ENDPOINT_PATHS.get(target.capability.endpoint, 'another endpoint')}.",
            param="model",
            code="unsupported_capability",
        )
    try:
        key_limits.enforce(exchange.key, target, await router.get_table())
    except key_limits.KeyRefused:
        exchange.refused = True
        raise
    try:
        exchange.plan = await router.plan(target, STREAMING if request.stream else SYNC)
    except NoRoute as exc:
        raise errors.GatewayError(
            503, str(exc), type=errors.UNAVAILABLE, code="no_available_provider", headers=_retry_after(exc.retry_after)
        ) from None
    return exchange.plan


def _retry_after(seconds: float | None) -> dict[str, str]:
    """When to ask again: the soonest moment a member comes back (at least 1 s), else UNKNOWN_RETRY_AFTER."""
    wait = UNKNOWN_RETRY_AFTER if seconds is None else max(1, math.ceil(seconds))
    return {"Retry-After": str(wait)}


async def _attempts(router: Router, exchange: Exchange, send: Callable[[RouteCandidate, float], Awaitable]):
    """Try the plan's members per its retry policy until one answers; raises GatewayError when none does."""
    plan = exchange.plan
    scheduler = retry.AttemptScheduler(plan.candidates, plan.spec.retry, clock=router.monotonic, rng=router.rng)
    failures: list[retry.Failure] = []
    while (step := scheduler.next()) is not None:
        candidate, delay = step
        if delay > 0:
            await router.sleep(delay)
        began = router.monotonic()
        try:
            result = await send(candidate, scheduler.remaining())
        except upstream.AttemptFailed as exc:
            failure = exc.failure
            exchange.attempted(candidate, failure, began)
            metrics.gateway_upstream_failed(candidate.provider_slug, failure.kind)
            exchange.candidate = candidate
            await router.rotation.record(candidate, failure, plan.spec.rotation)
            if failure.kind == retry.CLIENT:
                raise errors.relayed_client_error(failure.status, failure.body, failure.message) from None
            router.strategies.failed(plan.route_set.key, candidate)
            scheduler.failed(candidate, failure)
            failures.append(failure)
            continue
        exchange.attempted(candidate, None, began)
        exchange.candidate = candidate
        router.strategies.succeeded(plan.route_set.key, candidate, exchange.attempts[-1]["ms"])
        return candidate, result
    raise _exhausted(exchange, failures)


def _exhausted(exchange: Exchange, failures: list[retry.Failure]) -> errors.GatewayError:
    if not failures:
        return errors.GatewayError(
            503,
            f"No attempt fit in the time budget for {exchange.request.model!r}.",
            type=errors.UNAVAILABLE,
            code="no_available_provider",
            headers=_retry_after(1),
        )
    last = failures[-1].describe()
    if all(f.kind == retry.RATE_LIMITED for f in failures):
        waits = [f.retry_after for f in failures if f.retry_after is not None]
        headers = {"Retry-After": str(max(1, round(min(waits))))} if waits else {}
        return errors.GatewayError(
            429,
            f"Every provider tried is rate limiting: {last}",
            type=errors.RATE_LIMIT,
            code="rate_limit_exceeded",
            headers=headers,
        )
    count = len(failures)
    return errors.GatewayError(
        502,
        f"{count} attempt{'s' if count > 1 else ''} failed; the last: {last}",
        type=errors.UPSTREAM,
        code="upstream_failed",
    )


async def _finish(router: Router, exchange: Exchange) -> None:
    key_limits.settle(exchange.key, exchange.candidate, exchange.usage, refused=exchange.refused)
    record = exchange.record()
    exchange.observed(record["latency_ms"])
    await router.log.submit(record)


async def _send_sync(request: ChatRequest, candidate: RouteCandidate, remaining: float) -> tuple[bytes, str, dict]:
    """(answer, content type, answer as a dict): relayed as it came from an OpenAI-compatible upstream, translated
    from a native API's by its connector."""
    timeout = min(setting("ROUTING_REQUEST_TIMEOUT"), remaining)
    if candidate.api != OPENAI_API:
        return await connectors.send_chat(candidate, request, timeout)
    response = await upstream.send_chat(candidate, chat_payload(request, candidate), timeout)
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("error") or "choices" not in body:
        detail = redact(response.content[:120].decode("utf-8", "replace"))
        raise upstream.AttemptFailed(retry.Failure(retry.SERVER, f"malformed answer: {detail!r}", status=200))
    return response.content, upstream.header(response, "content-type", "application/json"), body


@dataclass
class Answer:
    body: bytes
    content_type: str
    headers: dict


async def complete(router: Router, request: ChatRequest) -> Answer:
    """A non-streaming completion, or GatewayError."""
    return await _answer(router, request, Endpoint.CHAT, _send_sync)


async def embed(router: Router, request: embeddings.EmbeddingsRequest) -> Answer:
    """Embeddings (/v1/embeddings) through the same plan, retries and rotation as a completion, or GatewayError."""
    return await _answer(router, request, Endpoint.EMBEDDINGS, embeddings.send, embeddings.serves)


async def _answer(router: Router, request: ChatRequest, endpoint: str, send, serves=None) -> Answer:
    exchange = Exchange(router, request, router.monotonic())
    try:
        plan = await _begin(router, request, exchange, endpoint)
        if serves is not None:
            plan.candidates = [c for c in plan.candidates if serves(c)]
            if not plan.candidates:
                raise errors.GatewayError(
                    503,
                    f"No live provider for {request.model!r} serves {ENDPOINT_PATHS[endpoint]}.",
                    type=errors.UNAVAILABLE,
                    code="no_available_provider",
                    headers=_retry_after(None),
                )
        candidate, (content, content_type, body) = await _attempts(
            router, exchange, lambda c, remaining: send(request, c, remaining)
        )
    except errors.GatewayError as exc:
        exchange.failed(exc, _outcome_of(exc))
        exc.headers = {**exchange.headers(), **exc.headers}
        await _finish(router, exchange)
        raise
    exchange.usage = body.get("usage") if isinstance(body.get("usage"), dict) else None
    await router.rotation.record(candidate, None, plan.spec.rotation)
    await _finish(router, exchange)
    return Answer(content, content_type, exchange.headers())


def _outcome_of(error: errors.GatewayError) -> str:
    if error.status == 503:
        return Outcome.UNAVAILABLE
    if error.status in (502, 429) and error.type in (errors.UPSTREAM, errors.RATE_LIMIT):
        return Outcome.UPSTREAM_ERROR
    return Outcome.CLIENT_ERROR


@dataclass
class StreamAnswer:
    headers: dict
    events: AsyncIterator[bytes]


async def stream(router: Router, request: ChatRequest) -> StreamAnswer:
    """A streaming completion once its first event is in hand (so failures before it get a proper status)."""
    exchange = Exchange(router, request, router.monotonic())

    async def attempt(candidate: RouteCandidate, remaining: float):
        timeout = min(setting("ROUTING_FIRST_TOKEN_TIMEOUT"), remaining)
        if candidate.api != OPENAI_API:
            return await connectors.open_stream(candidate, request, timeout)
        return await upstream.open_stream(candidate, chat_payload(request, candidate), timeout)

    try:
        await _begin(router, request, exchange)
        candidate, (events, first) = await _attempts(router, exchange, attempt)
    except errors.GatewayError as exc:
        exchange.failed(exc, _outcome_of(exc))
        exc.headers = {**exchange.headers(), **exc.headers}
        await _finish(router, exchange)
        raise
    return StreamAnswer(exchange.headers(), _relay(router, exchange, candidate, events, first))


def _usage(value: dict) -> tuple[dict | None, bool]:
    """The usage a chunk carries, and whether it is the usage-only chunk that `include_usage` adds."""
    if not isinstance(value.get("usage"), dict):
        return None, False
    return value["usage"], not value.get("choices")


async def _relay(
    router: Router, exchange: Exchange, candidate: RouteCandidate, events: upstream.EventStream, first: bytes
) -> AsyncIterator[bytes]:
    """Pass each event on; a stall, a cut, a malformed chunk or an error event ends the stream as failed."""
    failure: retry.Failure | None = None
    stall = setting("ROUTING_STALL_TIMEOUT")
    finished = relayed = done = False
    try:
        exchange.ttft_ms = exchange.elapsed_ms()
        yield first
        while not done:
            try:
                async with asyncio.timeout(stall):
                    event = await events.next()
            except TimeoutError:
                failure = retry.Failure(retry.STREAM, f"the upstream stalled: nothing for {stall:g} s")
                break
            except upstream.UPSTREAM_ERRORS as exc:
                failure = upstream.failure_from_exception(exc, "after the first chunk")
                break
            if event is None:
                failure = retry.Failure(retry.STREAM, "the upstream closed the stream before [DONE]")
                break
            data = upstream.data_of(event)
            done = data == upstream.DONE
            if data is not None and not done:
                value = upstream.chunk_json(data)
                if value is None:
                    failure = retry.Failure(retry.STREAM, "the upstream sent a malformed chunk")
                    break
                if value.get("error"):
                    yield event  # already an OpenAI-shaped error event: it is the last one
                    failure = retry.Failure(retry.STREAM, "the upstream sent an error event mid-stream")
                    relayed = True
                    break
                usage, usage_only = _usage(value)
                exchange.usage = usage or exchange.usage
                if usage_only and not exchange.request.include_usage:
                    continue
            yield event
        if failure is not None and not relayed:
            yield errors.sse_error(
                f"The stream from {candidate.label} failed after it started: {failure.message}",
                code="stream_interrupted",
            )
        finished = True
        if done:
            await events.finish()
    finally:
        await events.aclose()
        if not finished:
            exchange.outcome, exchange.error = Outcome.CANCELLED, "the client went away"
        elif failure is not None:
            exchange.outcome, exchange.error = Outcome.STREAM_ERROR, failure.message
        await _settle(router, exchange, candidate, failure if finished else None, finished)


async def _settle(router, exchange, candidate, failure, finished) -> None:
    try:
        if finished:
            await router.rotation.record(candidate, failure, exchange.plan.spec.rotation)
            if failure is not None:
                router.strategies.failed(exchange.plan.route_set.key, candidate)
                metrics.gateway_upstream_failed(candidate.provider_slug, failure.kind)
        await _finish(router, exchange)
    except Exception:  # cleanup of a stream must never raise into the server
        logger.exception("routing: could not settle a stream")
