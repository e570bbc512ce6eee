"""The catalogue in one download: /api/catalog.json and the CSV exports — shape, gzip, ETag/304, never stale after a
registry load, an admin save or a bulk write, constant queries — and CORS on the public API only."""

from __future__ import annotations

import csv
import gzip
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from model_bakery import baker

from catalog.download import MODEL_CSV_FIELDS, MODEL_CSV_PRICES, OFFER_CSV_FIELDS, PRICING_KEYS
from catalog.models import Alias, Mapping, Model
from catalog.signals import catalogue_changed
from tests.api.helpers import make_models, make_offers, query_count
from tests.catalog.test_admin import form_data

pytestmark = pytest.mark.django_db

CATALOG = "/api/catalog.json"
MODELS_CSV = "/api/export/models.csv"
OFFERS_CSV = "/api/export/offers.csv"
ORIGIN = "https://tools.example.org"


def catalog(api, **headers) -> dict:
    response = api.get(CATALOG, **headers)
    assert response.status_code == 200, response.content[:500]
    return response.json()


def csv_rows(api, url: str) -> list[list[str]]:
    response = api.get(url)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


def model_entry(body: dict, slug: str) -> dict:
    return next(model for model in body["models"] if model["slug"] == slug)


def offer_entry(body: dict, slug: str, provider_model_id: str) -> dict:
    return next(o for o in model_entry(body, slug)["offers"] if o["provider_model_id"] == provider_model_id)


