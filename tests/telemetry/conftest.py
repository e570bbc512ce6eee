"""Telemetry fixtures: the fake OpenAI-compatible provider and catalogue rows pointing at it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalog.models import Mapping, Model, Provider
from telemetry.models import HealthCheck, LatencySample
from tests import recipes
from tests.fakes.fixtures import fake_provider, fake_provider_server  # noqa: F401  (fixtures)

KEY = "sk-test-0123456789abcdef"
# A fixed "now" in the middle of an hour, for tests that place rows in time.
NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


@pytest.fixture
def api_key(monkeypatch) -> str:
    monkeypatch.setenv(recipes.PROBE_KEY_ENV, KEY)
    return KEY


@pytest.fixture
def probed(api_key) -> dict:
    """Provider fields that make it probeable (an endpoint and a key in the environment), without a server."""
    return {"api_base_url": "http://127.0.0.1:9/v1", "api_key_env": recipes.PROBE_KEY_ENV, "openai_compatible": True}


@pytest.fixture
def make_provider(fake_provider, api_key):  # noqa: F811
    def make(slug: str, **fields) -> Provider:
        return recipes.openai_compatible_provider.make(
            slug=slug, **{"name": slug.title(), "api_base_url": fake_provider.url, **fields}
        )

    return make


@pytest.fixture
def llm() -> Model:
    return recipes.model.make(slug="llama-3.3-70b", name="Llama 3.3 70B")


@pytest.fixture
def make_mapping(llm):
    def make(
        provider: Provider, provider_model_id: str = "fake-model", model: Model | None = None, **fields
    ) -> Mapping:
        return recipes.offer.make(
            provider=provider,
            model=model or llm,
            provider_model_id=provider_model_id,
            **{"delivery_modes": ["streaming"], **fields},
        )

    return make


def add_health(provider, at, outcome="success", mapping=None, response_ms=100.0, count=1, every=timedelta(minutes=5)):
    """`count` health checks, `every` apart from `at` on (a provider's API or one mapping)."""
    return HealthCheck.objects.bulk_create(
        HealthCheck(
            provider=provider,
            mapping=mapping,
            checked_at=at + i * every,
            outcome=outcome,
            status_code=200 if outcome == "success" else 500,
            response_ms=response_ms,
        )
        for i in range(count)
    )


def add_latency(mapping, at, outcome="success", ttft_ms=300.0, total_ms=900.0, tokens=16, every=timedelta(minutes=15)):
    """One latency sample per value when `ttft_ms`/`total_ms` are lists, `every` apart from `at`."""
    ttfts = ttft_ms if isinstance(ttft_ms, list) else [ttft_ms]
    totals = total_ms if isinstance(total_ms, list) else [total_ms] * len(ttfts)
    return LatencySample.objects.bulk_create(
        LatencySample(
            provider_id=mapping.provider_id,
            mapping=mapping,
            checked_at=at + i * every,
            outcome=outcome,
            ttft_ms=ttft,
            total_ms=total,
            output_tokens=tokens,
            tokens_from_usage=True,
            tokens_per_second=tokens / ((total - ttft) / 1000) if total and ttft and total > ttft else None,
        )
        for i, (ttft, total) in enumerate(zip(ttfts, totals, strict=True))
    )
