"""The curators' admin: every changelist loads, search and filters narrow, history records who and why, no secrets."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from model_bakery import baker

from catalog.models import Alias, Family, Mapping, Model, Provider

pytestmark = pytest.mark.django_db

CATALOGUE = [Provider, Family, Model, Alias, Mapping]


def changelist_url(model: type) -> str:
    return reverse(f"admin:catalog_{model._meta.model_name}_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:catalog_{obj._meta.model_name}_change", args=[obj.pk])


def make_model(slug: str, **fields) -> Model:
    return baker.make(Model, slug=slug, name=fields.pop("name", slug.upper()), **fields)


def make_graph(count: int, start: int = 0) -> list[Model]:
    """`count` models, each with its own creator, family, alias and an offer from its own provider."""
    models = []
    for i in range(start, start + count):
        creator = baker.make(Provider, slug=f"lab-{i}", name=f"Lab {i}")
        host = baker.make(Provider, slug=f"host-{i}", name=f"Host {i}", api_key_env=f"HOST_{i}_API_KEY")
        family = baker.make(Family, slug=f"family-{i}", name=f"Family {i}", creator=creator)
        model = make_model(f"model-{i}", creator=creator, family=family)
        baker.make(Alias, alias=f"lab-{i}/model-{i}", model=model, provider=host)
        baker.make(Mapping, provider=host, model=model, provider_model_id=f"lab/model-{i}", price_input=Decimal("1.5"))
        models.append(model)
    return models


def result_slugs(response) -> set[str]:
    return {obj.slug for obj in response.context["cl"].result_list}


def form_data(response) -> dict:
    """The POST body a browser would send back for the change form in `response`, inline formsets included."""
    data: dict = {}

    def add(form) -> None:
        for name in form.fields:
            value = form[name].value()
            key = form[name].html_name
            if value is None or value is False:
                continue
            if value is True:
                data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


class TestChangelists:
    @pytest.mark.parametrize("model", CATALOGUE, ids=lambda m: m.__name__)
    def test_changelist_loads_for_superuser(self, admin_client, model):
        make_graph(2)
        response = admin_client.get(changelist_url(model))
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == model.objects.count()

    @pytest.mark.parametrize("model", CATALOGUE, ids=lambda m: m.__name__)
    def test_add_and_change_pages_load(self, admin_client, model):
        make_graph(1)
        assert admin_client.get(reverse(f"admin:catalog_{model._meta.model_name}_add")).status_code == 200
        obj = model.objects.first()
        response = admin_client.get(change_url(obj))
        assert response.status_code == 200
        assert "Reason for change" in response.content.decode()

    @pytest.mark.parametrize("model", CATALOGUE, ids=lambda m: m.__name__)
    def test_history_page_loads(self, admin_client, model):
        make_graph(1)
        obj = model.objects.first()
        response = admin_client.get(reverse(f"admin:catalog_{model._meta.model_name}_history", args=[obj.pk]))
        assert response.status_code == 200

    @pytest.mark.parametrize("model", CATALOGUE, ids=lambda m: m.__name__)
    def test_query_count_does_not_grow_with_rows(self, admin_client, model):
        make_graph(3)
        with CaptureQueriesContext(connection) as few:
            assert admin_client.get(changelist_url(model)).status_code == 200
        make_graph(27, start=3)
        with CaptureQueriesContext(connection) as many:
            response = admin_client.get(changelist_url(model))
        assert len(response.context["cl"].result_list) >= 30
        assert len(many) == len(few), [q["sql"] for q in many.captured_queries]

    def test_provider_model_count_is_sortable(self, admin_client):
        busy = baker.make(Provider, slug="busy", name="Busy")
        idle = baker.make(Provider, slug="idle", name="Idle")
        for slug in ("a", "b"):
            baker.make(Mapping, provider=busy, model=make_model(slug), provider_model_id=slug)
        response = admin_client.get(changelist_url(Provider), {"o": "-5"})  # 5th column: "Models served"
        rows = list(response.context["cl"].result_list)
        assert [p.slug for p in rows] == ["busy", "idle"]
        assert [p.model_count for p in rows] == [2, 0]
        assert idle in rows


class TestModelSearch:
    def test_search_finds_model_by_alias(self, admin_client):
        gpt = make_model("gpt-4o", name="GPT-4o")
        make_model("llama-3-1-70b", name="Llama 3.1 70B")
        baker.make(Alias, alias="gpt-4o-2024-08-06", model=gpt)
        baker.make(Alias, alias="openai/gpt-4o-2024-08-06", model=gpt)
        response = admin_client.get(changelist_url(Model), {"q": "2024-08-06"})
        assert [m.slug for m in response.context["cl"].result_list] == ["gpt-4o"]  # once, despite two aliases

    def test_search_finds_model_by_name_and_slug(self, admin_client):
        make_model("deepseek-v3", name="DeepSeek V3")
        make_model("qwen3-coder", name="Qwen3 Coder")
        assert result_slugs(admin_client.get(changelist_url(Model), {"q": "DeepSeek"})) == {"deepseek-v3"}
        assert result_slugs(admin_client.get(changelist_url(Model), {"q": "qwen3-cod"})) == {"qwen3-coder"}

    def test_alias_search_covers_model_name(self, admin_client):
        model = make_model("deepseek-v3", name="DeepSeek V3")
        baker.make(Alias, alias="deepseek-ai/DeepSeek-V3", model=model)
        baker.make(Alias, alias="other", model=make_model("other-model"))
        response = admin_client.get(changelist_url(Alias), {"q": "deepseek v3"})
        assert [a.alias for a in response.context["cl"].result_list] == ["deepseek-ai/DeepSeek-V3"]


class TestModelFilters:
    @pytest.fixture
    def catalogue(self):
        groq = baker.make(Provider, slug="groq", name="Groq")
        together = baker.make(Provider, slug="together", name="Together")
        vision = make_model(
            "vision-model",
            input_modalities=["text", "image"],
            output_modalities=["text"],
            capabilities=["vision", "tools"],
        )
        speech = make_model(
            "speech-model",
            input_modalities=["text"],
            output_modalities=["audio"],
            capabilities=["structured_output"],
        )
        make_model("orphan-model", input_modalities=["text"], output_modalities=["text"], capabilities=[])
        baker.make(Mapping, provider=groq, model=vision, provider_model_id="vision")
        baker.make(Mapping, provider=groq, model=vision, provider_model_id="vision-fast")
        baker.make(Mapping, provider=together, model=speech, provider_model_id="speech")

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({}, {"vision-model", "speech-model", "orphan-model"}),
            ({"served_by": "groq"}, {"vision-model"}),
            ({"served_by": "together"}, {"speech-model"}),
            ({"served_by": "_none"}, {"orphan-model"}),
            ({"input_modality": "image"}, {"vision-model"}),
            ({"input_modality": "text"}, {"vision-model", "speech-model", "orphan-model"}),
            ({"output_modality": "audio"}, {"speech-model"}),
            ({"output_modality": "video"}, set()),
            ({"capability": "tools"}, {"vision-model"}),
            ({"capability": "structured_output"}, {"speech-model"}),
            ({"capability": "tools", "served_by": "together"}, set()),
        ],
    )
    def test_custom_filter_narrows_results(self, admin_client, catalogue, params, expected):
        response = admin_client.get(changelist_url(Model), params)
        assert response.status_code == 200
        assert result_slugs(response) == expected

    def test_served_by_lists_each_model_once(self, admin_client, catalogue):
        response = admin_client.get(changelist_url(Model), {"served_by": "groq"})
        assert len(response.context["cl"].result_list) == 1  # two groq offers, one row

    def test_served_by_offers_only_providers_with_offers(self, admin_client, catalogue):
        baker.make(Provider, slug="idle", name="Idle")
        response = admin_client.get(changelist_url(Model))
        spec = next(f for f in response.context["cl"].filter_specs if getattr(f, "parameter_name", "") == "served_by")
        assert [slug for slug, _ in spec.lookup_choices] == ["groq", "together", "_none"]

    def test_field_filters(self, admin_client):
        make_model("open", open_weights=True, status="active")
        make_model("closed", open_weights=False, status="deprecated", needs_review=True)
        get = admin_client.get
        assert result_slugs(get(changelist_url(Model), {"open_weights__exact": "1"})) == {"open"}
        assert result_slugs(get(changelist_url(Model), {"status__exact": "deprecated"})) == {"closed"}
        assert result_slugs(get(changelist_url(Model), {"needs_review__exact": "1"})) == {"closed"}


class TestChangeHistory:
    def test_change_with_reason_records_user_and_reason(self, admin_client, admin_user):
        model = make_graph(1)[0]
        response = admin_client.get(change_url(model))
        data = form_data(response) | {"context_window": "131072", "change_reason": "context window per provider docs"}
        response = admin_client.post(change_url(model), data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        model.refresh_from_db()
        assert model.context_window == 131072
        record = model.history.first()
        assert record.history_type == "~"
        assert record.history_user == admin_user
        assert record.history_change_reason == "context window per provider docs"

    def test_change_without_reason_is_rejected(self, admin_client):
        model = make_graph(1)[0]
        data = form_data(admin_client.get(change_url(model))) | {"name": "Renamed"}
        data.pop("change_reason", None)
        response = admin_client.post(change_url(model), data)
        assert response.status_code == 200
        assert "change_reason" in response.context["adminform"].form.errors
        model.refresh_from_db()
        assert model.name != "Renamed"
        assert model.history.count() == 1  # only the creation

    @pytest.mark.parametrize("model_class", [Provider, Mapping, Alias], ids=lambda m: m.__name__)
    def test_other_change_forms_require_a_reason(self, admin_client, admin_user, model_class):
        make_graph(1)
        obj = model_class.objects.first()
        data = form_data(admin_client.get(change_url(obj)))
        response = admin_client.post(change_url(obj), data)
        assert "change_reason" in response.context["adminform"].form.errors
        response = admin_client.post(change_url(obj), data | {"change_reason": "checked by hand"})
        assert response.status_code == 302
        record = obj.history.first()
        assert (record.history_user, record.history_change_reason) == (admin_user, "checked by hand")

    def test_add_form_has_no_reason_and_records_default(self, admin_client, admin_user):
        url = reverse("admin:catalog_provider_add")
        assert "change_reason" not in admin_client.get(url).context["adminform"].form.fields
        response = admin_client.post(url, {"slug": "groq", "name": "Groq", "kind": "inference"})
        assert response.status_code == 302
        record = Provider.objects.get(slug="groq").history.get()
        assert (record.history_user, record.history_change_reason) == (admin_user, "created in admin")

    def test_inline_rows_share_the_parent_reason(self, admin_client, admin_user):
        model = make_graph(1)[0]
        data = form_data(admin_client.get(change_url(model)))
        data |= {
            "aliases-TOTAL_FORMS": "2",
            "aliases-1-alias": "lab/model-zero",
            "aliases-1-model": str(model.pk),
            "aliases-1-status": "active",  # the inline's lifecycle column (the browser sends the default)
            "change_reason": "add the hub id",
        }
        response = admin_client.post(change_url(model), data)
        assert response.status_code == 302
        record = Alias.objects.get(alias="lab/model-zero").history.get()
        assert (record.history_user, record.history_change_reason) == (admin_user, "add the hub id")

    def test_provenance_names_registry_file_and_last_change(self, admin_client):
        model = make_model("deepseek-v3", registry_file="models/deepseek/deepseek-v3.yaml")
        content = admin_client.get(change_url(model)).content.decode()
        assert "Last set by registry file <code>models/deepseek/deepseek-v3.yaml</code>" in content
        assert "Last change:" in content


class TestModelForm:
    def test_json_lists_are_edited_as_choices_and_keep_unknown_values(self, admin_client):
        model = make_model("m", input_modalities=["text", "file"], capabilities=["tools"])
        response = admin_client.get(change_url(model))
        field = response.context["adminform"].form.fields["input_modalities"]
        assert ("file", "file") in field.choices  # stored by ingestion, not in the enum: still offered
        data = form_data(response) | {"capabilities": ["tools", "reasoning"], "change_reason": "add reasoning"}
        assert admin_client.post(change_url(model), data).status_code == 302
        model.refresh_from_db()
        assert model.capabilities == ["tools", "reasoning"]
        assert model.input_modalities == ["text", "file"]

    def test_unknown_choice_is_rejected(self, admin_client):
        model = make_model("m")
        data = form_data(admin_client.get(change_url(model))) | {"capabilities": ["telepathy"], "change_reason": "x"}
        response = admin_client.post(change_url(model), data)
        assert "capabilities" in response.context["adminform"].form.errors


class TestNeedsReviewActions:
    def test_mark_and_clear_needs_review(self, admin_client, admin_user):
        flagged, other = make_model("flagged"), make_model("other")
        post = {"action": "mark_needs_review", "_selected_action": [flagged.pk]}
        response = admin_client.post(changelist_url(Model), post, follow=True)
        assert "1 model(s) marked as needing review." in response.content.decode()
        flagged.refresh_from_db()
        other.refresh_from_db()
        assert (flagged.needs_review, other.needs_review) == (True, False)
        record = flagged.history.first()
        assert (record.history_user, record.history_change_reason) == (admin_user, "marked as needs review")

        post = {"action": "clear_needs_review", "_selected_action": [flagged.pk, other.pk]}
        response = admin_client.post(changelist_url(Model), post, follow=True)
        assert "Needs review cleared on 1 model(s)." in response.content.decode()  # `other` was already clear
        flagged.refresh_from_db()
        assert flagged.needs_review is False


class TestProviderSecrets:
    SENTINEL = "sk-sentinel-3b1f9e0d7c-never-shown"

    def test_provider_pages_never_show_the_key_value(self, admin_client, monkeypatch):
        monkeypatch.setenv("MG_TEST_PROVIDER_API_KEY", self.SENTINEL)
        provider = baker.make(Provider, slug="groq", name="Groq", api_key_env="MG_TEST_PROVIDER_API_KEY")
        pages = {
            "change": admin_client.get(change_url(provider)).content.decode(),
            "changelist": admin_client.get(changelist_url(Provider)).content.decode(),
            "history": admin_client.get(reverse("admin:catalog_provider_history", args=[provider.pk])).content.decode(),
        }
        assert "MG_TEST_PROVIDER_API_KEY" in pages["change"]  # the variable's name is shown...
        assert "MG_TEST_PROVIDER_API_KEY" in pages["changelist"]
        for name, content in pages.items():
            assert self.SENTINEL not in content, name  # ...its value never is

    def test_key_configured_reflects_the_environment(self, admin_client, monkeypatch):
        monkeypatch.setenv("MG_TEST_PROVIDER_API_KEY", self.SENTINEL)
        monkeypatch.delenv("MG_TEST_MISSING_API_KEY", raising=False)
        baker.make(Provider, slug="set", name="Set", api_key_env="MG_TEST_PROVIDER_API_KEY")
        baker.make(Provider, slug="unset", name="Unset", api_key_env="MG_TEST_MISSING_API_KEY")
        baker.make(Provider, slug="none", name="None", api_key_env="")
        response = admin_client.get(changelist_url(Provider))
        model_admin = response.context["cl"].model_admin
        configured = {p.slug: model_admin.key_configured(p) for p in response.context["cl"].result_list}
        assert configured == {"set": True, "unset": False, "none": False}
