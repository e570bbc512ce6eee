"""The model page's price-history chart: inline SVG step lines from PriceRecord, nothing when there is no history."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog.models import Mapping, PriceRecord
from tests.web.conftest import text

pytestmark = pytest.mark.django_db


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


def test_each_offer_with_a_history_is_a_step_line_with_its_prices_in_tooltips(catalogue, client):
    mapping = Mapping.objects.get(provider__slug="deepseek", provider_model_id="deepseek-reasoner")
    PriceRecord.objects.create(
        mapping=mapping,
        valid_from=at("2026-01-08"),
        valid_to=at("2026-07-24"),
        source="litellm",
        prices={"price_input": "0.6", "price_output": "1.7"},
    )
    PriceRecord.objects.create(
        mapping=mapping,
        valid_from=at("2026-07-24"),
        source="litellm",
        prices={"price_input": "0.28", "price_output": "0.42"},
    )
    page = text(client.get("/models/deepseek-r1"))
    assert 'id="price-history-title"' in page and "<script" not in page.split('id="price-history-title"')[1]
    assert "deepseek-reasoner: input $0.6, output $1.7 per million tokens, 08 Jan 2026 to 24 Jul 2026 (litellm)" in page
    assert "input $0.28, output $0.42 per million tokens, 24 Jul 2026 to now (litellm)" in page


def test_no_history_no_chart(catalogue, client):
    assert 'id="price-history-title"' not in text(client.get("/models/deepseek-r1"))
