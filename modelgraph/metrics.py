"""The platform's Prometheus metrics, one registry for every app (this is the lowest layer: any app may record).

Served at `/metrics` (modelgraph/api/metrics.py). With several processes (gunicorn workers, `gateway_serve
--workers N`, the django-q2 cluster) set PROMETHEUS_MULTIPROC_DIR to one writable directory shared by every process of
a host, empty at boot: each process then writes its values to memory-mapped files there and `/metrics` sums them all
(prometheus_client's multiprocess mode), so one scrape per host sees the gateway, the web and the workers alike.

Recording is cheap enough for the gateway's hot path: label children are bound once per label set and kept in a
dict, so a finished request costs a dict look-up, a counter increment and one or two histogram observations.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

REGISTRY = CollectorRegistry(auto_describe=True)
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
# Gateway requests last from a millisecond (a refusal) to minutes (a long stream).
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
FIRST_TOKEN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
API_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
JOB_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

# The gateway (/v1/). `pool` is the pool's slug ("model" for a request naming a model, "none" before one was chosen);
# `provider` the upstream that answered or failed last ("none" when no attempt was made).
GATEWAY_REQUESTS = Counter(
    "modelgraph_gateway_requests",
    "Gateway requests by pool, upstream provider, outcome and mode.",
    ["pool", "provider", "outcome", "mode"],
    registry=REGISTRY,
)
GATEWAY_LATENCY = Histogram(
    "modelgraph_gateway_request_duration_seconds",
    "Gateway request duration until the whole answer was sent (streams: until their last event).",
    ["pool", "provider"],
    buckets=REQUEST_BUCKETS,
    registry=REGISTRY,
)
GATEWAY_TTFT = Histogram(
    "modelgraph_gateway_time_to_first_token_seconds",
    "Streaming gateway requests: time until the first event went to the client.",
    ["pool", "provider"],
    buckets=FIRST_TOKEN_BUCKETS,
    registry=REGISTRY,
)
GATEWAY_UPSTREAM_ERRORS = Counter(
    "modelgraph_gateway_upstream_errors",
    "Failed upstream attempts by provider and kind (server, timeout, rate_limited, auth, connect, stream...).",
    ["provider", "kind"],
    registry=REGISTRY,
)
GATEWAY_ROTATION_EVENTS = Counter(
    "modelgraph_gateway_rotation_events",
    "Rotation transitions: offers and providers deactivated, recovered by a probe, or failing their probe.",
    ["scope", "event"],
    registry=REGISTRY,
)

# The public and admin APIs (/api/).
API_REQUESTS = Counter(
    "modelgraph_api_requests",
    "API requests by view, method and status.",
    ["view", "method", "status"],
    registry=REGISTRY,
)
API_LATENCY = Histogram(
    "modelgraph_api_request_duration_seconds",
    "API request duration by view.",
    ["view"],
    buckets=API_BUCKETS,
    registry=REGISTRY,
)
API_CACHE = Counter(
    "modelgraph_api_cache_lookups",
    "API response cache results (X-Cache): hit, miss, bypass or stale. Hit ratio: hit / (hit + miss).",
    ["result"],
    registry=REGISTRY,
)

# Background work: telemetry probes, ingestion runs, snapshot syncs.
PROBE_RESULTS = Counter(
    "modelgraph_telemetry_probes",
    "Telemetry probe results by kind (health, latency) and outcome.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
PROBE_ROUNDS = Histogram(
    "modelgraph_telemetry_probe_round_duration_seconds",
    "Duration of one telemetry probe round by kind.",
    ["kind"],
    buckets=JOB_BUCKETS,
    registry=REGISTRY,
)
INGESTION_RUNS = Counter(
    "modelgraph_ingestion_runs",
    "Finished ingestion runs by source and status (success, partial, failed, skipped).",
    ["source", "status"],
    registry=REGISTRY,
)
INGESTION_DURATION = Histogram(
    "modelgraph_ingestion_run_duration_seconds",
    "Ingestion run duration by source.",
    ["source"],
    buckets=JOB_BUCKETS,
    registry=REGISTRY,
)
SNAPSHOT_SYNCS = Counter(
    "modelgraph_snapshot_syncs",
    "Finished OpenRouter snapshot syncs by batch status (complete, incomplete, failed).",
    ["status"],
    registry=REGISTRY,
)
SNAPSHOT_DURATION = Histogram(
    "modelgraph_snapshot_sync_duration_seconds",
    "Snapshot sync duration.",
    buckets=JOB_BUCKETS,
    registry=REGISTRY,
)


# The gateway's hot path: children bound once per label set.
_gateway: dict[tuple, tuple] = {}
_errors: dict[tuple[str, str], Callable[[], None]] = {}


def gateway_request_observed(
    pool: str, provider: str, outcome: str, stream: bool, seconds: float, ttft_seconds: float | None
) -> None:
    """A finished gateway request (called once per request, as its request log row is submitted)."""
    key = (pool, provider, outcome, stream)
    children = _gateway.get(key)
    if children is None:
        children = _gateway[key] = (
            GATEWAY_REQUESTS.labels(pool, provider, outcome, "stream" if stream else "sync"),
            GATEWAY_LATENCY.labels(pool, provider),
            GATEWAY_TTFT.labels(pool, provider),
        )
    requests, latency, ttft = children
    requests.inc()
    latency.observe(seconds)
    if ttft_seconds is not None:
        ttft.observe(ttft_seconds)


def gateway_upstream_failed(provider: str, kind: str) -> None:
    inc = _errors.get((provider, kind))
    if inc is None:
        inc = _errors[(provider, kind)] = GATEWAY_UPSTREAM_ERRORS.labels(provider, kind).inc
    inc()


def gateway_rotation_event(scope: str, event: str) -> None:
    """`scope` offer or provider; `event` deactivated, recovered or probe_failed."""
    GATEWAY_ROTATION_EVENTS.labels(scope, event).inc()


def api_request_observed(view: str, method: str, status: int, seconds: float, cache_result: str | None) -> None:
    API_REQUESTS.labels(view, method, str(status)).inc()
    API_LATENCY.labels(view).observe(seconds)
    if cache_result:
        API_CACHE.labels(cache_result.lower()).inc()


def probe_round_observed(kind: str, outcomes: dict[str, int], seconds: float) -> None:
    for outcome, count in outcomes.items():
        PROBE_RESULTS.labels(kind, outcome).inc(count)
    PROBE_ROUNDS.labels(kind).observe(seconds)


def ingestion_run_observed(source: str, status: str, seconds: float | None) -> None:
    INGESTION_RUNS.labels(source, status).inc()
    if seconds is not None:
        INGESTION_DURATION.labels(source).observe(max(0.0, seconds))


def snapshot_sync_observed(status: str, seconds: float) -> None:
    SNAPSHOT_SYNCS.labels(status).inc()
    SNAPSHOT_DURATION.observe(max(0.0, seconds))


def exposition() -> tuple[bytes, str]:
    """The text exposition of every metric: this process's, or every process's of the host in multiprocess mode."""
    registry = REGISTRY
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_PLAIN_0_0_4
