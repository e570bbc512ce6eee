"""`/compare`, `/ranked`, the model page and the gateway's `best_score` read one ranking: same offers, order, marks."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from model_bakery import baker

from catalog.models import Lifecycle, Mapping, Model
from routing import strategies
from routing.candidates import RouteCandidate
from routing.selectors import pool_scores
from telemetry.rollups import floor_hour
from telemetry.services import telemetry_rollup_range
from tests import recipes
from tests.telemetry.conftest import add_health, add_latency

pytestmark = pytest.mark.django_db


def offer(model: Model, slug: str, price: str | None, **fields) -> Mapping:
    provider = recipes.provider.make(slug=slug, name=slug.replace("-", " ").title())
    value = Decimal(price) if price is not None else None
    return recipes.offer.make(
        model=model,
        provider=provider,
        provider_model_id=f"{slug}/{model.slug}",
        price_input=value,
        price_output=value,
        **fields,
    )


@pytest.fixture
def api(client):
    return client


@pytest.fixture
def seeded(db):
    """A model with a measured offer, a price tie, an unpriced offer, a retired and an out-of-registry offer."""
    model = baker.make(Model, slug="agree-model", name="Agree Model")
    fast = offer(model, "fast-host", "4.00")
    offer(model, "zzz-host", "2.00")
    offer(model, "aaa-host", "2.00")  # same price as zzz-host: the slug decides
    offer(model, "free-host", None)
    offer(model, "old-host", "0.10", status=Lifecycle.RETIRED)  # cheapest of all, but never ranked
    offer(model, "gone-host", "0.10", in_registry=False)
    this_hour = floor_hour(timezone.now())
    start = this_hour - timedelta(hours=3)
    add_health(fast.provider, start, mapping=fast, count=30)
    add_latency(fast, start, ttft_ms=[200.0] * 10, total_ms=[800.0] * 10)
    telemetry_rollup_range(start=this_hour - timedelta(days=2), end=this_hour + timedelta(hours=1))
    lone = baker.make(Model, slug="lone-model", name="Lone Model")
    offer(lone, "priced-host", "1.00")
    offer(lone, "unpriced-host", None)
    return model, lone


def from_compare(api, model: Model) -> list[tuple[str, bool, bool]]:
    rows = api.get(f"/api/models/{model.slug}/compare?page_size=50").json()["results"]
    return [(r["provider"]["slug"], r["cheapest"], r["fastest"]) for r in rows]


def from_ranked(api, model: Model) -> list[tuple[str, bool, bool]]:
    rows = api.get(f"/api/telemetry/ranked/{model.slug}").json()["providers"]
    return [(r["provider"]["id"], r["cheapest"], r["fastest"]) for r in rows]


def from_page(client, model: Model) -> list[tuple[str, bool, bool]]:
    page = client.get(f"/models/{model.slug}").content.decode()
    table = page[page.index("<tbody") : page.index("</tbody>")]
    rows = []
    for row in table.split("<tr")[1:]:
        slug = re.search(r'href="/providers/([^"/]+)/?"', row).group(1)
        rows.append((slug, ">Cheapest</span>" in row, ">Fastest</span>" in row))
    return rows


def from_gateway(model: Model) -> list[str]:
    mappings = Mapping.objects.filter(model=model).select_related("provider")
    candidates = [
        RouteCandidate(
            mapping_id=m.pk,
            provider_id=m.provider_id,
            model_id=m.model_id,
            model_slug=model.slug,
            provider_slug=m.provider.slug,
            provider_model_id=m.provider_model_id,
            price_input=float(m.price_input) if m.price_input is not None else None,
            price_output=float(m.price_output) if m.price_output is not None else None,
        )
        for m in mappings
        if m.in_registry and m.status != Lifecycle.RETIRED  # what the gateway routes to (routable_mappings)
    ]
    ordered = strategies.order(strategies.BEST_SCORE, candidates, pool_scores(model_ids=[model.pk]))
    return [c.provider_slug for c in ordered]


class TestRankingAgreement:
    def test_the_four_surfaces_agree_on_order_and_marks(self, seeded, api, client):
        model, _ = seeded
        compare = from_compare(api, model)
        assert compare == from_ranked(api, model) == from_page(client, model)
        assert [slug for slug, _, _ in compare] == from_gateway(model)
        assert compare == [
            ("fast-host", False, True),  # measured: best score, and the only median TTFT
            ("aaa-host", True, False),  # price tie with zzz-host: the slug orders and takes the mark
            ("zzz-host", False, False),
            ("free-host", False, False),
        ]

    def test_retired_and_out_of_registry_offers_are_ranked_nowhere(self, seeded, api, client):
        model, _ = seeded
        for surface in (from_compare(api, model), from_ranked(api, model), from_page(client, model)):
            assert not {"old-host", "gone-host"} & {slug for slug, _, _ in surface}

    def test_an_offer_scores_the_same_on_compare_and_ranked(self, seeded, api):
        model, _ = seeded
        compare = {
            r["provider"]["slug"]: r["score"] for r in api.get(f"/api/models/{model.slug}/compare").json()["results"]
        }
        ranked = {
            r["provider"]["id"]: r["score"] for r in api.get(f"/api/telemetry/ranked/{model.slug}").json()["providers"]
        }
        assert compare == ranked

    def test_a_lone_priced_offer_is_cheapest_everywhere(self, seeded, api, client):
        _, lone = seeded
        expected = [("priced-host", True, False), ("unpriced-host", False, False)]
        assert from_compare(api, lone) == from_ranked(api, lone) == from_page(client, lone) == expected
        assert from_gateway(lone) == ["priced-host", "unpriced-host"]
