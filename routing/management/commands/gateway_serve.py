"""Serve the gateway (routing.asgi: /v1/ lean, the rest Django) under uvicorn with N worker processes.

`uvicorn --workers N` binds its listening socket without IPPROTO_TCP, so asyncio never sets TCP_NODELAY on the
accepted connections and every keep-alive response waits ~40 ms for the client's delayed ACK (uvicorn issue
#3149). This command binds the socket itself, with the protocol stated, and hands it to uvicorn's supervisor.
"""

from __future__ import annotations

import socket

import uvicorn
from django.core.management.base import BaseCommand
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

    def handle(self, *args, host, port, workers, app, backlog, log_level, **options):
        sock = bind(host, port, backlog)
        config = uvicorn.Config(
            app,
            workers=workers,
            log_level=log_level,
            access_log=False,
            backlog=backlog,
            timeout_graceful_shutdown=10,
            lifespan="auto",
        )
        self.stdout.write(f"gateway: {app} on http://{host}:{sock.getsockname()[1]} with {workers} worker(s)")
        if workers <= 1:
            uvicorn.Server(config).run(sockets=[sock])
        else:
            Multiprocess(config, sockets=[sock]).run()
