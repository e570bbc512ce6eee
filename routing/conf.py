"""Gateway knobs with their defaults; `settings.ROUTING_*` overrides each one."""

from __future__ import annotations

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

DEFAULTS = {
    # `${secrets:name}` references resolve from the environment, then from this file (NAME=value lines or a JSON
    # object) or directory (one file per secret, as Docker/Kubernetes mount them).
    "ROUTING_SECRETS_FILE": "",
    # Bearer keys the gateway accepts besides those issued in the admin (literal keys or `${secrets:name}`).
    "ROUTING_GATEWAY_KEYS": [],
    # While no gateway key exists: "loopback" answers clients on this machine only; False answers nobody (401).
    "ROUTING_GATEWAY_OPEN": False,
    # Seconds a process reuses the set of accepted gateway keys (a key revoked elsewhere stops working after it).
    "ROUTING_GATEWAY_KEYS_TTL": 5.0,
    # Request bodies nested deeper than this are refused (400) before they are parsed.
    "ROUTING_MAX_JSON_DEPTH": 64,
    # Seconds the in-process routing table (capabilities, pools, candidates) and telemetry scores are reused.
    "ROUTING_TABLE_TTL": 10.0,
    "ROUTING_SCORE_TTL": 60.0,
    # Seconds between checks for route state changed by another process (one cache read, then the database).
    "ROUTING_STATE_REFRESH": 1.0,
    "ROUTING_CONNECT_TIMEOUT": 5.0,
    "ROUTING_REQUEST_TIMEOUT": 120.0,  # sync: the whole upstream answer
    "ROUTING_FIRST_TOKEN_TIMEOUT": 60.0,  # streaming: until the first event
    "ROUTING_STALL_TIMEOUT": 30.0,  # streaming: the longest silence between two events
    # An upstream answer read whole (a non-streaming completion, an error body), or one streamed event, larger than
    # this is a failed attempt: an answer without end must not take the gateway's memory (a chat answer with an
    # image in it is a few MB).
    "ROUTING_MAX_RESPONSE_BYTES": 64 * 1024 * 1024,
    "ROUTING_MAX_CONNECTIONS": 1000,
    "ROUTING_MAX_BODY_BYTES": 8 * 1024 * 1024,
    # Ask streaming upstreams for a final usage chunk (dropped again unless the client asked for it).
    "ROUTING_STREAM_USAGE": True,
    # "batched": request log rows are written by a background thread; "inline": after each response (tests).
    "ROUTING_LOG_MODE": "batched",
    "ROUTING_LOG_FLUSH_SECONDS": 0.5,
    "ROUTING_LOG_BATCH": 500,
    "ROUTING_RETRYABLE_STATUSES": [408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529],
    "ROUTING_PROBE_TIMEOUT": 10.0,
    "ROUTING_COOLDOWN_MAX": 3600.0,  # a failed probe doubles the cooldown up to this
    # Batch API (/v1/files, /v1/batches; routing/batches.py): requests a worker runs at once per batch, the largest
    # input file and the most requests in one.
    "ROUTING_BATCH_CONCURRENCY": 8,
    "ROUTING_BATCH_MAX_FILE_BYTES": 50 * 1024 * 1024,
    "ROUTING_BATCH_MAX_REQUESTS": 50_000,
    # Gateway key limits (routing/key_limits.py): seconds a process counts on its own after Redis failed, and the
    # Retry-After of a key over its budget (waiting does not help; a curator may raise it).
    "ROUTING_KEY_COUNTERS_RETRY": 30.0,
    "ROUTING_KEY_BUDGET_RETRY_AFTER": 3600,
    # Model requests (`"model": "deepseek-v3"`) and capabilities without a pool use these pool settings.
    "ROUTING_DEFAULT_POOL": {},
}


_values: dict[str, object] = {}


def setting(name: str):
    """The value of a knob, memoised: the hot path reads several per request (a missing setting costs an
    AttributeError inside Django's LazySettings every time)."""
    try:
        return _values[name]
    except KeyError:
        value = _values[name] = getattr(settings, name, DEFAULTS[name])
        return value


@receiver(setting_changed)
def _forget_values(*, setting: str, **kwargs) -> None:
    if setting.startswith("ROUTING_"):
        _values.clear()
