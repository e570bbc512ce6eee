"""What a probe's answer means: success, failure, excluded from uptime, or not configured.

What a status or an exception *is* is decided by modelgraph.outbound; this module says what each kind means for
uptime.
"""

from __future__ import annotations

from django.db import models

from modelgraph.outbound import FailureKind
from modelgraph.outbound import classify_exception as failure_of_exception
from modelgraph.outbound import classify_status as failure_of_status


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    # Recorded but not counted in uptime: rate limits and our own auth/config mistakes say nothing about the provider.
    EXCLUDED = "excluded", "Excluded"
    NOT_CONFIGURED = "not_configured", "Not configured"


class ErrorClass(models.TextChoices):
    NONE = "", "None"
    SERVER_ERROR = "server_error", "5xx from the provider"
    TIMEOUT = "timeout", "Timed out"
    CONNECT_ERROR = "connect_error", "Could not connect"
    NETWORK_ERROR = "network_error", "Network error"
    STREAM_CUT = "stream_cut", "Stream ended before [DONE]"
    EMPTY_STREAM = "empty_stream", "No token in the answer"
    MALFORMED = "malformed", "Malformed answer"
    RATE_LIMITED = "rate_limited", "429 rate limited"
    AUTH = "auth", "Our key was refused (401/403)"
    CONFIG = "config", "Our request or configuration is wrong"
    NO_KEY = "no_key", "No API key configured"
    NO_ENDPOINT = "no_endpoint", "No OpenAI-compatible base URL"
    PROBE_ERROR = "probe_error", "Our probe failed"


# Evidence against the provider: counted in uptime.
_FAILURES = {
    FailureKind.SERVER: ErrorClass.SERVER_ERROR,
    FailureKind.TIMEOUT: ErrorClass.TIMEOUT,
    FailureKind.CONNECT: ErrorClass.CONNECT_ERROR,
    FailureKind.TRUNCATED: ErrorClass.STREAM_CUT,
    FailureKind.DECODE: ErrorClass.MALFORMED,
    FailureKind.NETWORK: ErrorClass.NETWORK_ERROR,
}
# Recorded, not counted: rate limits and a refused key say nothing about whether the provider is up.
_EXCLUDED = {
    FailureKind.RATE_LIMITED: ErrorClass.RATE_LIMITED,
    FailureKind.AUTH: ErrorClass.AUTH,
}


def classify_status(status_code: int) -> tuple[Outcome, ErrorClass]:
    """Classify an HTTP status alone; a 2xx still has to carry a token to be a latency success."""
    kind = failure_of_status(status_code)
    if kind is None:
        return Outcome.SUCCESS, ErrorClass.NONE
    if kind in _FAILURES:
        return Outcome.FAILURE, _FAILURES[kind]
    if kind in _EXCLUDED:
        return Outcome.EXCLUDED, _EXCLUDED[kind]
    # Other 4xx and unexpected 1xx/3xx: a wrong model id, base URL or request shape is our mistake, not an outage.
    return Outcome.EXCLUDED, ErrorClass.CONFIG


def classify_exception(exc: BaseException) -> tuple[Outcome, ErrorClass]:
    """Classify a transport error raised while sending or reading a probe."""
    kind = failure_of_exception(exc)
    if kind in _FAILURES:
        return Outcome.FAILURE, _FAILURES[kind]
    if kind is FailureKind.CONFIG:
        return Outcome.EXCLUDED, ErrorClass.CONFIG
    # Anything else is a bug on our side, not evidence about the provider.
    return Outcome.EXCLUDED, ErrorClass.PROBE_ERROR
