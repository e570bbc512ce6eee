"""In-process Python client with OpenAI's call shape, for code running inside ModelGraph (tasks, commands, shells):
the same pipeline, retries and rotation as /v1/chat/completions, without an HTTP hop to ourselves.

    from routing.client import Gateway
    answer = Gateway().chat.completions.create(model="code-generation", messages=[{"role": "user", "content": "…"}])
    for chunk in Gateway().chat.completions.create(model="deepseek-v3", messages=[…], stream=True):
        print(chunk["choices"][0]["delta"].get("content", ""), end="")

Answers are plain dicts (a `chat.completion`, or `chat.completion.chunk`s); failures raise `GatewayError` with the
status and OpenAI-style body the HTTP surface would answer. In async code use `AsyncGateway` (same shape, awaited).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace

from asgiref.sync import sync_to_async
from django.db import connections

from routing import gateway
from routing.errors import UPSTREAM, GatewayError
from routing.router import Router, get_router
from routing.upstream import data_of

__all__ = ["AsyncGateway", "Gateway", "GatewayError"]


async def _chunks(events) -> AsyncIterator[dict]:
    try:
        async for event in events:
            data = data_of(event)
            if data is None:
                continue
            if data == b"[DONE]":
                return
            chunk = json.loads(data)
            if isinstance(chunk, dict) and chunk.get("error"):
                error = chunk["error"]
                raise GatewayError(
                    200, error.get("message", "stream failed"), type=error.get("type", UPSTREAM), code=error.get("code")
                )
            yield chunk
    finally:
        await events.aclose()  # settles the exchange: rotation outcome and request log row


class _AsyncCompletions:
    def __init__(self, owner: AsyncGateway):
        self._owner = owner

    async def create(self, *, model: str, messages: list, stream: bool = False, **params):
        """A `chat.completion` dict, or (stream=True) an async iterator of `chat.completion.chunk` dicts."""
        request = gateway.chat_request_parse({**params, "model": model, "messages": messages, "stream": stream})
        router = self._owner.router
        if not stream:
            answer = await gateway.complete(router, request)
            return json.loads(answer.body)
        answer = await gateway.stream(router, request)
        return _chunks(answer.events)


class AsyncGateway:
    def __init__(self, router: Router | None = None):
        self._router = router
        self.chat = SimpleNamespace(completions=_AsyncCompletions(self))

    @property
    def router(self) -> Router:
        return self._router or get_router()


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_forever()
    loop.close()


class _Completions:
    def __init__(self, owner: Gateway):
        self._owner = owner

    def create(self, *, model: str, messages: list, stream: bool = False, **params):
        """A `chat.completion` dict, or (stream=True) an iterator of `chat.completion.chunk` dicts."""
        created = self._owner._run(
            self._owner._async.chat.completions.create(model=model, messages=messages, stream=stream, **params)
        )
        return self._owner._iterate(created) if stream else created


class Gateway:
    """Synchronous client: its own event loop in a daemon thread keeps the upstream connection pool warm."""

    def __init__(self, router: Router | None = None):
        self._async = AsyncGateway(router)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.chat = SimpleNamespace(completions=_Completions(self))

    def _run(self, coroutine):
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=_serve, args=(self._loop,), name="routing-client", daemon=True).start()
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def _iterate(self, chunks: AsyncIterator[dict]) -> Iterator[dict]:
        try:
            while True:
                try:
                    yield self._run(chunks.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self._run(chunks.aclose())

    def close(self) -> None:
        """Stop the loop thread and close the database connections its work opened."""
        if self._loop is not None and not self._loop.is_closed():
            self._run(sync_to_async(connections.close_all, thread_sensitive=True)())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop = None
