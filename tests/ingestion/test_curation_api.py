"""The curation API (Build 3 of issue 16): every write needs a key with `curation:write` and a reason, answers 400
naming the field for bad input (and changes nothing), shows at once in the cached public API, and is kept in the
history under the key's owner. Plus the seed's two curl commands, exactly as the seed writes them."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import Alias, Mapping, Model
from ingestion.models import AliasPin, FieldPin, IngestionRun, OfferPin, RunStatus
from modelgraph.models import ApiKey, ApiScope
from registry.loading import registry_load
from tests.ingestion.curation_helpers import client_with, issue_key

pytest_plugins = ["tests.replay.fixtures", "tests.ingestion.curation_helpers"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(registry_dir):
    registry_load(path=registry_dir)
    return registry_dir


def groq_offer() -> Mapping:
    return Mapping.objects.get(provider__slug="groq", provider_model_id="llama-3.3-70b-versatile")


def offer_row(public, slug: str, provider: str) -> dict:
    body = public.get(f"/api/models/{slug}/providers").json()
    rows = body["results"] if isinstance(body, dict) else body
    return next(row for row in rows if row["provider"]["slug"] == provider)


# Every curation endpoint: method, path (after /api/v1/admin/), a valid body.
def endpoints() -> list[tuple[str, str, dict]]:
    offer = groq_offer().pk
    return [
        ("post", "aliases", {"alias": "my-4o", "model": "gpt-4o", "reason": "ours"}),
        ("delete", "aliases/gpt-4o-2024-08-06", {"reason": "wrong"}),
        ("post", "models/gpt-4o/pins", {"field": "context_window", "value": 64000, "reason": "docs"}),
        ("delete", "models/gpt-4o/pins/context_window", {"reason": "docs"}),
        ("post", f"offers/{offer}/pins", {"field": "price_output", "value": "0.80", "reason": "price page"}),
        ("delete", f"offers/{offer}/pins/price_output", {"reason": "price page"}),
        ("post", "models/gpt-4o/lifecycle", {"status": "deprecated", "reason": "announced"}),
        ("post", f"offers/{offer}/lifecycle", {"status": "retired", "reason": "gone"}),
        ("post", "models/gpt-4o-mini/merge", {"target": "gpt-4o", "reason": "same model"}),
    ]


ENDPOINT_COUNT = 9


class TestKeysAndScopes:
    @pytest.mark.parametrize("index", range(ENDPOINT_COUNT))
    def test_no_key_is_401_and_a_wrong_scope_is_403(self, loaded, curator, catalogue_state, index):
        method, path, body = endpoints()[index]
        before = catalogue_state()
        url = f"/api/v1/admin/{path}"
        response = getattr(client_with(None), method)(url, body, format="json")
        assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
        for scopes in ([ApiScope.REVIEW_READ], [ApiScope.INGESTION_READ, ApiScope.INGESTION_RUN]):
            response = getattr(client_with(issue_key(scopes, curator)), method)(url, body, format="json")
            assert response.status_code == 403 and "curation:write" in response.json()["detail"]
        assert catalogue_state() == before

    @pytest.mark.parametrize("index", range(ENDPOINT_COUNT))
    def test_a_missing_reason_is_400_naming_it_and_changes_nothing(self, loaded, curation, catalogue_state, index):
        method, path, body = endpoints()[index]
        before = catalogue_state()
        body = {name: value for name, value in body.items() if name != "reason"}
        response = getattr(curation, method)(f"/api/v1/admin/{path}", body, format="json")
        assert response.status_code == 400, response.json()
        assert list(response.json()["errors"]) == ["reason"]
        assert catalogue_state() == before

    def test_keys_made_before_scopes_keep_the_ingestion_endpoints_only(self, loaded):
        raw = ApiKey.generate()
        ApiKey.objects.create(name="old", prefix=raw[:10], key_hash=ApiKey.hash(raw))
        assert ApiKey.objects.get(name="old").scopes == ["ingestion:read", "ingestion:run"]
        assert client_with(raw).get("/api/v1/admin/ingestion-runs").status_code == 200
        assert client_with(raw).get("/api/v1/admin/review").status_code == 403


class TestBadInput:
    @pytest.mark.parametrize(
        ("method", "path", "body", "field"),
        [
            ("post", "aliases", {"alias": "gpt-4o-mini-2024-07-18", "model": "gpt-4o", "reason": "x"}, "alias"),
            ("post", "aliases", {"alias": "gpt-4o-mini", "model": "gpt-4o", "reason": "x"}, "alias"),
            ("post", "aliases", {"alias": "x-4o", "model": "no-such-model", "reason": "x"}, "model"),
            ("post", "aliases", {"alias": "x-4o", "model": "gpt-4o", "provider": "nobody", "reason": "x"}, "provider"),
            ("post", "aliases", {"model": "gpt-4o", "reason": "x"}, "alias"),
            ("delete", "aliases/never-heard-of-it", {"reason": "x"}, "alias"),
            ("post", "models/gpt-4o/pins", {"field": "slug", "value": "x", "reason": "x"}, "field"),
            ("post", "models/gpt-4o/pins", {"field": "release_date", "value": "May 2024", "reason": "x"}, "value"),
            ("post", "models/gpt-4o/pins", {"field": "status", "value": "gone", "reason": "x"}, "value"),
            ("post", "models/gpt-4o/pins", {"field": "successor", "value": "gpt-4o", "reason": "x"}, "value"),
            ("post", "models/gpt-4o/pins", {"field": "context_window", "value": -5, "reason": "x"}, "value"),
            ("post", "models/gpt-4o/pins", {"field": "capabilities", "value": ["telepathy"], "reason": "x"}, "value"),
            ("delete", "models/gpt-4o/pins/context_window", {"reason": "x"}, "field"),
            ("post", "OFFER/pins", {"field": "price_output", "value": "-1", "reason": "x"}, "value"),
            ("post", "OFFER/pins", {"field": "price_output", "value": "cheap", "reason": "x"}, "value"),
            ("post", "OFFER/pins", {"field": "provider_model_id", "value": "x", "reason": "x"}, "field"),
            ("post", "OFFER/pins", {"field": "retirement_date", "value": "soon", "reason": "x"}, "value"),
            ("delete", "OFFER/pins/price_output", {"reason": "x"}, "field"),
            # A value of another JSON type was kept in its Python spelling ("{'$gt': 1}", "True"), true as 1, and a
            # NUL character was a 500 (PostgreSQL cannot store it).
            ("post", "models/gpt-4o/pins", {"field": "name", "value": {"$gt": 1}, "reason": "x"}, "value"),
            ("post", "models/gpt-4o/pins", {"field": "license", "value": ["mit"], "reason": "x"}, "value"),
            ("post", "models/gpt-4o/pins", {"field": "description", "value": 12, "reason": "x"}, "value"),
            ("post", "models/gpt-4o/pins", {"field": "context_window", "value": True, "reason": "x"}, "value"),
            ("post", "models/gpt-4o/pins", {"field": "name", "value": "GPT\u0000", "reason": "x"}, "value"),
            ("post", "models/gpt-4o/pins", {"field": "successor", "value": "gpt\u0000", "reason": "x"}, "value"),
            ("post", "OFFER/pins", {"field": "price_output", "value": True, "reason": "x"}, "value"),
            ("post", "OFFER/pins", {"field": "served_by", "value": [], "reason": "x"}, "value"),
            ("post", "OFFER/pins", {"field": "quantization", "value": "fp8\u0000", "reason": "x"}, "value"),
            ("post", "OFFER/pins", {"field": "delivery_modes", "value": ["carrier-pigeon"], "reason": "x"}, "value"),
            ("post", "models/gpt-4o/lifecycle", {"status": "sunsetting", "reason": "x"}, "status"),
            (
                "post",
                "models/gpt-4o/lifecycle",
                {"status": "deprecated", "deprecation_date": "2026-05-01", "sunset_date": "2026-01-01", "reason": "x"},
                "sunset_date",
            ),
            (
                "post",
                "models/gpt-4o/lifecycle",
                {"status": "deprecated", "successor": "nope", "reason": "x"},
                "successor",
            ),
            (
                "post",
                "OFFER/lifecycle",
                {"status": "retired", "retirement_date": "31/12/2026", "reason": "x"},
                "retirement_date",
            ),
            ("post", "models/gpt-4o/merge", {"target": "gpt-4o", "reason": "x"}, "target"),
            ("post", "models/gpt-4o/merge", {"target": "no-such-model", "reason": "x"}, "target"),
        ],
    )
    def test_bad_input_is_400_naming_the_field_and_changes_nothing(
        self, loaded, curation, catalogue_state, method, path, body, field
    ):
        path = path.replace("OFFER", f"offers/{groq_offer().pk}")
        before = catalogue_state()
        pins = (FieldPin.objects.count(), OfferPin.objects.count(), AliasPin.objects.count())
        response = getattr(curation, method)(f"/api/v1/admin/{path}", body, format="json")
        assert response.status_code == 400, response.content
        assert list(response.json()["errors"]) == [field]
        assert response.json()["detail"].startswith(f"Invalid parameter '{field}'")
        assert catalogue_state() == before
        assert (FieldPin.objects.count(), OfferPin.objects.count(), AliasPin.objects.count()) == pins

    @pytest.mark.parametrize("field", ["description", "license", "knowledge_cutoff"])
    def test_a_null_text_pin_is_an_empty_text(self, loaded, curation, field):
        """A text column that holds no null takes null as empty (it was an IntegrityError, a 500)."""
        response = curation.post(
            "/api/v1/admin/models/gpt-4o/pins", {"field": field, "value": None, "reason": "none known"}, format="json"
        )
        assert response.status_code == 200, response.content
        assert getattr(Model.objects.get(slug="gpt-4o"), field) == ""

    def test_unknown_model_or_offer_is_404(self, loaded, curation):
        body = {"field": "context_window", "value": 1, "reason": "x"}
        assert curation.post("/api/v1/admin/models/nope/pins", body, format="json").status_code == 404
        assert curation.post("/api/v1/admin/offers/999999/pins", body, format="json").status_code == 404


# Committed writes, as in production: the cache is bumped when the request's transaction commits.
@pytest.mark.django_db(transaction=True)
class TestAliases:
    def test_an_added_alias_shows_at_once_is_kept_by_loads_and_in_history(self, loaded, curation, curator, public):
        assert "team/gpt-4o" not in [a["alias"] for a in public.get("/api/models/gpt-4o").json()["aliases"]]
        response = curation.post(
            "/api/v1/admin/aliases",
            {"alias": "team/gpt-4o", "model": "gpt-4o", "provider": "openai", "reason": "our gateway's name"},
            format="json",
        )
        assert response.status_code == 201
        assert response.json() == {"alias": "team/gpt-4o", "model": "gpt-4o", "provider": "openai", "pinned": True}
        aliases = public.get("/api/models/gpt-4o").json()["aliases"]
        assert {"alias": "team/gpt-4o", "provider": "openai"}.items() <= next(
            a for a in aliases if a["alias"] == "team/gpt-4o"
        ).items()
        assert public.get("/api/models/team/gpt-4o").json()["slug"] == "gpt-4o"
        record = Alias.objects.get(alias="team/gpt-4o").history.first()
        assert (record.history_user, record.history_change_reason) == (curator, "our gateway's name")
        registry_load(path=loaded)
        assert Alias.objects.get(alias="team/gpt-4o").model.slug == "gpt-4o"

    def test_removing_an_alias_shows_at_once_and_in_history(self, loaded, curation, curator, public):
        assert public.get("/api/models/gpt-4o-mini-2024-07-18").status_code == 200
        response = curation.delete(
            "/api/v1/admin/aliases/gpt-4o-mini-2024-07-18", {"reason": "snapshot gone"}, format="json"
        )
        assert response.status_code == 204
        assert public.get("/api/models/gpt-4o-mini-2024-07-18").status_code == 404
        record = Alias.history.filter(alias="gpt-4o-mini-2024-07-18").first()
        assert (record.history_type, record.history_user, record.history_change_reason) == (
            "-",
            curator,
            "snapshot gone",
        )

    def test_the_reason_of_a_removal_may_come_as_a_query_parameter(self, loaded, curation):
        response = curation.delete("/api/v1/admin/aliases/gpt-4o-mini-2024-07-18?reason=gone")
        assert response.status_code == 204 and not Alias.objects.filter(alias="gpt-4o-mini-2024-07-18").exists()


# Committed writes, as in production: the cache is bumped when the request's transaction commits.
@pytest.mark.django_db(transaction=True)
class TestModelPins:
    def test_a_pin_shows_at_once_survives_loads_and_a_release_goes_back(self, loaded, curation, curator, public):
        assert public.get("/api/models/gpt-4o").json()["context_window"] == 128000
        response = curation.post(
            "/api/v1/admin/models/gpt-4o/pins",
            {"field": "context_window", "value": 64000, "reason": "tier 1 accounts"},
            format="json",
        )
        assert response.status_code == 200
        assert response.json() == {
            "field": "context_window",
            "pinned": True,
            "value": 64000,
            "reason": "tier 1 accounts",
        }
        assert public.get("/api/models/gpt-4o").json()["context_window"] == 64000
        model = Model.objects.get(slug="gpt-4o")
        record = model.history.first()
        assert record.history_user == curator and "tier 1 accounts" in record.history_change_reason
        assert FieldPin.objects.get(model=model).history.first().history_user == curator
        registry_load(path=loaded)
        assert public.get("/api/models/gpt-4o").json()["context_window"] == 64000
        response = curation.delete("/api/v1/admin/models/gpt-4o/pins/context_window", {"reason": "back"}, format="json")
        assert response.status_code == 204
        assert public.get("/api/models/gpt-4o").json()["context_window"] == 128000
        assert Model.objects.get(slug="gpt-4o").history.first().history_user == curator

    def test_a_dotted_slug_model_takes_a_pinned_date(self, loaded, curation, public):
        url = "/api/v1/admin/models/llama-3.3-70b-instruct/pins"
        response = curation.post(url, {"field": "release_date", "value": "2024-12-05", "reason": "blog"}, format="json")
        assert response.status_code == 200
        assert public.get("/api/models/llama-3.3-70b-instruct").json()["release_date"] == "2024-12-05"


# Committed writes, as in production: the cache is bumped when the request's transaction commits.
@pytest.mark.django_db(transaction=True)
class TestOfferPins:
    def test_a_price_pin_shows_at_once_survives_loads_and_a_release_goes_back(self, loaded, curation, curator, public):
        offer = groq_offer()
        assert offer_row(public, "llama-3.3-70b-instruct", "groq")["price_output"] == 0.79
        response = curation.post(
            f"/api/v1/admin/offers/{offer.pk}/pins",
            {"field": "price_output", "value": 0.8, "reason": "groq price page"},
            format="json",
        )
        assert response.status_code == 200 and response.json()["value"] == "0.8"
        assert offer_row(public, "llama-3.3-70b-instruct", "groq")["price_output"] == 0.8
        record = Mapping.objects.get(pk=offer.pk).history.first()
        assert record.history_user == curator and "groq price page" in record.history_change_reason
        registry_load(path=loaded)
        assert Mapping.objects.get(pk=offer.pk).provenance["price_output"]["source"] == "pin"
        assert offer_row(public, "llama-3.3-70b-instruct", "groq")["price_output"] == 0.8
        response = curation.delete(
            f"/api/v1/admin/offers/{offer.pk}/pins/price_output", {"reason": "page fixed"}, format="json"
        )
        assert response.status_code == 204
        assert offer_row(public, "llama-3.3-70b-instruct", "groq")["price_output"] == 0.79
        assert Mapping.objects.get(pk=offer.pk).history.first().history_user == curator

    def test_a_limit_pin_survives_loads(self, loaded, curation, public):
        offer = groq_offer()
        body = {"field": "max_output", "value": 8192, "reason": "free tier cap"}
        assert curation.post(f"/api/v1/admin/offers/{offer.pk}/pins", body, format="json").status_code == 200
        assert offer_row(public, "llama-3.3-70b-instruct", "groq")["max_output"] == 8192
        registry_load(path=loaded)
        assert offer_row(public, "llama-3.3-70b-instruct", "groq")["max_output"] == 8192


# Committed writes, as in production: the cache is bumped when the request's transaction commits.
@pytest.mark.django_db(transaction=True)
class TestLifecycle:
    def test_deprecating_a_model_with_dates_and_successor(self, loaded, curation, curator, public):
        assert public.get("/api/models/gpt-4o").json()["status"] == "active"
        response = curation.post(
            "/api/v1/admin/models/gpt-4o/lifecycle",
            {
                "status": "deprecated",
                "deprecation_date": "2026-06-01",
                "sunset_date": "2026-12-31",
                "successor": "gpt-4o-mini",
                "reason": "OpenAI deprecation notice",
            },
            format="json",
        )
        assert response.status_code == 200, response.json()
        shown = public.get("/api/models/gpt-4o").json()
        assert (shown["status"], shown["deprecation_date"], shown["sunset_date"], shown["successor"]) == (
            "deprecated",
            "2026-06-01",
            "2026-12-31",
            "gpt-4o-mini",
        )
        assert Model.objects.get(slug="gpt-4o").history.first().history_user == curator
        registry_load(path=loaded)
        assert public.get("/api/models/gpt-4o").json()["status"] == "deprecated"

    def test_retiring_an_offer_with_its_day(self, loaded, curation, curator, public):
        offer = groq_offer()
        response = curation.post(
            f"/api/v1/admin/offers/{offer.pk}/lifecycle",
            {"status": "retired", "retirement_date": "2026-11-30", "reason": "groq shut it down"},
            format="json",
        )
        assert response.status_code == 200
        assert response.json() == {"status": "retired", "retirement_date": "2026-11-30"}
        row = offer_row(public, "llama-3.3-70b-instruct", "groq")
        assert (row["status"], row["retirement_date"]) == ("retired", "2026-11-30")
        assert Mapping.objects.get(pk=offer.pk).history.first().history_user == curator
        registry_load(path=loaded)
        assert Mapping.objects.get(pk=offer.pk).status == "retired"


# Committed writes, as in production: the cache is bumped when the request's transaction commits.
@pytest.mark.django_db(transaction=True)
class TestMerge:
    def test_merge_moves_aliases_and_offers_and_the_old_slug_resolves_to_the_target(
        self, loaded, curation, curator, public
    ):
        source = Model.objects.get(slug="gpt-4o-mini")
        aliases = set(source.aliases.values_list("alias", flat=True))
        offers = set(source.mappings.values_list("pk", flat=True))
        assert aliases and offers
        assert public.get("/api/models/gpt-4o-mini").json()["slug"] == "gpt-4o-mini"
        response = curation.post(
            "/api/v1/admin/models/gpt-4o-mini/merge", {"target": "gpt-4o", "reason": "one model"}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["aliases"] == len(aliases) and response.json()["offers"] == len(offers)
        target = Model.objects.get(slug="gpt-4o")
        assert not Model.objects.filter(slug="gpt-4o-mini").exists()
        assert aliases | {"gpt-4o-mini"} <= set(target.aliases.values_list("alias", flat=True))
        assert offers <= set(target.mappings.values_list("pk", flat=True))
        assert public.get("/api/models/gpt-4o-mini").json()["slug"] == "gpt-4o"
        for alias in aliases:
            assert public.get(f"/api/models/{alias}").json()["slug"] == "gpt-4o"
        moved = Mapping.objects.get(pk=min(offers)).history.first()
        assert (moved.history_user, moved.history_change_reason.startswith("merged gpt-4o-mini into gpt-4o")) == (
            curator,
            True,
        )
        deleted = Model.history.filter(slug="gpt-4o-mini").first()
        assert (deleted.history_type, deleted.history_user) == ("-", curator)


class TestSeedCurlCommands:
    """modelgraph-data-freshness: `curl -H "Authorization: Bearer $API_KEY" …/api/v1/admin/ingestion-runs` and
    `curl -X POST -H "Authorization: Bearer $API_KEY" …/api/v1/admin/ingest/openai-api`, with a key as the admin
    issues it by default."""

    def test_both_commands_work_exactly_as_written(self, replay_server, settings, monkeypatch, registry_dir):
        registry_load(path=registry_dir)
        settings.INGESTION_BASE_URLS = {"openai": replay_server.mount("openai", prefix="/openai")}
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai-secret")
        raw = ApiKey.generate()
        ApiKey.objects.create(name="seed", prefix=raw[:10], key_hash=ApiKey.hash(raw))
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

        queued = client.post("/api/v1/admin/ingest/openai-api")
        assert queued.status_code == 202, queued.content
        body = queued.json()
        assert (body["source"], body["status"]) == ("openai", "queued")
        run = IngestionRun.objects.get(pk=body["run_id"])
        assert (run.source, run.status) == ("openai", RunStatus.SUCCESS)  # django-q2 runs synchronously in tests

        listed = client.get("/api/v1/admin/ingestion-runs")
        assert listed.status_code == 200
        rows = listed.json()["results"] if isinstance(listed.json(), dict) else listed.json()
        row = next(r for r in rows if r["id"] == run.pk)
        assert {"models_added", "models_updated", "error_message"} <= set(row)
        assert row["source"] == "openai" and row["status"] == "success"

    def test_an_unknown_seed_form_is_still_404(self):
        raw = issue_key([ApiScope.INGESTION_RUN])
        response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").post("/api/v1/admin/ingest/nosuch-api")
        assert response.status_code == 404 and "nosuch-api" in response.json()["detail"]
