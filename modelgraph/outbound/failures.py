"""What an outbound failure is: one classifier for HTTP statuses and transport exceptions (httpx and httpcore).

Each app maps these kinds to its own words (ingestion's SourceErrorKind, telemetry's Outcome and ErrorClass, the
snapshot manifest's error string, the gateway's failure kinds); what a status or an exception *is* is decided here.
"""

from __future__ import annotations

from enum import StrEnum

import httpcore
import httpx


class FailureKind(StrEnum):
    TIMEOUT = "timeout"  # no answer in time, or the server says the request timed out (408, 504, 524)
    CONNECT = "connect"  # no connection: refused, unresolvable, TLS handshake failed
    TRUNCATED = "truncated"  # the connection closed or broke mid-answer
    DECODE = "decode"  # an answer whose body cannot be decoded
    NETWORK = "network"  # any other transport error
    CONFIG = "config"  # the request cannot be sent as configured: bad URL, unsupported scheme
    AUTH = "auth"  # 401/403: our key was refused
    RATE_LIMITED = "rate_limited"  # 429
    SERVER = "server"  # 5xx
    CLIENT = "client"  # other 4xx: our request is wrong
    REDIRECT = "redirect"  # 3xx: never followed (a key must not travel to another host)
    UNEXPECTED = "unexpected"  # an exception that is not a transport error (a bug), or a 1xx as a final status


# Worth another try: the same request may well succeed in a moment.
RETRYABLE = frozenset(
    {
        FailureKind.TIMEOUT,
        FailureKind.CONNECT,
        FailureKind.TRUNCATED,
        FailureKind.NETWORK,
        FailureKind.RATE_LIMITED,
        FailureKind.SERVER,
    }
)
TIMEOUT_STATUSES = frozenset({408, 504, 524})  # 524: Cloudflare's "origin timed out"

_TIMEOUTS = (TimeoutError, httpx.TimeoutException, httpcore.TimeoutException)
_CONFIG = (httpx.UnsupportedProtocol, httpx.InvalidURL, httpcore.UnsupportedProtocol)
_CONNECT = (httpx.ConnectError, httpcore.ConnectError, ConnectionRefusedError)
_TRUNCATED = (httpx.RemoteProtocolError, httpx.ReadError, httpcore.RemoteProtocolError, httpcore.ReadError)
_DECODE = (httpx.DecodingError, ValueError)  # ValueError: JSON and Unicode errors while reading the body
_NETWORK = (
    httpx.TransportError,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.ConnectionNotAvailable,
    httpcore.ProxyError,
    OSError,
)


def classify_status(status: int) -> FailureKind | None:
    """The failure a final HTTP status means; None for a 2xx."""
    if 200 <= status < 300:
        return None
    if status == 429:
        return FailureKind.RATE_LIMITED
    if status in (401, 403):
        return FailureKind.AUTH
    if status in TIMEOUT_STATUSES:
        return FailureKind.TIMEOUT
    if status >= 500:
        return FailureKind.SERVER
    if status >= 400:
        return FailureKind.CLIENT
    if status >= 300:
        return FailureKind.REDIRECT
    return FailureKind.UNEXPECTED


def classify_exception(exc: BaseException) -> FailureKind:
    """The failure an exception raised while sending a request or reading its answer means (order matters:
    TimeoutError and ConnectionRefusedError are OSErrors, httpx's timeouts and connect errors transport errors)."""
    if isinstance(exc, _TIMEOUTS):
        return FailureKind.TIMEOUT
    if isinstance(exc, _CONFIG):
        return FailureKind.CONFIG
    if isinstance(exc, _CONNECT):
        return FailureKind.CONNECT
    if isinstance(exc, _TRUNCATED):
        return FailureKind.TRUNCATED
    if isinstance(exc, _DECODE):
        return FailureKind.DECODE
    if isinstance(exc, _NETWORK):
        return FailureKind.NETWORK
    return FailureKind.UNEXPECTED


def retryable(kind: FailureKind | None) -> bool:
    """Whether a failure of this kind is worth retrying by default (a RetryPolicy can choose its own kinds)."""
    return kind in RETRYABLE
