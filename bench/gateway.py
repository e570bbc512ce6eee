"""Benchmark: what the gateway adds over calling the provider directly, against a mock upstream on loopback.

1. Added latency, non-streaming: sequential requests in alternating rounds (direct, gateway / gateway, direct…),
   p50 and p99 of each and their difference, to the whole response (target: added p50 at most 0.5 ms).
2. Added time to first byte, streaming: the same alternation, to the first byte of the response (target: at most
   0.6 ms); the time to the first content chunk beside it.
3. Throughput at 50 concurrent clients with a 200 ms mock upstream: requests/s through the gateway next to the
   mock's own capacity measured directly at the same concurrency (target: at least 95 %, no errors).

Beside the wall-clock figures, the CPU time the gateway's processes spent per request (from /proc): on a shared
machine it moves much less with the load than latency does, so it shows what a change to the hot path saved.

Each is measured for the gateway lane (`routing.asgi`, what `manage.py gateway_serve` runs) and, for reference, for
the same views under the project's Django application (`modelgraph.asgi`). The mock (tests/fakes/openai_server.py)
runs in its own process, the gateways under uvicorn in others (production-like: DEBUG off, Redis cache, batched
request log), the clients here: a minimal keep-alive HTTP/1.1 client over raw sockets, so the load generator's
own cost stays out of the figures. Requests name a capability (`bench-chat`): each gateway request resolves it,
picks the pool's member by its telemetry score, sends, and logs a request row.

Usage: .venv/bin/python bench/gateway.py [--smoke] [--rounds 400] [--concurrency 50] [--requests 2500] [--workers 2]
       [--loop auto|asyncio|uvloop] [--http auto|h11|httptools]   (the gateway's event loop and HTTP parser)
Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/modelgraph_bench_gateway), dropped and re-created.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

sys.path[:0] = [str(Path(__file__).resolve().parent)]
from common import ROOT, percentile, recreate_database, setup_django, smoke_defaults  # noqa: E402

setup_django("modelgraph_bench_gateway")

from django.conf import settings  # noqa: E402

from catalog.models import Mapping, Model, Provider  # noqa: E402
from routing.models import Capability, Pool, RequestLog  # noqa: E402

FAST, SLOW = "bench-fast", "bench-slow"  # the mock's model ids: instant, and --slow-latency before the headers
MESSAGES = [{"role": "user", "content": "Count from 1 to 16."}]
KEY_ENV = "BENCH_GATEWAY_UPSTREAM_API_KEY"
# The gateway is closed to clients without a key (open to loopback only while none exists): the gateways are given
# this one (ROUTING_GATEWAY_KEYS) and every request carries it, the direct ones too, so both send the same bytes.
GATEWAY_KEY = "mg-bench-gateway-key"
LANES = {"lane": "routing.asgi:application", "django": "modelgraph.asgi:application"}


def body(model: str, stream: bool = False) -> bytes:
    return json.dumps({"model": model, "messages": MESSAGES, "max_tokens": 16, "stream": stream}).encode()


# A minimal keep-alive HTTP/1.1 client (Content-Length and chunked bodies), sync and async.
def _request_bytes(host: str, path: str, payload: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {GATEWAY_KEY}\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload


def _parse_head(lines: list[bytes]) -> tuple[int, dict]:
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


@dataclass
class Timed:
    """One answer and when its parts arrived (seconds from sending the request)."""

    status: int
    body: bytes
    first_byte: float
    first_token: float | None
    total: float


class Client:
    def __init__(self, url: str):
        parts = urlsplit(url)
        self.host, self.port, self.prefix = parts.hostname, parts.port, parts.path.rstrip("/")
        self.sock = socket.create_connection((self.host, self.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def post(self, path: str, payload: bytes) -> Timed:
        """Send one request and read its whole answer, timing its first byte, first content chunk and end."""
        started = time.perf_counter()
        self.sock.sendall(_request_bytes(self.host, self.prefix + path, payload))
        first_line = self.file.readline()
        first_byte = time.perf_counter() - started
        lines = [first_line.rstrip(b"\r\n")]
        while (line := self.file.readline()) not in (b"\r\n", b""):
            lines.append(line.rstrip(b"\r\n"))
        status, headers = _parse_head(lines)
        if "content-length" in headers:
            body = self.file.read(int(headers["content-length"]))
            return Timed(status, body, first_byte, None, time.perf_counter() - started)
        parts, first_token = [], None
        while (size := int(self.file.readline().strip(), 16)) > 0:
            chunk = self.file.read(size)
            self.file.readline()
            if first_token is None and b'"content"' in chunk:
                first_token = time.perf_counter() - started
            parts.append(chunk)
        self.file.readline()
        return Timed(status, b"".join(parts), first_byte, first_token, time.perf_counter() - started)

    def close(self) -> None:
        self.file.close()
        self.sock.close()


async def _post_async(reader, writer, host: str, path: str, payload: bytes) -> int:
    writer.write(_request_bytes(host, path, payload))
    lines = []
    while (line := await reader.readline()) not in (b"\r\n", b""):
        lines.append(line.rstrip(b"\r\n"))
    if not lines:
        raise ConnectionError("closed")
    status, headers = _parse_head(lines)
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    else:
        while (size := int((await reader.readline()).strip(), 16)) > 0:
            await reader.readexactly(size + 2)
        await reader.readline()
    return status


# The mock upstream and the gateways.
def _serve_mock(queue, slow_latency: float) -> None:
    from tests.fakes.openai_server import FakeProviderServer

    server = FakeProviderServer().start()
    server.configure(tokens=16, models=[FAST, SLOW])
    server.configure(SLOW, latency=slow_latency)
    queue.put(server.url)
    while True:
        time.sleep(3600)


def start_mock(slow_latency: float):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_serve_mock, args=(queue, slow_latency), daemon=True)
    process.start()
    return process, queue.get(timeout=30)


def seed(mock_url: str) -> None:
    provider = Provider.objects.create(
        slug="bench-upstream",
        name="Bench upstream",
        api_base_url=mock_url,
        api_key_env=f"${{secrets:{KEY_ENV}}}",
        openai_compatible=True,
    )
    text = Capability.objects.get(slug="text-generation")
    for slug, pmid in (("bench-chat-model", FAST), ("bench-slow-model", SLOW)):
        model = Model.objects.create(slug=slug, name=slug, input_modalities=["text"], output_modalities=["text"])
        Mapping.objects.create(provider=provider, model=model, provider_model_id=pmid, price_input=1, price_output=2)
        capability = Capability.objects.create(
            slug=slug.removesuffix("-model"), name=slug, parent=text, member_pattern=f"^{slug}$"
        )
        Pool.objects.create(slug=f"{capability.slug}-pool", name=capability.slug, capability=capability)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gateway(app: str, workers: int, loop: str = "auto", http: str = "auto") -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "modelgraph.settings.base",
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"),
        KEY_ENV: "sk-bench-upstream-key",
        "ROUTING_GATEWAY_KEYS": GATEWAY_KEY,
        "PYTHONWARNINGS": "ignore",
    }
    command = [
        sys.executable,
        "manage.py",
        "gateway_serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--app",
        app,
        "--loop",
        loop,
        "--http",
        http,
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            client = Client(url)
            status = client.post("/v1/chat/completions", body("bench-chat")).status
            client.close()
            if status == 200:
                return process, url
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"{app} did not start")


# Measurements.
def alternating(direct_url: str, gateway_url: str, rounds: int, stream: bool, warmup: int = 50) -> dict:
    """`rounds` of one direct and one gateway call, the order flipped every round, over one keep-alive connection
    each. Samples in ms per figure ("total", "first_byte", "first_token") and side ("direct", "gateway")."""
    direct, gateway = Client(direct_url), Client(gateway_url)
    samples: dict[str, dict[str, list[float]]] = {
        figure: {"direct": [], "gateway": []} for figure in ("total", "first_byte", "first_token")
    }
    pairs = [("direct", direct, "/chat/completions", FAST), ("gateway", gateway, "/v1/chat/completions", "bench-chat")]
    for i in range(warmup + rounds):
        for name, client, path, model in pairs if i % 2 == 0 else reversed(pairs):
            answer = client.post(path, body(model, stream))
            assert answer.status == 200 and (answer.first_token is not None or not stream), (name, answer.status)
            if i >= warmup:
                samples["total"][name].append(answer.total * 1000)
                samples["first_byte"][name].append(answer.first_byte * 1000)
                if answer.first_token is not None:
                    samples["first_token"][name].append(answer.first_token * 1000)
    direct.close()
    gateway.close()
    return samples


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and its children still running (the gateway's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


async def load(url: str, model: str, concurrency: int, total: int) -> tuple[float, int, list[float]]:
    parts = urlsplit(url)
    path = parts.path.rstrip("/") + "/chat/completions" if parts.path.rstrip("/") else "/v1/chat/completions"
    payload, remaining, errors, latencies = body(model), [total], [0], []

    async def one_client(count_only: int | None = None) -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        done = 0
        while (remaining[0] > 0) if count_only is None else done < count_only:
            remaining[0] -= count_only is None
            started = time.perf_counter()
            try:
                status = await _post_async(reader, writer, parts.hostname, path, payload)
            except (ConnectionError, asyncio.IncompleteReadError, ValueError):
                status = 0
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            if count_only is None:
                latencies.append((time.perf_counter() - started) * 1000)
                errors[0] += status != 200
            done += 1
        writer.close()

    await asyncio.gather(*(one_client(count_only=2) for _ in range(concurrency)))  # warm-up
    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    return total / (time.perf_counter() - started), errors[0], latencies


def row(name: str, value: str, target: str = "", met: bool | None = None) -> None:
    verdict = "" if met is None else ("met" if met else "NOT MET")
    print(f"  {name:<44} {value:>30}   {target:<20} {verdict}")


def summarise(samples: dict, label: str, target_ms: float | None) -> None:
    d50, d99 = percentile(samples["direct"], 50), percentile(samples["direct"], 99)
    g50, g99 = percentile(samples["gateway"], 50), percentile(samples["gateway"], 99)
    row(f"{label} direct p50 / p99", f"{d50:.2f} / {d99:.2f} ms")
    row(f"{label} via gateway p50 / p99", f"{g50:.2f} / {g99:.2f} ms")
    met = None if target_ms is None else g50 - d50 <= target_ms
    row(
        f"{label} added p50 / p99",
        f"{g50 - d50:.2f} / {g99 - d99:.2f} ms",
        f"p50 <= {target_ms:g} ms" if target_ms else "",
        met,
    )


def measured(gateway: subprocess.Popen, direct_url: str, gateway_url: str, rounds: int, stream: bool) -> dict:
    """The alternating rounds, and the gateway processes' CPU time per gateway request over them."""
    cpu = cpu_seconds(gateway.pid)
    samples = alternating(direct_url, gateway_url, rounds, stream)
    per_request = (cpu_seconds(gateway.pid) - cpu) / (rounds + 50) * 1e6  # 50 warm-up rounds
    row("gateway CPU per request (all its processes)", f"{per_request:.0f} µs")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slow-latency", type=float, default=0.2)
    parser.add_argument("--lanes", default="lane,django", help="which of: lane (routing.asgi), django")
    parser.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"], help="the gateway's loop")
    parser.add_argument("--http", default="auto", choices=["auto", "h11", "httptools"], help="its HTTP parser")
    smoke_defaults(parser, rounds=10, concurrency=4, requests=40, workers=1, slow_latency=0.01, lanes="lane")
    args = parser.parse_args()

    recreate_database()
    mock, mock_url = start_mock(args.slow_latency)
    seed(mock_url)
    print(
        f"mock upstream at {mock_url}; PostgreSQL {settings.DATABASES['default']['NAME']}; {os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.1f} before starting"
    )
    direct_rps = None
    made = failed = 0
    try:
        for lane in args.lanes.split(","):
            app = LANES[lane]
            gateway, gateway_url = start_gateway(app, args.workers, args.loop, args.http)
            try:
                targets = lane == "lane"
                serving = f"--workers {args.workers} --loop {args.loop} --http {args.http}"
                print(f"\n== {app} under `manage.py gateway_serve {serving}` at {gateway_url}")
                print(f"1. non-streaming, {args.rounds} alternating rounds, sequential, keep-alive, whole response")
                sync = measured(gateway, mock_url, gateway_url, args.rounds, False)
                summarise(sync["total"], "latency", 0.5 if targets else None)
                print(f"2. streaming, {args.rounds} alternating rounds: first byte, first content chunk")
                streamed = measured(gateway, mock_url, gateway_url, args.rounds, True)
                summarise(streamed["first_byte"], "TTFB", 0.6 if targets else None)
                summarise(streamed["first_token"], "TTFT", None)
                print(
                    f"3. {args.concurrency} concurrent clients, {args.requests} requests, mock latency "
                    f"{args.slow_latency * 1000:.0f} ms"
                )
                if direct_rps is None:
                    direct_rps, direct_errors, _ = asyncio.run(load(mock_url, SLOW, args.concurrency, args.requests))
                    row(
                        "mock directly (its capacity here)",
                        f"{direct_rps:.1f} req/s, {direct_errors} errors",
                        f"ideal {args.concurrency / args.slow_latency:.0f} req/s",
                    )
                rps, errors, latency = asyncio.run(load(gateway_url, "bench-slow", args.concurrency, args.requests))
                failed += errors
                row("through the gateway", f"{rps:.1f} req/s, {errors} errors")
                ratio = rps / direct_rps
                row(
                    "gateway / direct",
                    f"{ratio:.1%}",
                    ">= 95 %, no errors" if targets else "",
                    (ratio >= 0.95 and errors == 0) if targets else None,
                )
                row(
                    "gateway latency under load p50 / p99",
                    f"{percentile(latency, 50):.1f} / {percentile(latency, 99):.1f} ms",
                )
                made += 2 * (args.rounds + 50) + args.requests + 2 * args.concurrency + 1
            finally:
                gateway.terminate()  # SIGTERM: the workers' shutdown writes the rows still queued
                gateway.wait(30)
        logged = RequestLog.objects.count()
        print(f"\nrequest log: {logged} rows written by the gateways' background writers for {made} requests")
        sample = RequestLog.objects.filter(outcome="success", stream=False).order_by("-pk").first()
        if sample is not None:
            shown = {
                "requested": sample.requested,
                "pool": sample.pool.slug if sample.pool else None,
                "route": f"{sample.mapping.model.slug}@{sample.provider.slug}",
                "attempts": sample.attempts,
                "latency_ms": sample.latency_ms,
                "tokens": [sample.prompt_tokens, sample.completion_tokens],
                "cost": str(sample.cost),
            }
            print("a row:", json.dumps(shown))
    finally:
        mock.terminate()
        mock.join(5)
    if failed:
        sys.exit(f"{failed} requests through the gateway failed")


if __name__ == "__main__":
    main()
