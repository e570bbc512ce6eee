"""An ASGI application (modelgraph.asgi, or the gateway lane routing.asgi) live on loopback under uvicorn."""

from __future__ import annotations

import importlib

from tests.replay.asgi import AsgiLoopbackServer


class LiveServer(AsgiLoopbackServer):
    def __init__(self, app: str = "modelgraph.asgi", host: str = "127.0.0.1"):
        lifespan = "on" if app == "routing.asgi" else "off"  # Django's own application has no lifespan
        super().__init__(importlib.import_module(app).application, host=host, lifespan=lifespan)
