"""Benchmark: the public API under gunicorn (2 sync workers) on loopback, with a generated 2,000-model registry.

Prints requests/s, p50 and p99 for /api/models, /api/models/{id}/compare and /api/resolve, cached (Redis) and
uncached (API_CACHE_ENABLED=0), next to the same server answering a static JSON body of the size of /api/models,
then each target of issue 19 with PASS or MISS. Cached answers come from the fast lane (modelgraph/fastlane.py),
in front of Django in modelgraph.wsgi. Load comes from wrk (apt-get install wrk) when installed, else from a Python
thread pool (which saturates long before the server does: the figures are then a floor).

Usage: .venv/bin/python bench/api.py [--smoke] [--duration 5 --connections 4 --models 2000 --mappings 10000
       --aliases 20000]
Uses BENCH_API_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/modelgraph_bench_api), dropped and
re-created, and BENCH_API_REDIS_URL (default redis://127.0.0.1:6379/13), flushed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
DATABASE_URL = os.environ.get("BENCH_API_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/modelgraph_bench_api")
REDIS_URL = os.environ.get("BENCH_API_REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ.update(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL, LOG_LEVEL="WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelgraph.settings.base")

import django  # noqa: E402

django.setup()

from common import recreate_database, smoke_defaults  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from registry_gen import generate_registry  # noqa: E402

from catalog.models import Alias, Model, ModelListRow  # noqa: E402
from modelgraph.api.throttle_leases import lease_size  # noqa: E402
from modelgraph.api.throttling import ClientRateThrottle  # noqa: E402
from registry.loading import registry_load  # noqa: E402
from telemetry.offer_summaries import offer_summaries_refresh_stale  # noqa: E402

# Issue 19's targets: cached answers (the fast lane, modelgraph/fastlane.py) as a share of the static body's rate,
# uncached p50s (API_CACHE_ENABLED=0: every request rendered by Django from the database).
TARGET_CACHED_VS_STATIC = {"/api/models": 0.8, "/api/resolve": 0.8, "/api/models/{id}/compare": 0.6}
TARGET_UNCACHED_P50_MS = {"/api/models": 4.0, "/api/models/{id}/compare": 5.0, "/api/resolve": 1.0}
BENCH_THROTTLE_RATE = "100000000/min"  # the throttle runs but never bites (see gunicorn())

WRK_SCRIPT = """
local paths = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%f %%f %%f %%d %%d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.requests))
end
"""


def prepare(args) -> dict[str, list[str]]:
    """Fresh database with the generated registry loaded; returns the request paths of each endpoint."""
    recreate_database()
    cache.clear()
    with tempfile.TemporaryDirectory() as tmp:
        generate_registry(Path(tmp), models=args.models, mappings=args.mappings, aliases=args.aliases)
        started = time.perf_counter()
        registry_load(path=Path(tmp))
        print(
            f"loaded {Model.objects.count()} models, {Alias.objects.count()} aliases "
            f"in {time.perf_counter() - started:.1f}s"
        )
    # What the every-minute schedule does in production (no django-q2 cluster runs here): every offer gets its
    # summary row for the current window, so compare reads the summaries instead of aggregating the roll-ups.
    print(f"offer summaries written: {offer_summaries_refresh_stale()}")
    # Rendered by the load's catalogue change (catalog/list_rows.py): the uncached list reads them.
    print(f"model list rows stored: {ModelListRow.objects.count()}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does soon after a bulk load: plans as in production
    rng = random.Random(11)
    slugs = list(Model.objects.order_by("?").values_list("slug", flat=True)[:300])
    aliases = list(Alias.objects.order_by("?").values_list("alias", flat=True)[:300])
    names = []
    for i in range(min(300, len(slugs), len(aliases))):  # 300, or all of a tiny (smoke) registry
        kind = i % 10
        if kind < 4:
            names.append(aliases[i])  # exact alias
        elif kind < 6:
            names.append(slugs[i])  # exact slug
        elif kind < 8:
            names.append(f"Some-Org/{slugs[i].upper()}-2024-08-06")  # case + prefix + date stamp: normalised
        elif kind < 9:
            names.append(f"{slugs[i]}:free")  # routing suffix: normalised
        else:
            slug = slugs[i]  # model-00042-coder
            cut = rng.choice([at for at, char in enumerate(slug) if char.isalpha() and at > len("model-00000-")])
            names.append(slug[:cut] + slug[cut + 1 :])  # a letter of the suffix dropped: fuzzy (or a 404)
    quoted = [urllib.request.quote(name, safe="") for name in names]
    return {
        "/api/models": ["/api/models"],
        "/api/models/{id}/compare": [f"/api/models/{slug}/compare" for slug in slugs],
        "/api/resolve": [f"/api/resolve?name={name}" for name in quoted],
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(*, cache_enabled: bool, static_body: Path):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",  # production settings plus the /bench/static route
        "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback: no TLS proxy in front to redirect to
        "API_CACHE_ENABLED": "1" if cache_enabled else "0",
        # The throttle still runs (and costs what it costs) but never bites. At this rate a worker leases 16 of a
        # client's numbers per INCRBY (modelgraph/api/throttle_leases.py; 6 at the default 600/min): printed below.
        "API_THROTTLE_RATE": BENCH_THROTTLE_RATE,
        "PAGE_THROTTLE_RATE": "",  # the static baseline is not a page: like /api/, no page throttle
        "BENCH_STATIC_BODY": str(static_body),
        "PYTHONWARNINGS": "ignore:No directory at",  # whitenoise: no collectstatic for a benchmark
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "modelgraph.wsgi",
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--chdir",
        str(ROOT),
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        for _ in range(200):
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not come up")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def warm(base: str, paths: list[str]) -> None:
    """Every path once (twice: both workers' connections, and the cache): they must all answer 200."""

    def get(path: str) -> str | None:
        try:
            fetch(base + path)
        except urllib.error.HTTPError as exc:
            return f"{exc.code} {path}"
        return None

    with ThreadPoolExecutor(4) as pool:
        failures = sorted({failure for failure in pool.map(get, paths * 2) if failure})
    if failures:
        raise RuntimeError(f"{len(failures)} paths do not answer 200: {failures[:5]}")


def answered(base: str, paths: list[str]) -> list[str]:
    """The resolve paths the resolver answers: a misspelt variant word (`model-00008-visio`) is a 404 with
    suggestions now (it answers only when every distinguishing word agrees), so it is left out of the load."""
    kept = []
    for path in paths:
        try:
            fetch(base + path)
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
        else:
            kept.append(path)
    print(f"/api/resolve: {len(paths) - len(kept)} of {len(paths)} names answer 404 (no confident match), left out")
    return kept


def load_wrk(base: str, paths: list[str], duration: float, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % ", ".join(f'"{p}"' for p in paths))
    try:
        seconds = f"{max(1, round(duration))}s"
        command = ["wrk", "-t", "2", "-c", str(connections), "-d", seconds, "--latency", "-s", script.name, base]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    rps, p50, p99, errors, requests = line.split()[1:]
    return {"rps": float(rps), "p50": float(p50), "p99": float(p99), "errors": int(errors), "requests": int(requests)}


def load_python(base: str, paths: list[str], duration: float, connections: int) -> dict:
    latencies, errors, deadline = [], 0, time.perf_counter() + duration

    def worker(offset: int) -> None:
        nonlocal errors
        i = offset
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                fetch(base + paths[i % len(paths)])
            except OSError:
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)
            i += connections

    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(worker, range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "errors": errors,
        "requests": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--mappings", type=int, default=10000)
    parser.add_argument("--aliases", type=int, default=20000)
    parser.add_argument("--duration", type=float, default=6.0, help="seconds of load per scenario, in all")
    parser.add_argument("--slice", type=float, default=1.0, help="seconds per turn (scenarios take turns)")
    parser.add_argument("--connections", type=int, default=2, help="concurrent connections (2: one per worker)")
    smoke_defaults(parser, models=40, mappings=120, aliases=200, duration=0.3, slice=0.3)
    args = parser.parse_args()
    load = load_wrk if shutil.which("wrk") else load_python
    generator = "wrk" if load is load_wrk else "python threads (install wrk for real figures)"
    print(
        f"load generator: {generator}; {args.connections} connections, {args.duration:g}s per scenario; "
        f"gunicorn -w 2 (sync) on loopback; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    endpoints = prepare(args)
    block = lease_size(ClientRateThrottle().parse_rate(BENCH_THROTTLE_RATE)[0])
    default = lease_size(ClientRateThrottle().parse_rate("600/min")[0])
    print(f"throttle: {BENCH_THROTTLE_RATE}, counted in blocks of {block} (at the default 600/min: {default})")
    rounds = max(1, int(args.duration // args.slice))

    def interleaved(base: str, scenarios: list[tuple[str, str, list[str]]]) -> list[tuple[str, str, dict]]:
        """Each scenario for `slice` seconds in turn, `rounds` times: background load hits them all alike."""
        results: dict[int, list[dict]] = {i: [] for i in range(len(scenarios))}
        for _ in range(rounds):
            for i, (_, _, paths) in enumerate(scenarios):
                results[i].append(load(base, paths, args.slice, args.connections))
        return [(endpoint, mode, merge(results[i])) for i, (endpoint, mode, _) in enumerate(scenarios)]

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        static_body = Path(tmp) / "static.json"
        with gunicorn(cache_enabled=True, static_body=static_body) as base:
            static_body.write_bytes(fetch(base + "/api/models"))
            print(f"/api/models body: {static_body.stat().st_size} bytes (the static body is the same bytes)")
            endpoints["/api/resolve"] = answered(base, endpoints["/api/resolve"])
            scenarios = [("static JSON body", "-", ["/bench/static"])]
            scenarios += [(endpoint, "cached", paths) for endpoint, paths in endpoints.items()]
            for _, _, paths in scenarios:
                warm(base, paths)
            rows += interleaved(base, scenarios)
        # The schedule's every-minute refresh, as in production: an hour that turned since prepare() moved the window.
        offer_summaries_refresh_stale()
        with gunicorn(cache_enabled=False, static_body=static_body) as base:
            scenarios = [(endpoint, "uncached", paths) for endpoint, paths in endpoints.items()]
            for _, _, paths in scenarios:
                warm(base, paths[:20])
            rows += interleaved(base, scenarios)
    failed = report(rows)
    print(f"load average after: {os.getloadavg()[0]:.1f} (other processes on the machine skew every figure)")
    if failed:
        sys.exit("requests failed: the figures are not to be trusted")


def merge(runs: list[dict]) -> dict:
    """Several turns of one scenario: total rate, median of the turns' percentiles."""
    requests = sum(r["requests"] for r in runs)
    seconds = sum(r["requests"] / r["rps"] for r in runs if r["rps"])
    return {
        "rps": requests / seconds if seconds else 0.0,
        "p50": statistics.median(r["p50"] for r in runs),
        "p99": statistics.median(r["p99"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "requests": requests,
    }


def report(rows: list[tuple[str, str, dict]]) -> bool:
    """Print the table and the targets; True when any request failed (a target missed is a figure, not a failure)."""
    static = rows[0][2]["rps"]
    header = f"{'endpoint':<26} {'mode':<9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs static':>9} {'errors':>6}"
    print(header)
    print("-" * len(header))
    for endpoint, mode, r in rows:
        print(
            f"{endpoint:<26} {mode:<9} {r['rps']:>8.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} "
            f"{r['rps'] / static:>8.0%} {r['errors']:>6}"
        )
    result = {(endpoint, mode): r for endpoint, mode, r in rows}
    checks = [
        (
            f"cached {endpoint} >= {share:.0%} of the static-body rate",
            f"{result[(endpoint, 'cached')]['rps'] / static:.0%}",
            result[(endpoint, "cached")]["rps"] / static >= share,
        )
        for endpoint, share in TARGET_CACHED_VS_STATIC.items()
    ]
    checks += [
        (
            f"uncached {endpoint} p50 < {limit:g} ms",
            f"{result[(endpoint, 'uncached')]['p50']:.2f} ms",
            result[(endpoint, "uncached")]["p50"] < limit,
        )
        for endpoint, limit in TARGET_UNCACHED_P50_MS.items()
    ]
    checks.append(("no errors", str(sum(r["errors"] for _, _, r in rows)), all(r["errors"] == 0 for _, _, r in rows)))
    for label, figure, met in checks:
        print(f"  [{'PASS' if met else 'MISS'}] {label}: {figure}")
    return any(r["errors"] for _, _, r in rows)


if __name__ == "__main__":
    main()
