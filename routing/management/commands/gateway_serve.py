"""Serve the gateway (routing.asgi: /v1/ lean, the rest Django) under uvicorn with N worker processes.

`uvicorn --workers N` binds its listening socket without IPPROTO_TCP, so asyncio never sets TCP_NODELAY on the
accepted connections and every keep-alive response waits ~40 ms for the client's delayed ACK (uvicorn issue
#3149). This command binds the socket itself, with the protocol stated, and hands it to uvicorn's supervisor.
"""

from __future__ import annotations

import socket

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand
from uvicorn.config import LOGGING_CONFIG
from uvicorn.supervisors import Multiprocess


def bind(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--app", default="routing.asgi:application", help="ASGI application (import string)")
        parser.add_argument("--backlog", type=int, default=2048)
        parser.add_argument("--log-level", default="warning")
        # auto: uvloop and httptools (both pinned), the C event loop and HTTP parser; asyncio / h11 to compare.
        parser.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"])
        parser.add_argument("--http", default="auto", choices=["auto", "h11", "httptools"])

    def handle(self, *args, host, port, workers, app, backlog, log_level, loop, http, **options):
        sock = bind(host, port, backlog)
        config = uvicorn.Config(
            app,
            workers=workers,
            log_level=log_level,
            loop=loop,
            http=http,
            access_log=False,
            backlog=backlog,
            timeout_graceful_shutdown=10,
            lifespan="auto",
            # LOG_FORMAT=json: uvicorn's own lines go through the project's JSON handler too, not its text format.
            log_config=None if settings.LOG_FORMAT == "json" else LOGGING_CONFIG,
        )
        self.stdout.write(f"gateway: {app} on http://{host}:{sock.getsockname()[1]} with {workers} worker(s)")
        if workers <= 1:
            uvicorn.Server(config).run(sockets=[sock])
        else:
            Multiprocess(config, sockets=[sock]).run()
