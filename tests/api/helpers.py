"""Helpers the API tests share: query counting and bulk rows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from model_bakery import baker

from catalog.models import Mapping, Model, Provider
from tests import recipes


def query_count(client, url: str, **headers) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    return len(queries), response


def make_offers(model: Model, count: int, start: int = 0) -> list[Mapping]:
    """`count` offers of `model`, each from its own new provider, priced 1, 2, 3… per million input tokens."""
    offers = []
    for i in range(start, start + count):
        provider = baker.make(Provider, slug=f"host-{i:03d}", name=f"Host {i}")
        offers.append(
            recipes.offer.make(
                provider=provider,
                model=model,
                provider_model_id=f"host/{model.slug}-{i}",
                price_input=Decimal(i + 1),
                price_output=Decimal(2 * (i + 1)),
                context_window=8192 * (i + 1),
            )
        )
    return offers


def make_models(count: int, **fields) -> list[Model]:
    return [baker.make(Model, slug=f"bulk-{i:03d}", name=f"Bulk model {i}", **fields) for i in range(count)]


# Trigram similarity, full-text ranking and their query counts are PostgreSQL's; SQLite runs portable fallbacks.
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL ranking/fuzzy matching")
