"""Benchmark: what gateway key limits add to a request (routing/key_counters.py).

A limited key costs one admission before routing (requests over a sliding minute, the day's tokens, the spend) and
one settlement after the answer (tokens and spend); measured per call on the shared counters (one Lua script on
Redis each) and on the in-process fallback. A key without limits costs neither (not measured: nothing runs).

Usage: .venv/bin/python bench/key_limits.py [--smoke] [--calls 20000]
Uses BENCH_REDIS_URL (default redis://127.0.0.1:6379/7); its keys are made under a prefix of their own and deleted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile, setup_django, smoke_defaults

os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
setup_django("modelgraph_bench_keys")  # no query is made: the counters live in Redis or in memory

from django.core.cache import caches  # noqa: E402
from django_redis import get_redis_connection  # noqa: E402

from routing.key_counters import LocalCounters, RedisCounters  # noqa: E402
from routing.key_limits import KeyGrant  # noqa: E402


def measure(counters, calls: int) -> tuple[list[float], list[float]]:
    """Microseconds per admission and per settlement, over `calls` requests of their own keys (never refused)."""
    grants = [
        KeyGrant(
            id=n,
            digest=uuid.uuid4().hex * 2,
            name="bench",
            requests_per_minute=10**9,
            tokens_per_day=10**12,
            budget_nano_usd=10**15,
        )
        for n in range(16)
    ]
    admits, settles = [], []
    for call in range(calls):
        grant = grants[call % len(grants)]
        began = time.perf_counter()
        refusal = counters.admit(grant, time.time())
        middle = time.perf_counter()
        counters.add(grant, time.time(), 17, 81_000)
        ended = time.perf_counter()
        assert refusal is None
        admits.append((middle - began) * 1e6)
        settles.append((ended - middle) * 1e6)
    return admits, settles


def report(name: str, admits: list[float], settles: list[float]) -> None:
    total = [a + s for a, s in zip(admits, settles, strict=True)]
    print(
        f"  {name:<8} admit p50 {percentile(admits, 50):6.1f} µs p95 {percentile(admits, 95):6.1f} µs · "
        f"settle p50 {percentile(settles, 50):6.1f} µs p95 {percentile(settles, 95):6.1f} µs · "
        f"per request p50 {percentile(total, 50):6.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20_000)
    smoke_defaults(parser, calls=200)
    args = parser.parse_args()

    prefix = f"bench-keys-{uuid.uuid4().hex[:8]}"
    client = get_redis_connection("default")
    cache = caches["default"]
    shared = RedisCounters(client, lambda name: f"{prefix}:{cache.make_key(name)}")
    measure(shared, min(args.calls, 500))  # warm: scripts loaded, connections open
    print(f"key limits: {args.calls} requests of 16 keys, each with all three limits")
    report("redis", *measure(shared, args.calls))
    pings = []
    for _ in range(args.calls):
        began = time.perf_counter()
        client.ping()
        pings.append((time.perf_counter() - began) * 1e6)
    print(f"  (one Redis round trip, PING: p50 {percentile(pings, 50):.1f} µs p95 {percentile(pings, 95):.1f} µs)")
    report("local", *measure(LocalCounters(), args.calls))
    for name in client.scan_iter(f"{prefix}:*"):
        client.delete(name)


if __name__ == "__main__":
    main()
