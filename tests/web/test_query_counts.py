"""Every page runs the same number of SQL queries whatever the number of rows it shows (no N+1)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from model_bakery import baker

from catalog.models import Alias, Family, Mapping, Model, Provider
from ingestion.models import IngestionRun, RunStatus, Tier
from tests import recipes
from tests.web.seeding import seed_telemetry

pytestmark = pytest.mark.django_db

MAX_QUERIES = 16  # the provider page: its own reads plus telemetry's provider_health and provider_latency


def pages() -> list[str]:
    groq_offer = Mapping.objects.get(provider__slug="groq").pk
    return [
        "/",
        "/search?q=llama&format=json",
        "/search?q=model",
        "/models",
        "/models?capability=tools&provider=groq&ordering=-price",
        "/models?ordering=-providers&page=2",
        "/models/llama-3.3-70b-instruct",
        "/models/llama-3.3-70b-instruct?sort=-uptime",
        "/models/lama-3.3-70b-instruct",  # 404 with suggestions
        "/providers",
        "/providers/groq",
        "/providers/groq?window=30d",
        "/telemetry",
        "/telemetry?provider=groq",
        f"/telemetry?provider=groq&offer={groq_offer}",
        "/status",
    ]


def counts(client, urls) -> dict[str, int]:
    found = {}
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code in (200, 404), url
        found[url] = len(queries)
    return found


def grow() -> None:
    """60 more models (creator, family, successor, aliases, offers at three providers each), 20 more offers of the
    compared model, telemetry for all of them, and a history of ingestion runs."""
    groq = Provider.objects.get(slug="groq")
    lab = baker.make(Provider, slug="lab", name="Lab")
    hosts = [baker.make(Provider, slug=f"host-{i:02d}", name=f"Host {i:02d}") for i in range(20)]
    family = baker.make(Family, slug="bulk", name="Bulk", creator=lab)
    previous = None
    for i in range(60):
        model = baker.make(
            Model,
            slug=f"bulk-model-{i:02d}",
            name=f"Bulk model {i:02d}",
            creator=lab,
            family=family,
            successor=previous,
            capabilities=["tools"],
            input_modalities=["text"],
            context_window=8000 * (i + 1),
        )
        for alias in (f"lab/bulk-model-{i:02d}", f"bulk-model-{i:02d}-2025"):
            baker.make(Alias, alias=alias, model=model, provider=lab)
        for provider in (groq, hosts[i % 20], hosts[(i + 1) % 20]):
            recipes.offer.make(
                model=model,
                provider=provider,
                provider_model_id=f"bulk-{i:02d}",
                price_input=Decimal("0.5"),
                price_output=Decimal("1.5"),
            )
        previous = model
    llama = Model.objects.get(slug="llama-3.3-70b-instruct")
    for host in hosts:
        recipes.offer.make(
            model=llama,
            provider=host,
            provider_model_id="llama-70b",
            price_input=Decimal("0.7"),
            price_output=Decimal("0.9"),
            quantization="fp8",
        )
    seed_telemetry(list(Mapping.objects.filter(Q(provider__in=hosts) | Q(model__family=family))), hours=30, seed=11)
    for i in range(25):
        IngestionRun.objects.create(source=f"source-{i % 5}", tier=Tier.PROVIDER_API, status=RunStatus.SUCCESS)


def test_query_counts_do_not_grow_with_rows(
    telemetry, client, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    urls = pages()
    small = counts(client, urls)
    # Committed as in production: the catalogue's version moves on, so the model page's first render reads its
    # catalogue parts again (as the first render of `small` did) and the sorted one reads them from the cache.
    with django_capture_on_commit_callbacks(execute=True):
        grow()
    large = counts(client, urls)
    assert large == small, {url: (small[url], large[url]) for url in urls if small[url] != large[url]}
    for url in urls:
        with django_assert_max_num_queries(MAX_QUERIES):
            client.get(url)


def test_the_compare_table_is_one_call_to_the_ranking_scorer(telemetry, client, monkeypatch):
    from catalog import ranking

    calls = []
    original = ranking.offer_telemetry
    monkeypatch.setattr(ranking, "offer_telemetry", lambda mappings: calls.append(list(mappings)) or original(mappings))
    client.get("/models/llama-3.3-70b-instruct")
    assert len(calls) == 1 and len(calls[0]) == 2


def test_a_cached_page_runs_no_query(telemetry, client, settings, django_assert_num_queries):
    settings.WEB_CACHE_ENABLED = True
    for url in pages():
        if client.get(url).status_code == 200 and url != "/status":  # ingestion runs are not versioned: no cache
            with django_assert_num_queries(0):
                assert client.get(url)["X-Cache"] == "hit"
