"""An ASGI application (modelgraph.asgi, or the gateway lane routing.asgi) under uvicorn in a background thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn


class LiveServer:
    def __init__(self, app: str = "modelgraph.asgi", host: str = "127.0.0.1"):
        import importlib

        application = importlib.import_module(app).application
        self.host = host
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, 0))
        self.port = self.socket.getsockname()[1]
        lifespan = "on" if app == "routing.asgi" else "off"  # Django's own application has no lifespan
        config = uvicorn.Config(
            application, lifespan=lifespan, log_level="warning", access_log=False, timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.socket])), name="live-gateway", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live gateway did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
