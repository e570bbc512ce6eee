"""The comparison table's rows rendered in Python are the markup the template loop rendered, byte for byte."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Template

from catalog.models import Billing, Lifecycle, Mapping, Provider
from catalog.ranking import OfferRank
from snapshots.page_data import HistoryLink
from web.offer_table import offer_table_rows

# The `{% for offer in offers %}` loop of templates/web/model_detail.html before the rows moved to web/offer_table.py.
BEFORE = Template((Path(__file__).parent / "offer_rows_before.html").read_text().removesuffix("\n"))
MODEL_NAME = "Llama <3> & 'friends'"
EVERY_PRICE = {
    "price_cached_input": Decimal("0.05"),
    "price_cache_write": Decimal("0.3"),
    "price_cache_write_1h": Decimal("0.6"),
    "price_reasoning": Decimal("12.5"),
    "price_audio_input": Decimal("40"),
    "price_audio_output": Decimal("80"),
    "price_image_input": Decimal("0.000765"),
    "price_image_output": Decimal("1.25"),
    "price_per_image": Decimal("0.04"),
    "price_per_request": Decimal("0.005"),
    "price_web_search": Decimal("10"),
    "price_batch_input": Decimal("0.075"),
    "price_batch_output": Decimal("0.3"),
    "price_tiers": [{"above": 200000, "input": "2.5", "output": "15"}, {"above": 1048576, "output": "20"}],
    "regional_uplift": Decimal("10.000"),
}


def offer(pk: int, provider: tuple[str, str], *, rank: dict | None = None, **fields) -> OfferRank:
    """An offer (unsaved: nothing here reads the database) ranked with `rank`'s figures."""
    slug, name = provider
    mapping = Mapping(pk=pk, provider=Provider(pk=pk, slug=slug, name=name), model_id=1, **fields)
    return OfferRank(rank=pk, mapping=mapping, blended_price=None, **(rank or {}))


OFFERS = [
    offer(
        1,
        ("deep-infra_2", "Deep <Infra> & \"Co\" 'x'"),
        provider_model_id="meta/llama<3>&'70b'",
        price_input=Decimal("0.23"),
        price_output=Decimal("0.4"),
        context_window=131072,
        max_output=16384,
        quantization="fp8",
        served_by="Together & <Friends>",
        variant="free<b>",
        **EVERY_PRICE,
        rank={
            "uptime": 0.99871,
            "median_ttft_ms": 412.3,
            "median_total_ms": 2412,
            "score": 0.8765,
            "measured": True,
            "provisional": True,
            "provider_uptime": {"scope": "provider_api", "uptime": 0.995},
            "cheapest": True,
            "fastest": True,
        },
    ),
    offer(
        2,
        ("groq", "Groq"),
        provider_model_id="llama-3.3-70b-versatile",
        status=Lifecycle.DEPRECATED,
        retirement_date=dt.date(2027, 3, 1),
        needs_review=True,
        billing=Billing.UNKNOWN,
        rank={"median_ttft_ms": 1500.0, "measured": False, "provider_uptime": {"scope": "provider_api"}},
    ),
    offer(
        3,
        ("openrouter", "OpenRouter"),
        provider_model_id="meta-llama/llama-3.3-70b-instruct:free",
        status=Lifecycle.PREVIEW,
        billing=Billing.FREE_TIER,
        price_input=Decimal("0"),
        price_output=Decimal("0"),
        price_cache_write_1h=Decimal("1"),  # without the 5-minute price: not shown
        price_audio_output=Decimal("3"),
        price_tiers=[{}],
        rank={"uptime": 0.5, "score": None, "measured": True, "provisional": True, "cheapest": True},
    ),
    offer(4, ("plans", "Plans"), provider_model_id="x", billing=Billing.SUBSCRIPTION, rank={"measured": True}),
    offer(
        5,
        ("per-call", "Per call"),
        provider_model_id="y",
        billing=Billing.PER_REQUEST,
        price_per_request=Decimal("0.01"),
        regional_uplift=Decimal("7.125"),
        rank={"uptime": 1.0, "score": 0.5, "measured": True, "provisional": False, "fastest": True},
    ),
]
HISTORY = {
    3: HistoryLink("meta-llama/llama-3.3-70b-instruct", "/snapshots/models/meta-llama/llama-3.3-70b-instruct?a=1&b=<2>")
}


@pytest.mark.parametrize("offers", [OFFERS, OFFERS[::-1], OFFERS[1:2], []], ids=["all", "reversed", "one", "none"])
def test_rows_are_the_markup_the_template_rendered(offers):
    before = BEFORE.render(Context({"offers": offers, "history_links": HISTORY, "model": {"name": MODEL_NAME}}))
    assert offer_table_rows(offers, model_name=MODEL_NAME, history_links=HISTORY) == before


def test_every_text_is_escaped():
    rows = offer_table_rows(OFFERS[:1], model_name=MODEL_NAME, history_links={})
    assert "<Infra>" not in rows and "Deep &lt;Infra&gt; &amp; &quot;Co&quot; &#x27;x&#x27;" in rows
    assert "Llama &lt;3&gt; &amp; &#x27;friends&#x27;" in rows and ":free&lt;b&gt;" in rows
