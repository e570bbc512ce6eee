"""Routing fixtures: three fake OpenAI-compatible upstreams on loopback, catalogue rows pointing at them, a fresh
router per test (recording sleep, injectable clock), and a real uvicorn serving the project's ASGI app."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync

from routing.defaults import capability_tree_ensure
from routing.key_limits import current_grant
from routing.models import Capability, Pool
from routing.router import Router, router_reset
from tests import recipes
from tests.fakes.openai_server import FakeProviderServer
from tests.routing.live import LiveServer

KEY_A, KEY_B = "sk-upstream-a-0123456789", "sk-upstream-b-9876543210"


class RecordingSleep:
    """Stands in for asyncio.sleep in the retry loop: records the delays, waits for nothing."""

    def __init__(self):
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


class FakeClock:
    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def run(function, *args, **kwargs):
    """Run an async scenario the way Django runs async tests: ORM calls go back to this thread (and transaction)."""
    return async_to_sync(function)(*args, **kwargs)


@pytest.fixture(scope="session")
def upstream_servers():
    servers = [FakeProviderServer().start() for _ in range(3)]
    yield servers
    for server in servers:
        server.release()
        server.stop()


@pytest.fixture
def upstreams(upstream_servers):
    """Three providers' APIs, healthy and fast; `configure(...)` each in the test."""
    for server in upstream_servers:
        server.reset()
    yield SimpleNamespace(a=upstream_servers[0], b=upstream_servers[1], c=upstream_servers[2])
    for server in upstream_servers:
        server.release()
        server.reset()


@pytest.fixture(autouse=True)
def no_key_grant_left():
    """Every test starts with no gateway key grant in this thread's context: a test client's call of an async gateway
    view copies the view's context (the key it authorized) back into the calling thread, where the in-process client
    of a later test would take it as its own key."""
    token = current_grant.set(None)
    yield
    current_grant.reset(token)


@pytest.fixture(autouse=True)
def routing_settings(settings, monkeypatch):
    monkeypatch.setenv("PROVIDER_A_TEST_API_KEY", KEY_A)
    monkeypatch.setenv("PROVIDER_B_TEST_API_KEY", KEY_B)
    settings.ROUTING_LOG_MODE = "inline"
    settings.ROUTING_TABLE_TTL = 3600
    settings.ROUTING_SCORE_TTL = 3600
    settings.ROUTING_STATE_REFRESH = 3600
    settings.ROUTING_REQUEST_TIMEOUT = 2.0
    settings.ROUTING_FIRST_TOKEN_TIMEOUT = 2.0
    settings.ROUTING_STALL_TIMEOUT = 0.3
    settings.ROUTING_PROBE_TIMEOUT = 2.0
    settings.ROUTING_GATEWAY_KEYS = []
    return settings


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def router(sleep, clock) -> Router:
    """A new process-level router per test (what a restart gives), with a recording sleep and a fake clock."""
    router = router_reset(Router(sleep=sleep, clock=clock))
    yield router
    router.log.writer.stop()
    router_reset()


@pytest.fixture
def tree(db):
    capability_tree_ensure(Capability)
    return {c.slug: c for c in Capability.objects.all()}


@pytest.fixture
def catalogue(db, upstreams, tree):
    """Model `chat-model` at providers a (key A), b (key B) and c (no key), each on its own fake upstream;
    a, b and c also serve `coder-model`; prices make c the cheapest and a the dearest."""
    providers, mappings = {}, {}
    for name, key in (("a", "${secrets:PROVIDER_A_TEST_API_KEY}"), ("b", "PROVIDER_B_TEST_API_KEY"), ("c", "")):
        server = getattr(upstreams, name)
        providers[name] = recipes.openai_compatible_provider.make(
            slug=f"prov-{name}", name=f"Provider {name.upper()}", api_base_url=server.url, api_key_env=key
        )
    chat = recipes.text_model.make(slug="chat-model", name="Chat Model", capabilities=["tools"])
    coder = recipes.text_model.make(slug="coder-model", name="Coder Model")
    prices = {"a": ("3.00", "9.00"), "b": ("2.00", "6.00"), "c": ("1.00", "3.00")}
    for name, provider in providers.items():
        for model in (chat, coder):
            price_in, price_out = prices[name]
            mappings[f"{model.slug}@{name}"] = recipes.offer.make(
                provider=provider,
                model=model,
                provider_model_id=f"{model.slug}-{name}",
                price_input=Decimal(price_in),
                price_output=Decimal(price_out),
            )
    return SimpleNamespace(providers=providers, mappings=mappings, chat=chat, coder=coder, tree=tree)


@pytest.fixture
def make_pool(tree):
    def make(slug: str, capability: str = "text-generation", members=(), **fields) -> Pool:
        pool = Pool.objects.create(slug=slug, name=slug.title(), capability=tree[capability], **fields)
        if members:
            pool.members.set(members)
        return pool

    return make


def chat_body(model: str, stream: bool = False, **extra) -> str:
    return json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream, **extra})


def sse_data(content: bytes) -> list[str]:
    """The `data:` payloads of an SSE body, in order."""
    return [line[6:] for line in content.decode().split("\n") if line.startswith("data: ")]


@pytest.fixture(params=["modelgraph.asgi", "routing.asgi"])
def live_gateway(request, transactional_db):
    """Under a real uvicorn on loopback (needs committed rows: transaction=True), both ways /v1/ is served:
    the project's Django application, and the gateway lane."""
    server = LiveServer(request.param).start()
    yield server
    server.stop()
