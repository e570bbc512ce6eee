"""The one factory for outbound httpx clients: timeouts, the user agent, pooled limits, never a redirect.

Modelled on Zulip's OutgoingSession: a caller names its purpose and gets a client configured the one way. Redirects
are never followed (httpx's default, stated here so no caller can turn it on): a provider key sent to one host
must not travel to whatever host a redirect names.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import httpx

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_CONNECTIONS = 10


@functools.cache
def _version() -> str:
    try:
        return metadata.version("modelgraph")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0"


def user_agent(purpose: str) -> str:
    """`ModelGraph/<version> (<purpose>)`: every outbound request says who we are and what for."""
    return f"ModelGraph/{_version()} ({purpose})"


@dataclass(frozen=True)
class ClientOptions:
    """How one purpose's clients are configured; `sync_client` and `async_client` build from the same options."""

    purpose: str
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float | None = None
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    base_url: str = ""
    headers: Mapping[str, str] | None = None
    verify: ssl.SSLContext | bool = True

    def httpx_options(self) -> dict[str, Any]:
        connect = self.timeout if self.connect_timeout is None else min(self.connect_timeout, self.timeout)
        limits = httpx.Limits(max_connections=self.max_connections, max_keepalive_connections=self.max_connections)
        return {
            "base_url": self.base_url,
            "timeout": httpx.Timeout(self.timeout, connect=connect),
            "limits": limits,
            "headers": {"User-Agent": user_agent(self.purpose), **(self.headers or {})},
            "follow_redirects": False,
            "verify": self.verify,
        }


def sync_client(purpose: str, **options: Any) -> httpx.Client:
    """A blocking client for `purpose` (`ingestion`, …); close it, or use it as a context manager. `options` are
    `ClientOptions` fields (timeout, connect_timeout, max_connections, base_url, headers, verify)."""
    return httpx.Client(**ClientOptions(purpose, **options).httpx_options())


def async_client(purpose: str, **options: Any) -> httpx.AsyncClient:
    """An asyncio client for `purpose` (`snapshots`, `probe`, …); create and close it on the loop that uses it."""
    return httpx.AsyncClient(**ClientOptions(purpose, **options).httpx_options())
