"""A full offline deprecations.info cycle: every notice lands at the scope it names (offer, snapshot or model)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from catalog.lifecycle import model_shown_status, models_retired_by_offers, successor_refusal
from catalog.models import Alias, Lifecycle, Mapping, Model
from ingestion.lifecycle import MODEL, OFFER, SNAPSHOT, is_dated_snapshot, notice_scope, offer_key
from ingestion.models import IngestionRun, RunStatus, Tier
from ingestion.provenance import field_pin
from ingestion.services import ingestion_apply_observations, ingestion_run_source
from ingestion.sources.base import SourceRecord as Seen
from ingestion.sources.deprecations import model_ids, provider_slug
from registry.loading import registry_load

pytest_plugins = ["tests.replay.fixtures"]
pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REGISTRY = FIXTURES / "registry_lifecycle"
NOTICES = FIXTURES / "sources" / "deprecations" / "v1_deprecations_2025-11-23.json"
AZURE_PROVIDERS = {"azure"}


def notices() -> list[tuple[str | None, str]]:
    """(provider slug, model id) of every notice in the served file."""
    found = []
    for item in json.loads(NOTICES.read_text(encoding="utf-8")):
        for model_id in model_ids(item["model_id"]):
            found.append((provider_slug(item["provider"]), model_id))
    return found


@pytest.fixture
def cycle(replay_server, settings):
    """The realistic registry loaded, then one deprecations run against the loopback replay server."""
    settings.INGESTION_BASE_URLS = {"deprecations": replay_server.mount("deprecations", prefix="/deprecations")}
    registry_load(path=REGISTRY)
    run = ingestion_run_source(source="deprecations")
    assert run.status == RunStatus.SUCCESS, run.error_message
    return run


def retired_offers() -> list[Mapping]:
    """Offers with a retirement date: the registry states none, so every one came from a notice."""
    return list(Mapping.objects.filter(retirement_date__isnull=False).select_related("provider"))


class TestFullCycle:
    def test_the_run_reports_what_each_scope_touched(self, cycle):
        lifecycle = cycle.details["lifecycle"]
        # Measured on the real file against this registry: Azure's five offers, OpenAI's and Anthropic's snapshots.
        assert lifecycle["offers"] == len(retired_offers()) == 7
        assert lifecycle["aliases"] >= 4
        assert lifecycle["models"] >= 1
        assert lifecycle["skipped_count"] == len(lifecycle["skipped"]) or lifecycle["skipped_count"] > 50

    def test_no_model_served_by_a_provider_that_did_not_retire_it_is_shown_retired(self, cycle):
        for model in Model.objects.all():
            live = Mapping.objects.filter(model=model, status__in=[Lifecycle.ACTIVE, Lifecycle.PREVIEW])
            if live.filter(retirement_date__isnull=True).exists():
                assert model_shown_status(model) != Lifecycle.RETIRED, model.slug
        llama = Model.objects.get(slug="llama-3.1-70b-instruct")
        assert (llama.status, llama.sunset_date, llama.deprecation_date) == ("preview", None, None)  # as registered
        retired = llama.mappings.filter(retirement_date__isnull=False)
        assert llama.mappings.count() == 10
        assert [(o.provider.slug, o.status, o.retirement_date) for o in retired] == [
            ("azure", Lifecycle.RETIRED, dt.date(2025, 6, 30))
        ]
        assert not models_retired_by_offers()

    def test_azure_notices_affect_only_azure_offers(self, cycle):
        azure_ids = {offer_key(model_id) for provider, model_id in notices() if provider == "azure"}
        stated = {(provider, offer_key(model_id)) for provider, model_id in notices()}
        changed = retired_offers()
        azure = [o for o in changed if o.provider.slug in AZURE_PROVIDERS]
        assert {offer_key(o.provider_model_id) for o in azure} <= azure_ids
        assert {o.provider_model_id for o in azure} >= {"meta-llama-3.1-70b-instruct", "mistral-nemo"}
        for offer in changed:  # every changed offer was named, by its own id, by its own provider
            assert (offer.provider.slug, offer_key(offer.provider_model_id)) in stated, offer
        nemo = Mapping.objects.get(provider__slug="azure", provider_model_id="mistral-nemo")
        assert (nemo.status, nemo.retirement_date) == (Lifecycle.RETIRED, dt.date(2026, 1, 30)) or (
            nemo.status == Lifecycle.DEPRECATED and nemo.retirement_date > dt.date.today()
        )
        assert Model.objects.get(slug="mistral-nemo").status == Lifecycle.ACTIVE

    def test_no_successor_loop_or_self_successor_exists(self, cycle):
        links = dict(Model.objects.filter(successor__isnull=False).values_list("pk", "successor_id"))
        for pk, target in links.items():
            assert target != pk
            assert successor_refusal(pk, target, {k: v for k, v in links.items() if k != pk}) is None

    def test_snapshot_notices_touch_only_the_snapshot_alias_and_offer(self, cycle):
        turbo = Model.objects.get(slug="gpt-3.5-turbo")
        assert (turbo.status, turbo.sunset_date, turbo.successor_id) == (Lifecycle.ACTIVE, None, None)
        snapshot = Alias.objects.get(alias="gpt-3.5-turbo-0613")
        assert (snapshot.model_id, snapshot.status, snapshot.retirement_date) == (
            turbo.pk,
            Lifecycle.RETIRED,
            dt.date(2024, 9, 13),
        )
        # OpenAI retiring its snapshot says nothing about Azure's deployment of it (Azure has its own notices).
        azure = Mapping.objects.get(provider__slug="azure", provider_model_id="gpt-3.5-turbo-0613")
        assert (azure.status, azure.retirement_date) == (Lifecycle.ACTIVE, None)
        sonnet = Model.objects.get(slug="claude-3-5-sonnet")
        assert (sonnet.status, sonnet.sunset_date) == (Lifecycle.ACTIVE, None)
        assert Alias.objects.get(alias="claude-3-5-sonnet-20240620").status == Lifecycle.RETIRED
        assert Alias.objects.get(alias="claude-3-5-sonnet-20241022").retirement_date == dt.date(2025, 10, 28)
        assert sonnet.mappings.exclude(provider__slug="anthropic").filter(status=Lifecycle.ACTIVE).exists()

    def test_the_creators_notice_naming_the_model_sets_the_model(self, cycle):
        o1 = Model.objects.get(slug="o1-mini")
        assert (o1.status, o1.deprecation_date, o1.sunset_date) == (
            Lifecycle.DEPRECATED,
            dt.date(2025, 4, 28),
            dt.date(2025, 10, 27),
        )
        assert o1.successor.slug == "o4-mini"
        assert o1.mappings.filter(status=Lifecycle.ACTIVE).count() == o1.mappings.count()  # offers keep their own

    def test_a_second_run_changes_nothing(self, cycle):
        before = (
            list(Model.objects.order_by("pk").values()),
            list(Mapping.objects.order_by("pk").values("status", "retirement_date")),
            list(Alias.objects.order_by("pk").values("alias", "status", "retirement_date")),
        )
        again = ingestion_run_source(source="deprecations")
        assert (again.models_updated, again.aliases_added) == (0, 0)
        after = (
            list(Model.objects.order_by("pk").values()),
            list(Mapping.objects.order_by("pk").values("status", "retirement_date")),
            list(Alias.objects.order_by("pk").values("alias", "status", "retirement_date")),
        )
        assert after == before


def apply_notices(*observations):
    run = IngestionRun.objects.create(source="deprecations", tier=Tier.DEPRECATIONS, status=RunStatus.SUCCESS)
    return ingestion_apply_observations(run=run, observations=list(observations))


class TestSuccessorRules:
    @pytest.fixture(autouse=True)
    def catalogue(self, db):
        registry_load(path=REGISTRY)

    def test_a_successor_naming_the_model_itself_is_refused_and_said_why(self):
        counts = apply_notices(
            Seen(
                "deprecations",
                "gpt-3.5-turbo",
                "openai",
                {"status": "deprecated", "sunset_date": "2030-01-01", "successor": "openai/gpt-3.5-turbo"},
            )
        )
        model = Model.objects.get(slug="gpt-3.5-turbo")
        assert model.successor_id is None and model.sunset_date == dt.date(2030, 1, 1)
        assert counts["details"]["successors_refused"][0]["reason"] == "a model cannot succeed itself"

    def test_a_successor_closing_a_loop_is_refused(self):
        apply_notices(Seen("deprecations", "o1-mini", "openai", {"sunset_date": "2030-01-01", "successor": "o4-mini"}))
        counts = apply_notices(
            Seen("deprecations", "o4-mini", "openai", {"sunset_date": "2031-01-01", "successor": "o1-mini"})
        )
        assert Model.objects.get(slug="o4-mini").successor_id is None
        assert counts["details"]["successors_refused"][0]["reason"] == "the link would close a successor loop"

    def test_a_pinned_self_successor_is_never_written(self, admin_user):
        model = Model.objects.get(slug="gpt-4o")
        field_pin(model=model, field="successor", value="gpt-4o", reason="a slip", user=admin_user)
        model.refresh_from_db()
        assert model.successor_id is None


class TestDerivedRetiredState:
    def test_a_model_whose_every_offer_is_retired_is_shown_retired_without_writing_it(self, db):
        registry_load(path=REGISTRY)
        model = Model.objects.get(slug="o1-mini")
        model.mappings.update(status=Lifecycle.RETIRED)
        assert model_shown_status(model) == Lifecycle.RETIRED
        assert models_retired_by_offers() == {model.pk}
        model.refresh_from_db()
        assert model.status == Lifecycle.ACTIVE
        model.mappings.filter(pk=model.mappings.first().pk).update(status=Lifecycle.ACTIVE)
        assert model_shown_status(model) == Lifecycle.ACTIVE and not models_retired_by_offers()


class TestNoticeScope:
    @pytest.mark.parametrize(
        ("notice_id", "provider", "slug", "creator", "scope"),
        [
            ("Meta-Llama-3.1-70B-Instruct", "azure", "llama-3.1-70b-instruct", "meta", OFFER),
            ("gpt-3.5-turbo-0613", "openai", "gpt-3.5-turbo", "openai", SNAPSHOT),
            ("claude-3-5-sonnet-20240620", "anthropic", "claude-3-5-sonnet", "anthropic", SNAPSHOT),
            ("command-r-03-2024", "cohere", "command-r", "cohere", SNAPSHOT),
            ("o1-mini", "openai", "o1-mini", "openai", MODEL),
            ("mistral-large-2411", "mistral", "mistral-large-2411", "mistral", MODEL),  # the dated id is the model
            ("chatgpt-4o-latest", "openai", "chatgpt-4o", "openai", MODEL),  # its pointer
            ("openai/GPT-4", "openai", "gpt-4", "openai", MODEL),  # a spelling of its name
            ("gpt-4-32k", "openai", "gpt-4", "openai", SNAPSHOT),  # another name filed as its alias
            ("gpt-4o", "openai", None, None, OFFER),  # matched nothing: at most an offer by that id
        ],
    )
    def test_scope(self, notice_id, provider, slug, creator, scope):
        assert notice_scope(notice_id=notice_id, notice_provider=provider, model_slug=slug, creator=creator) == scope

    def test_the_models_own_name_is_one_name_when_the_creator_serves_the_line_on(self):
        # Cohere retired `command-r` (and its 03-2024 snapshot) while command-r-08-2024 lives on.
        kwargs = {"notice_id": "command-r", "notice_provider": "cohere", "model_slug": "command-r", "creator": "cohere"}
        assert notice_scope(**kwargs) == MODEL
        assert notice_scope(**kwargs, line_continues=True) == SNAPSHOT
        assert notice_scope(**{**kwargs, "notice_provider": "azure"}, line_continues=True) == OFFER

    @pytest.mark.parametrize(
        ("name", "dated"),
        [
            ("gpt-4-1106-preview", True),
            ("gemini-2.5-pro-preview-03-25", True),
            ("qwen3-235b-a22b-instruct-2507", True),
            ("gpt-4o-realtime-preview-2024-12-17", True),
            ("gemini-2.0-flash-001", False),
            ("gpt-4-32k", False),
            ("text-embedding-3-large", False),
            ("phi-3-mini-4096", False),
            ("claude-2.1", False),
        ],
    )
    def test_dated_snapshot_names(self, name, dated):
        assert is_dated_snapshot(name) is dated
