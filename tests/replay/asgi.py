"""An ASGI app on loopback under uvicorn: the streaming sibling of `tests.replay.server.LoopbackServer`.

The threaded server answers one request per thread with whole bodies; a fake provider streaming hundreds of SSE
responses at once needs an event loop, so it is an ASGI app (`tests.fakes.openai_server.FakeOpenAI`) run here, and
so is the project's own application when a test needs it live (`tests.routing.live.LiveServer`).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any, Self

import uvicorn


class AsgiLoopbackServer:
    """An ASGI app under uvicorn in a daemon thread on a free port: hundreds of concurrent streaming responses."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", lifespan: str = "on") -> None:
        self.app = app
        self.host = host
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto says TCP, and without it
        # Nagle holds each response body behind its headers for the client's delayed ACK (~40 ms per request).
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, 0))
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            lifespan=lifespan,
            log_level="critical",
            access_log=False,
            backlog=4096,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._serve, name=f"asgi-loopback-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _serve(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.socket]))

    def start(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:  # uvicorn offers no start-up event to wait on
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the ASGI loopback server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