class TestShape:
    def test_every_public_model_with_aliases_offers_and_prices(self, catalogue, api):
        body = catalog(api)
        public = set(Model.objects.filter(needs_review=False).values_list("slug", flat=True))
        assert {model["slug"] for model in body["models"]} == public
        assert body["models_count"] == len(public) == api.get("/api/models?page_size=200").json()["count"]
        assert body["offers_count"] == Mapping.objects.count() == sum(len(m["offers"]) for m in body["models"])
        gpt = model_entry(body, "gpt-4o")
        expected_aliases = set(Alias.objects.filter(model__slug="gpt-4o").values_list("alias", flat=True))
        assert {alias["alias"] for alias in gpt["aliases"]} == expected_aliases
        offer = offer_entry(body, "gpt-4o", "gpt-4o")
        assert offer["provider"] == "openai"
        assert offer["pricing"] == {"input": 2.5, "output": 10.0, "cached_input": 1.25}
        assert offer["billing"] == "per_token"
        assert offer["context_window"] == 128000
        assert "prices_checked" in offer and "price_tiers" in offer
        assert {provider["slug"] for provider in body["providers"]} >= {"openai", "groq", "togetherai"}

    def test_every_price_dimension_and_check_date(self, catalogue, api, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            offer = Mapping.objects.get(provider_model_id="gpt-4o")
            for column in Mapping.PRICE_FIELDS:
                setattr(offer, column, Decimal("0.5"))
            offer.price_tiers = [{"above": 200000, "input": "6", "output": "22.5"}]
            offer.billing = "per_request"
            offer.prices_checked = "2026-01-02T03:04:05+00:00"
            offer.save()
        shown = offer_entry(catalog(api), "gpt-4o", "gpt-4o")
        assert shown["pricing"] == {key: 0.5 for key in PRICING_KEYS}
        assert shown["price_tiers"] == [{"above": 200000, "input": 6.0, "output": 22.5}]
        assert shown["billing"] == "per_request"
        assert shown["prices_checked"].startswith("2026-01-02T03:04:05")

    def test_a_disputed_price_says_so(self, catalogue, api, django_capture_on_commit_callbacks):
        assert offer_entry(catalog(api), "gpt-4o", "gpt-4o")["disputed"] == []
        with django_capture_on_commit_callbacks(execute=True):
            offer = Mapping.objects.get(provider_model_id="gpt-4o")
            offer.provenance = {
                "price_input": {"source": "registry", "value": "2.5", "disputed": True, "values": {"litellm": "5"}},
                "price_output": {"source": "registry", "value": "10", "disputed": False},
            }
            offer.save()
        assert offer_entry(catalog(api), "gpt-4o", "gpt-4o")["disputed"] == ["price_input"]
        rows = csv_rows(api, OFFERS_CSV)
        row = dict(zip(rows[0], next(r for r in rows[1:] if r[2] == "gpt-4o"), strict=True))
        assert row["disputed"] == "price_input"

    def test_models_awaiting_review_are_left_out_with_their_offers(self, catalogue, api):
        hidden = baker.make(Model, slug="unreviewed-model", name="Unreviewed", needs_review=True)
        make_offers(hidden, 2)
        body = catalog(api)
        assert "unreviewed-model" not in {model["slug"] for model in body["models"]}
        assert body["offers_count"] == Mapping.objects.exclude(model=hidden).count()
        offers = csv_rows(api, OFFERS_CSV)[1:]
        assert "unreviewed-model" not in {row[0] for row in offers}

    def test_served_compact_and_as_json(self, catalogue, api):
        response = api.get(CATALOG)
        assert response["Content-Type"] == "application/json"
        assert int(response["Content-Length"]) == len(response.content)
        assert b"\n" not in response.content  # one compact line


class TestHttp:
    def test_gzip_when_accepted(self, catalogue, api):
        plain = api.get(CATALOG)
        zipped = api.get(CATALOG, HTTP_ACCEPT_ENCODING="br, gzip;q=0.8")
        assert "Content-Encoding" not in plain
        assert zipped["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped["Vary"]
        assert gzip.decompress(zipped.content) == plain.content
        assert len(zipped.content) < len(plain.content) / 3
        assert "Content-Encoding" not in api.get(CATALOG, HTTP_ACCEPT_ENCODING="gzip;q=0")
        assert "Content-Encoding" not in api.get(CATALOG, HTTP_ACCEPT_ENCODING="gzip;q=0, identity")

    def test_strong_etags_per_representation_and_304(self, catalogue, api):
        plain, zipped = api.get(CATALOG), api.get(CATALOG, HTTP_ACCEPT_ENCODING="gzip")
        assert not plain["ETag"].startswith("W/") and not zipped["ETag"].startswith("W/")
        assert plain["ETag"] != zipped["ETag"]
        again = api.get(CATALOG, HTTP_IF_NONE_MATCH=plain["ETag"])
        assert again.status_code == 304 and again.content == b"" and again["ETag"] == plain["ETag"]
        assert api.get(CATALOG, HTTP_IF_NONE_MATCH=zipped["ETag"], HTTP_ACCEPT_ENCODING="gzip").status_code == 304
        assert api.get(CATALOG, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200
        assert api.get(CATALOG, HTTP_IF_MODIFIED_SINCE=plain["Last-Modified"]).status_code == 304

    def test_built_once_then_served_from_the_cache_without_queries(self, catalogue, api, django_assert_num_queries):
        first = api.get(CATALOG)
        assert first["X-Cache"] == "MISS"
        with django_assert_num_queries(0):
            second = api.get(CATALOG)
        assert second["X-Cache"] == "HIT" and second.content == first.content and second["ETag"] == first["ETag"]

    def test_another_process_reads_the_built_body_from_the_cache(self, catalogue, api, django_assert_num_queries):
        from catalog import download as downloads

        first = api.get(CATALOG, HTTP_ACCEPT_ENCODING="gzip")
        downloads._last.clear()  # what a second worker process starts with
        with django_assert_num_queries(0):
            second = api.get(CATALOG, HTTP_ACCEPT_ENCODING="gzip")
        assert second["X-Cache"] == "HIT" and second.content == first.content and second["ETag"] == first["ETag"]

    def test_constant_query_count_whatever_the_catalogue_size(self, catalogue, api, settings):
        settings.API_CACHE_ENABLED = False  # every request builds
        few, _ = query_count(api, CATALOG)
        for model in make_models(20):
            make_offers(model, 3, start=model.pk * 10)
            baker.make(Alias, alias=f"{model.slug}-alias", model=model)
        many, response = query_count(api, CATALOG)
        assert response.json()["models_count"] >= 20
        assert many == few <= 4
        for url in (MODELS_CSV, OFFERS_CSV):
            assert query_count(api, url)[0] == few

    def test_head_and_writes(self, catalogue, api):
        head = api.head(CATALOG)
        assert head.status_code == 200 and head["ETag"] == api.get(CATALOG)["ETag"]
        assert api.post(CATALOG).status_code == 405


class TestNeverStale:
    def test_registry_load(self, catalogue, api, django_capture_on_commit_callbacks):
        from tests.api.test_caching import edit, reload

        before = api.get(CATALOG)
        assert offer_entry(before.json(), "gpt-4o", "gpt-4o")["pricing"]["input"] == 2.5
        edit(catalogue / "mappings" / "openai" / "gpt-4o.yaml", "input: 2.5", "input: 2.0")
        reload(catalogue, django_capture_on_commit_callbacks)
        after = api.get(CATALOG, HTTP_IF_NONE_MATCH=before["ETag"])
        assert after.status_code == 200 and after["X-Cache"] == "MISS" and after["ETag"] != before["ETag"]
        assert offer_entry(after.json(), "gpt-4o", "gpt-4o")["pricing"]["input"] == 2.0
        offers = csv_rows(api, OFFERS_CSV)
        row = next(r for r in offers[1:] if r[1] == "openai" and r[2] == "gpt-4o")
        assert row[offers[0].index("price_input")] == "2"

    def test_unchanged_registry_load_keeps_the_body(self, catalogue, api, django_capture_on_commit_callbacks):
        from tests.api.test_caching import reload

        before = api.get(CATALOG)
        reload(catalogue, django_capture_on_commit_callbacks)
        assert api.get(CATALOG)["X-Cache"] == "HIT"
        assert api.get(CATALOG)["ETag"] == before["ETag"]

    def test_admin_save(self, catalogue, api, admin_client, django_capture_on_commit_callbacks):
        assert model_entry(catalog(api), "gpt-4o")["context_window"] != 131072
        api.get(MODELS_CSV)
        model = Model.objects.get(slug="gpt-4o")
        url = reverse("admin:catalog_model_change", args=[model.pk])
        data = form_data(admin_client.get(url)) | {"context_window": "131072", "change_reason": "docs"}
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert model_entry(catalog(api), "gpt-4o")["context_window"] == 131072
        rows = csv_rows(api, MODELS_CSV)
        gpt = next(row for row in rows[1:] if row[0] == "gpt-4o")
        assert gpt[rows[0].index("context_window")] == "131072"

    def test_bulk_write_announced_by_catalogue_changed(self, catalogue, api):
        """Ingestion runs write in bulk and announce it with `catalogue_changed` once they commit."""
        api.get(CATALOG)
        offer = Mapping.objects.get(provider_model_id="gpt-4o")
        Mapping.objects.filter(pk=offer.pk).update(price_output=Decimal("7.5"))  # no save signal
        assert api.get(CATALOG)["X-Cache"] == "HIT"  # what a write that announced nothing would get
        catalogue_changed.send(sender=None, model_ids={offer.model_id}, provider_ids={offer.provider_id})
        fresh = api.get(CATALOG)
        assert fresh["X-Cache"] == "MISS"
        assert offer_entry(fresh.json(), "gpt-4o", "gpt-4o")["pricing"]["output"] == 7.5


class TestCsv:
    def test_models_csv(self, catalogue, api):
        response = api.get(MODELS_CSV)
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="models.csv"'
        rows = csv_rows(api, MODELS_CSV)
        assert rows[0] == [*MODEL_CSV_FIELDS, *MODEL_CSV_PRICES]
        assert len(rows) - 1 == Model.objects.filter(needs_review=False).count()
        assert all(len(row) == len(rows[0]) for row in rows)
        gpt = dict(zip(rows[0], next(row for row in rows[1:] if row[0] == "gpt-4o"), strict=True))
        assert gpt["min_price_input"] == "2.5" and gpt["min_price_cached_input"] == "1.25"
        assert "gpt-4o-2024-08-06" in gpt["aliases"].split(";")
        assert gpt["min_price_batch_input"] == ""

    def test_offers_csv(self, catalogue, api):
        response = api.get(OFFERS_CSV, HTTP_ACCEPT_ENCODING="gzip")
        assert response["Content-Disposition"] == 'attachment; filename="offers.csv"'
        assert response["Content-Encoding"] == "gzip"
        rows = list(csv.reader(io.StringIO(gzip.decompress(response.content).decode())))
        assert rows[0] == OFFER_CSV_FIELDS
        assert {f"price_{key}" for key in PRICING_KEYS} <= set(rows[0])
        assert len(rows) - 1 == Mapping.objects.count()
        row = dict(zip(rows[0], next(r for r in rows[1:] if r[2] == "gpt-4o"), strict=True))
        assert (row["model"], row["provider"], row["billing"]) == ("gpt-4o", "openai", "per_token")
        assert (row["price_input"], row["price_output"], row["price_cached_input"]) == ("2.5", "10", "1.25")
        assert row["delivery_modes"] == "sync;streaming;batch"

    def test_formula_like_text_is_defused(self, catalogue, api, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            Model.objects.filter(slug="gpt-4o").update(name="=HYPERLINK(1)")
            catalogue_changed.send(sender=None, model_ids={Model.objects.get(slug="gpt-4o").pk})
        rows = csv_rows(api, MODELS_CSV)
        assert next(row for row in rows[1:] if row[0] == "gpt-4o")[1] == "'=HYPERLINK(1)"
        assert model_entry(catalog(api), "gpt-4o")["name"] == "=HYPERLINK(1)"  # JSON keeps it as it is


class TestCors:
    @pytest.mark.parametrize(
        "url",
        [CATALOG, MODELS_CSV, "/api/models", "/api/models/gpt-4o", "/api/providers", "/api/resolve?name=gpt-4o"],
    )
    def test_any_origin_may_get_the_public_api(self, catalogue, api, url):
        response = api.get(url, HTTP_ORIGIN=ORIGIN)
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response
        assert "ETag" in response["Access-Control-Expose-Headers"]

    def test_preflight(self, catalogue, api):
        response = api.options(
            CATALOG,
            HTTP_ORIGIN=ORIGIN,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-none-match",
        )
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "GET" in response["Access-Control-Allow-Methods"]
        assert "POST" not in response["Access-Control-Allow-Methods"]
        assert "if-none-match" in response["Access-Control-Allow-Headers"]
        assert "authorization" not in response["Access-Control-Allow-Headers"]
        assert "Access-Control-Allow-Credentials" not in response

    @pytest.mark.parametrize(
        "url",
        [
            "/api/v1/admin/ingestion-runs",
            "/api/routing/stats",
            "/v1/models",
            "/v1/chat/completions",
            "/admin/",
            "/admin/login/",
            "/",
        ],
    )
    def test_no_cors_on_admin_gateway_or_pages(self, catalogue, api, url):
        for response in (
            api.get(url, HTTP_ORIGIN=ORIGIN),
            api.options(url, HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"),
        ):
            assert not [name for name in response.headers if name.lower().startswith("access-control-")], url
