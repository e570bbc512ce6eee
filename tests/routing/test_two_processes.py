"""Scale-out: two real gateway processes (`manage.py gateway_serve`) against the test PostgreSQL database and one
Redis share key limits (requests per minute, tokens per day, budget: in total, not per process) and rotation state
(an offer deactivated through one process is skipped by the other)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.db import connection

from routing.models import GatewayKeyUsage, RouteState, RouteStateValue
from tests.routing.conftest import chat_body, sse_data
from tests.routing.test_key_limits import COST_AT_A, TOKENS_PER_ANSWER, issue

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


def database_url() -> str:
    info = connection.settings_dict
    password = f":{info['PASSWORD']}" if info.get("PASSWORD") else ""
    return f"postgres://{info['USER']}{password}@{info['HOST'] or '127.0.0.1'}:{info['PORT'] or 5432}/{info['NAME']}"


class GatewayProcess:
    """`manage.py gateway_serve` on a free loopback port, on this test's database and Redis."""

    def __init__(self, log_dir: Path, name: str):
        self.out, self.err = log_dir / f"{name}.out", log_dir / f"{name}.err"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "modelgraph.settings.test",
            "DATABASE_URL": database_url(),
            "PYTHONUNBUFFERED": "1",
        }
        command = [sys.executable, "manage.py", "gateway_serve", "--host", "127.0.0.1", "--port", "0"]
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
        self.url = ""

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited: {self.err.read_text()[-3000:]}")
            if not self.url:
                found = re.search(r"on (http://127\.0\.0\.1:\d+) with", self.out.read_text())
                self.url = found.group(1) if found else ""
            if self.url:
                try:
                    httpx.get(f"{self.url}/v1/models", timeout=2)  # any answer: it serves
                    return
                except httpx.TransportError:
                    pass
            time.sleep(0.05)
        raise RuntimeError(f"the gateway did not start: {self.err.read_text()[-3000:]}")

    def terminate(self) -> None:
        """SIGTERM: uvicorn's graceful shutdown, which writes the request log rows and usage still held."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self) -> None:
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def gateways(tmp_path):
    """`start()`: two gateway processes, serving (call it once the test's rows exist); stopped at the end."""
    started: list[GatewayProcess] = []

    def start() -> tuple[GatewayProcess, GatewayProcess]:
        started.extend(GatewayProcess(tmp_path, name) for name in ("a", "b"))
        for gateway in started:
            gateway.wait_ready()
        return started[0], started[1]

    yield start
    stop_all(*started)


def stop_all(*gateways: GatewayProcess) -> None:
    for gateway in gateways:
        gateway.terminate()
    for gateway in gateways:
        gateway.wait_stopped()


def post(gateway: GatewayProcess, key: str, model: str, stream: bool = False) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/v1/chat/completions",
        content=chat_body(model, stream=stream),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        timeout=10,
    )


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def usage_total(key) -> dict:
    rows = GatewayKeyUsage.objects.filter(key=key)
    return {
        "requests": sum(r.requests for r in rows),
        "refused": sum(r.refused for r in rows),
        "tokens": sum(r.prompt_tokens + r.completion_tokens for r in rows),
        "spend": sum((r.spend_usd for r in rows), Decimal(0)),
    }


def test_requests_per_minute_hold_in_total_across_two_processes(catalogue, upstreams, gateways):
    key, raw = issue(requests_per_minute=4)
    a, b = gateways()
    responses = [post(gateway, raw, "chat-model@prov-b") for gateway in (a, b) * 3]
    responses += [post(gateway, raw, "chat-model@prov-b", stream=True) for gateway in (a, b)]
    assert [r.status_code for r in responses] == [200] * 4 + [429] * 4  # per process, all 8 would pass
    for refused in responses[4:]:
        # Limits are checked before the first event: a refused stream is a JSON error too.
        assert refused.headers["content-type"] == "application/json"
        assert error_of(refused)["code"] == "rate_limit_exceeded"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(upstreams.b.requests) == 4
    stop_all(a, b)
    spend = 4 * (12 * Decimal("2.00") + 5 * Decimal("6.00")) / 1_000_000  # prov-b's prices, per million tokens
    assert usage_total(key) == {"requests": 8, "refused": 4, "tokens": 4 * TOKENS_PER_ANSWER, "spend": spend}


def test_tokens_per_day_hold_in_total_across_two_processes(catalogue, upstreams, gateways):
    key, raw = issue(tokens_per_day=50)
    a, b = gateways()
    first = post(a, raw, "chat-model@prov-c")
    streamed = post(b, raw, "chat-model@prov-c", stream=True)  # counted from its usage chunk
    third = post(a, raw, "chat-model@prov-c")  # 34 used
    fourth = post(b, raw, "chat-model@prov-c")  # 51 used
    assert [r.status_code for r in (first, streamed, third, fourth)] == [200, 200, 200, 429]
    assert sse_data(streamed.content)[-1] == "[DONE]"
    error = error_of(fourth)
    assert (error["type"], error["code"]) == ("tokens", "rate_limit_exceeded") and fourth.headers["Retry-After"]
    assert post(a, raw, "chat-model@prov-c").status_code == 429
    stop_all(a, b)
    assert usage_total(key)["tokens"] == 3 * TOKENS_PER_ANSWER


def test_the_budget_holds_in_total_across_two_processes(catalogue, upstreams, gateways):
    key, raw = issue(budget_usd=Decimal("0.0002"))
    a, b = gateways()
    responses = [post(gateway, raw, "chat-model@prov-a") for gateway in (a, b, a, b, a)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]  # 0, 81, 162 µ$ spent, then 243
    for refused in responses[3:]:
        assert error_of(refused)["code"] == "insufficient_quota" and refused.headers["Retry-After"].isdigit()
    stop_all(a, b)
    assert usage_total(key)["spend"] == 3 * COST_AT_A


def test_an_offer_deactivated_through_one_process_is_skipped_by_the_other(catalogue, upstreams, gateways, make_pool):
    make_pool(
        "chat",
        capability="tool-use",
        strategy="priority",
        priority_list=["@prov-a", "@prov-b"],
        failures_to_deactivate=1,
        cooldown_seconds=600,
    )
    _, raw = issue()
    a, b = gateways()
    for gateway in (a, b):  # both have read the (empty) states and route to a first
        assert post(gateway, raw, "tool-use").headers["X-ModelGraph-Route"] == "chat-model@prov-a"
    upstreams.a.configure(status=500)
    failed_over = post(a, raw, "tool-use")
    assert failed_over.headers["X-ModelGraph-Route"] == "chat-model@prov-b"
    assert failed_over.headers["X-ModelGraph-Attempts"] == "2"
    assert RouteState.objects.get(mapping=catalogue.mappings["chat-model@a"]).state == RouteStateValue.DEACTIVATED
    # a answers again: process b can only stop routing to it by learning of the deactivation from the shared state.
    upstreams.a.configure(status=200)
    routes, deadline = [], time.monotonic() + 20
    while time.monotonic() < deadline:
        response = post(b, raw, "tool-use")
        assert response.status_code == 200
        routes.append(response.headers["X-ModelGraph-Route"])
        if routes[-1] == "chat-model@prov-b":
            assert response.headers["X-ModelGraph-Attempts"] == "1"
            break
        time.sleep(0.05)
    assert routes[-1] == "chat-model@prov-b", routes
    requests_to_a = len(upstreams.a.requests)
    assert {post(b, raw, "tool-use").headers["X-ModelGraph-Route"] for _ in range(3)} == {"chat-model@prov-b"}
    assert len(upstreams.a.requests) == requests_to_a
