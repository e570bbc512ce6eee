"""/api/models/{id}, /providers and /compare: slug or alias, canonical bodies, offers, the side-by-side ranking."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from model_bakery import baker

from catalog import ranking, selectors
from catalog.models import Mapping, Model, Provider
from tests.api.helpers import make_offers

pytestmark = pytest.mark.django_db


class TestDetail:
    def test_body_by_slug(self, catalogue, api):
        body = api.get("/api/models/gpt-4o").json()
        assert body["slug"] == "gpt-4o" and body["name"] == "GPT-4o"
        assert body["creator"] == {"slug": "openai", "name": "OpenAI"}
        assert body["family"] == {"slug": "gpt", "name": "GPT"}
        assert body["aliases"] == [
            {"alias": "gpt-4o-2024-05-13", "provider": None},
            {"alias": "gpt-4o-2024-08-06", "provider": None},
            {"alias": "openai/gpt-4o", "provider": "openai"},
        ]
        assert body["capabilities"] == ["tools", "vision", "structured_output", "attachments", "temperature"]
        assert body["input_modalities"] == ["text", "image", "pdf"]
        assert body["providers_count"] == 1
        assert body["knowledge_cutoff"] == "2023-09"
        assert body["successor"] is None and body["deprecation_date"] is None and body["sunset_date"] is None
        assert body["links"] == {
            "self": "http://testserver/api/models/gpt-4o",
            "providers": "http://testserver/api/models/gpt-4o/providers",
            "compare": "http://testserver/api/models/gpt-4o/compare",
        }

    @pytest.mark.parametrize(
        "identifier",
        [
            "gpt-4o/",
            "gpt-4o-2024-08-06",
            "openai/gpt-4o",
            "openai/gpt-4o/",
            "GPT-4o",
            "OpenAI/GPT-4o",
            "openai%2Fgpt-4o",
        ],
    )
    def test_alias_or_other_case_answers_with_the_canonical_body(self, catalogue, api, identifier):
        assert api.get(f"/api/models/{identifier}").json() == api.get("/api/models/gpt-4o").json()

    def test_lifecycle_fields_and_successor(self, catalogue, api):
        gpt4o = Model.objects.get(slug="gpt-4o")
        Model.objects.filter(slug="gpt-4o-mini").update(
            status="deprecated",
            deprecation_date=dt.date(2025, 1, 1),
            sunset_date=dt.date(2025, 6, 1),
            successor=gpt4o,
            parameters_total=8_000_000_000,
        )
        body = api.get("/api/models/gpt-4o-mini").json()
        assert body["status"] == "deprecated"
        assert (body["deprecation_date"], body["sunset_date"]) == ("2025-01-01", "2025-06-01")
        assert body["successor"] == "gpt-4o"
        assert body["parameters_total"] == 8_000_000_000

    def test_open_weights_details(self, catalogue, api):
        body = api.get("/api/models/deepseek-r1").json()
        assert body["open_weights"] is True
        assert (body["parameters_total"], body["parameters_active"]) == (671_000_000_000, 37_000_000_000)
        assert body["license"] == "MIT"
        assert body["canonical_url"] == "https://huggingface.co/deepseek-ai/DeepSeek-R1"

    def test_unknown_id_is_404_with_near_matches(self, catalogue, api):
        response = api.get("/api/models/gpt4o-mini")
        assert response.status_code == 404
        body = response.json()
        assert body["detail"] == "No model is called 'gpt4o-mini'."
        assert body["near_matches"][0]["slug"] == "gpt-4o-mini"
        assert 0 < body["near_matches"][0]["confidence"] < 1
        assert len(body["near_matches"]) <= 5

    def test_nothing_alike_is_404_with_no_near_matches(self, catalogue, api):
        response = api.get("/api/models/zzzzzzzz")
        assert response.status_code == 404 and response.json()["near_matches"] == []

    def test_write_methods_are_refused(self, catalogue, api):
        for method in ("post", "put", "patch", "delete"):
            response = getattr(api, method)("/api/models/gpt-4o", data={}, content_type="application/json")
            assert response.status_code == 405, method
        assert api.post("/api/models", data={}).status_code == 405
        assert Model.objects.filter(slug="gpt-4o").exists()


class TestProviders:
    def test_offers_of_a_model(self, catalogue, api):
        body = api.get("/api/models/llama-3.3-70b-instruct/providers").json()
        assert body["count"] == 2
        groq, together = body["results"]
        assert groq == {
            "provider": {"slug": "groq", "name": "Groq"},
            "provider_model_id": "llama-3.3-70b-versatile",
            "price_input": 0.59,
            "price_output": 0.79,
            "price_cached_input": None,
            "price_cache_write": None,
            "context_window": 131072,
            "max_output": 32768,
            "quantization": "",
            "served_by": "",
            "variant": "",
            "delivery_modes": [],
            "status": "active",
            "retirement_date": None,
            "in_registry": True,
            "needs_review": False,
            "billing": "per_token",
            "pricing": {"input": 0.59, "output": 0.79},
            "price_tiers": [],
            "regional_uplift": None,
            "prices_checked": None,
            "verification": {  # the registry states these prices; no source has confirmed or disputed them
                "price_input": {"source": "registry", "verified_by": [], "disputed": False},
                "price_output": {"source": "registry", "verified_by": [], "disputed": False},
            },
        }
        assert together["provider"]["slug"] == "togetherai" and together["quantization"] == "fp8"

    def test_by_alias_and_paginated(self, catalogue, api):
        model = Model.objects.get(slug="gpt-4o")
        make_offers(model, 5)
        body = api.get("/api/models/openai/gpt-4o/providers?page_size=4").json()
        assert body["count"] == 6 and len(body["results"]) == 4
        assert body["results"][0]["provider"]["slug"] == "host-000"  # cheapest blended first

    def test_unknown_model_is_404(self, catalogue, api):
        assert api.get("/api/models/nope/providers").status_code == 404


class TestCompare:
    def test_rows_side_by_side_cheapest_first_and_marked(self, catalogue, api):
        body = api.get("/api/models/deepseek-r1/compare").json()
        assert body["model"] == {"slug": "deepseek-r1", "name": "DeepSeek-R1"}
        assert body["count"] == 2
        first, second = body["results"]
        assert first["provider"]["slug"] == "deepseek" and first["cheapest"] is True
        assert first["blended_price"] == 0.175  # (3 × 0.14 + 0.28) / 4
        assert (first["context_window"], first["max_output"]) == (1_000_000, 384_000)
        assert second["provider"]["slug"] == "togetherai" and second["cheapest"] is False
        assert second["quantization"] == "fp8"
        for row in (first, second):  # never probed: not measured, so no uptime, latency or score
            assert row["uptime"] is None and row["median_ttft_ms"] is None and row["median_total_ms"] is None
            assert row["fastest"] is False
            assert row["score"] is None and row["measured"] is False and row["provider_uptime"] is None

    def test_unpriced_offers_sort_last(self, catalogue, api):
        model = Model.objects.get(slug="gpt-4o")
        baker.make(Mapping, provider=baker.make(Provider, slug="aaa-free"), model=model, provider_model_id="x")
        rows = api.get("/api/models/gpt-4o/compare").json()["results"]
        assert [r["provider"]["slug"] for r in rows] == ["openai", "aaa-free"]
        assert rows[0]["cheapest"] and rows[1]["blended_price"] is None

    def test_telemetry_ranks_by_score_and_marks_the_fastest(self, catalogue, api, monkeypatch):
        model = Model.objects.get(slug="deepseek-r1")
        offers = {m.provider.slug: m.pk for m in Mapping.objects.filter(model=model).select_related("provider")}
        measured = {
            offers["deepseek"]: {"uptime": 0.9, "median_ttft_ms": 900.0, "median_total_ms": 4000.0, "score": 0.4},
            offers["togetherai"]: {"uptime": 0.999, "median_ttft_ms": 300.0, "median_total_ms": 2000.0, "score": 0.8},
        }
        monkeypatch.setattr(ranking, "offer_telemetry", lambda mappings: {m.pk: measured[m.pk] for m in mappings})
        rows = api.get("/api/models/deepseek-r1/compare").json()["results"]
        assert [r["provider"]["slug"] for r in rows] == ["togetherai", "deepseek"]  # best score first
        assert rows[0]["fastest"] and not rows[0]["cheapest"]
        assert rows[1]["cheapest"] and not rows[1]["fastest"]
        assert rows[0]["uptime"] == 0.999 and rows[0]["median_total_ms"] == 2000.0

    def test_cheapest_is_across_pages(self, catalogue, api):
        model = Model.objects.get(slug="gpt-4o")
        make_offers(model, 4)
        page2 = api.get("/api/models/gpt-4o/compare?page_size=2&page=2").json()
        assert page2["count"] == 5 and not any(r["cheapest"] for r in page2["results"])
        page1 = api.get("/api/models/gpt-4o/compare?page_size=2").json()
        assert page1["results"][0]["cheapest"] and page1["results"][0]["price_input"] == 1.0
        assert page1["next"].endswith("/api/models/gpt-4o/compare?page=2&page_size=2")

    def test_blended_price_weights_input_three_to_one(self):
        assert selectors.blended_price(Decimal(1), Decimal(5)) == Decimal(2)
        assert selectors.blended_price(None, Decimal(5)) is None


@pytest.mark.parametrize(
    "path", ["/api/models/a%0Ab", "/api/models/a%0Ab/compare", "/api/providers/%0A", "/api/nothing-here"]
)
def test_every_api_404_is_json(catalogue, api, path):
    response = api.get(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert "detail" in response.json()
