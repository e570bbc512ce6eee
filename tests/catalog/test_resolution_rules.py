"""Name resolution answers only when it knows: every distinguishing token agrees, platform spellings are parsed."""

from __future__ import annotations

import pytest
from model_bakery import baker

from catalog.identity.tokens import identity
from catalog.models import Alias, Mapping, Model, Provider
from catalog.name_agreement import disagreement, stamps_agree
from catalog.resolution import model_resolve_name
from catalog.spellings import platform_forms

pytestmark = pytest.mark.django_db

SLUGS = {
    "llama-3-70b-instruct": "Llama 3 70B Instruct",
    "llama-3-8b-instruct": "Llama 3 8B Instruct",
    "llama-3.1-405b-instruct": "Llama 3.1 405B Instruct",
    "llama-3.2-1b-instruct": "Llama 3.2 1B Instruct",
    "llama-3.2-3b-instruct": "Llama 3.2 3B Instruct",
    "llama-3.2-11b-vision-instruct": "Llama 3.2 11B Vision Instruct",
    "llama-guard-3-8b": "Llama Guard 3 8B",
    "hermes-3-llama-3.1-405b": "Hermes 3 405B",
    "mixtral-8x7b": "Mixtral 8x7B",
    "mixtral-8x22b-instruct": "Mixtral 8x22B Instruct",
    "claude-3-5-sonnet": "Claude 3.5 Sonnet",
    "claude-3-sonnet": "Claude 3 Sonnet",
    "claude-sonnet-4": "Claude Sonnet 4",
    "claude-opus-4-1": "Claude Opus 4.1",
    "claude-opus-4-5": "Claude Opus 4.5",
    "gpt-4": "GPT-4",
    "gpt-4-turbo": "GPT-4 Turbo",
    "gpt-4.1": "GPT-4.1",
    "gpt-4o": "GPT-4o",
    "gpt-4o-mini": "GPT-4o mini",
    "glm-4.5": "GLM-4.5",
    "glm-4-32b": "GLM-4 32B",
    "grok-4": "Grok 4",
    "o1": "o1",
    "o1-pro": "o1-pro",
    "mistral-large-2411": "Mistral Large 2.1",
    "mistral-large-2512": "Mistral Large 3",
    "qwen3-235b-a22b": "Qwen3 235B A22B",
    "qwen3-235b-a22b-instruct-2507": "Qwen3 235B A22B Instruct 2507",
    "qwen3-235b-a22b-thinking-2507": "Qwen3 235B A22B Thinking 2507",
    "qwen3-32b": "Qwen3 32B",
    "qwen3-30b-a3b": "Qwen3 30B A3B",
    "gemini-2.5-flash": "Gemini 2.5 Flash",
    "gemini-2.5-flash-lite": "Gemini 2.5 Flash-Lite",
    "deepseek-v3.2": "DeepSeek V3.2",
    "deepseek-r1": "DeepSeek R1",
    "deepseek-r1-distill-llama-70b": "DeepSeek R1 Distill Llama 70B",
}
ALIASES = {
    "gpt-4": ["gpt-4-0314"],
    "mistral-large-2512": ["mistral-large-latest"],
    "claude-3-5-sonnet": ["claude-3-5-sonnet-20240620"],
}


@pytest.fixture
def catalogue(db):
    models = {slug: baker.make(Model, slug=slug, name=name) for slug, name in SLUGS.items()}
    for slug, aliases in ALIASES.items():
        for alias in aliases:
            baker.make(Alias, alias=alias, model=models[slug])
    groq = baker.make(Provider, slug="groq", name="Groq")
    bedrock = baker.make(Provider, slug="amazon-bedrock", name="Amazon Bedrock")
    baker.make(Mapping, provider=groq, model=models["mixtral-8x7b"], provider_model_id="mixtral-8x7b-32768")
    baker.make(Mapping, provider=bedrock, model=models["deepseek-v3.2"], provider_model_id="deepseek.v3.2-v1:0")
    return models


def slug_of(name: str) -> str | None:
    resolution = model_resolve_name(name)
    return resolution.model.slug if resolution.model else None


class TestExamples:
    @pytest.mark.parametrize(
        ("name", "slug"),
        [
            ("groq/llama3-70b-8192", "llama-3-70b-instruct"),  # Groq's legacy id: context length dropped
            ("groq/mixtral-8x7b-32768", "mixtral-8x7b"),  # the provider's own offer id
            ("meta.llama3-2-11b-instruct-v1:0", "llama-3.2-11b-vision-instruct"),  # 11B is the vision model
            ("meta.llama3-2-3b-instruct-v1:0", "llama-3.2-3b-instruct"),  # never the 1B
            ("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet"),
            ("bedrock/deepseek.v3.2-v1:0", "deepseek-v3.2"),
            ("Opus 4.1", "claude-opus-4-1"),  # never gpt-4.1
            ("llama 3.1 405b", "llama-3.1-405b-instruct"),  # never hermes
            ("Llama 3 8B", "llama-3-8b-instruct"),  # never llama-guard
            ("Qwen3 235B A22B", "qwen3-235b-a22b"),  # undated: the undated model
            ("accounts/fireworks/models/deepseek-r1", "deepseek-r1"),
            ("openrouter/openai/gpt-4o-mini", "gpt-4o-mini"),
            ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "deepseek-r1-distill-llama-70b"),
            # Typography only: full-width forms, typographic dashes, a no-break space (copied from a page).
            ("ｇｐｔ－４ｏ", "gpt-4o"),
            ("gpt\u20104o-mini", "gpt-4o-mini"),
            ("claude\u2013opus\u20134\u20131", "claude-opus-4-1"),
            ("Llama\u00a03\u00a08B", "llama-3-8b-instruct"),
        ],
    )
    def test_resolves(self, catalogue, name, slug):
        assert slug_of(name) == slug

    def test_a_typographic_spelling_is_answered_under_the_name_asked(self, catalogue):
        resolution = model_resolve_name("  ＧＰＴ\u20114o ")
        assert resolution.model.slug == "gpt-4o" and resolution.query == "ＧＰＴ\u20114o"
        assert model_resolve_name("ｇｐｔ－４．５").model is None  # folded, still no GPT-4.5 here

    @pytest.mark.parametrize(
        "name",
        [
            "anthropic.claude-instant-v1",  # no claude-instant here: never claude-opus-4-1
            "azure/gpt-4-32k",  # never glm-4-32b
            "x-ai/grok-4.5",  # never glm-4.5 or grok-4
            "GPT-4.5",
            "o1-preview",  # never o1-pro
            "~anthropic/claude-sonnet-latest",  # never claude-3-sonnet
            "mistral-large-2402",  # a snapshot we do not have is not another date's model
            "mistral large",  # 2411 or 2512: not ours to guess
            "gpt-4-0613",  # gpt-4 is known here as 0314 only
            "claude sonnet",
        ],
    )
    def test_no_match(self, catalogue, name):
        resolution = model_resolve_name(name)
        assert resolution.model is None, resolution
        assert all(candidate.reason for candidate in resolution.candidates)


class TestEachTokenKindRefuses:
    @pytest.mark.parametrize(
        ("name", "refused", "reason"),
        [
            ("hermes llama 3.1 405b", "llama-3.1-405b-instruct", "other name"),  # family word
            ("claude opus 4.2", "claude-opus-4-1", "other version"),  # version
            ("llama 3 13b", "llama-3-8b-instruct", "other size"),  # size
            ("qwen3-235b-a30b", "qwen3-235b-a22b", "other active parameters"),  # active parameters
            ("gpt-4o-nano", "gpt-4o-mini", "other variant"),  # strong variant word
            ("gemini-2.5-flash-lite-preview", "gemini-2.5-flash", "other variant"),
            ("qwen3-235b-a22b-thinking-2506", "qwen3-235b-a22b-thinking-2507", "other date"),  # date stamp
            ("qwen3 30b", "qwen3-32b", "other size"),  # 30b is not 32b
        ],
    )
    def test_refuses_with_a_reason(self, catalogue, name, refused, reason):
        resolution = model_resolve_name(name)
        assert resolution.model is None or resolution.model.slug != refused
        reasons = {candidate.model.slug: candidate.reason for candidate in resolution.candidates}
        if refused in reasons:
            assert reasons[refused].startswith(reason), reasons

    def test_a_date_that_names_a_model_wins_over_the_undated_one(self, catalogue):
        # instruct or thinking? Both are 2507 models: no answer, and never the undated qwen3-235b-a22b
        assert slug_of("qwen/qwen3-235b-a22b-2507") is None
        catalogue["qwen3-235b-a22b-thinking-2507"].delete()
        assert slug_of("qwen/qwen3-235b-a22b-2507") == "qwen3-235b-a22b-instruct-2507"

    def test_weak_words_may_differ(self, catalogue):
        assert slug_of("llama-3-8b") == "llama-3-8b-instruct"
        assert slug_of("gpt-4o-mini-latest") == "gpt-4o-mini"

    def test_typo_in_a_weak_word_still_answers(self, catalogue):
        resolution = model_resolve_name("llama-3.1-405b-instruc")
        assert (resolution.model.slug, resolution.match) == ("llama-3.1-405b-instruct", "fuzzy")


class TestTokens:
    def test_disagreement_names_the_token(self):
        assert disagreement(identity("claude-opus-4-1"), identity("claude-opus-4-5")).startswith("other version")
        assert disagreement(identity("llama-3-8b"), identity("llama-guard-3-8b")) == "other variant guard"
        assert disagreement(identity("llama-3.1-405b"), identity("hermes-3-llama-3.1-405b")).startswith("other name")
        assert disagreement(identity("gpt-4o"), identity("gpt-4o-mini")).startswith("other variant")
        assert disagreement(identity("Opus 4.1"), identity("claude-opus-4-1")) is None

    @pytest.mark.parametrize(
        ("left", "right", "agree"),
        [("20240620", "0620", True), ("2507", "20250721", True), ("2411", "2512", False), ("0613", "0314", False)],
    )
    def test_stamps(self, left, right, agree):
        assert stamps_agree(left, right) is agree


class TestPlatformSpellings:
    @pytest.mark.parametrize(
        ("name", "providers", "last"),
        [
            ("groq/llama3-70b-8192", ("groq",), "llama3-70b"),
            ("bedrock/converse/us.meta.llama3-2-3b-instruct-v1:0", ("amazon-bedrock",), "llama3-2-3b-instruct"),
            ("vertex_ai/claude-3-5-sonnet@20240620", ("google-vertex", "google-vertex-anthropic"), None),
            ("fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct", ("fireworks-ai",), None),
            ("azure/gpt-4-32k", ("azure", "azure-cognitive-services"), "gpt-4-32k"),
            ("deepseek-ai/DeepSeek-V3", (), "deepseek-v3"),
            ("mistral.mistral-7b-instruct-v0:2", (), "mistral-7b-instruct-v0.2"),
        ],
    )
    def test_parsed(self, name, providers, last):
        parsed_providers, forms = platform_forms(name)
        assert parsed_providers == providers
        if last:
            assert forms[-1] == last

    def test_vertex_stamp_is_kept(self):
        assert "claude-3-5-sonnet-20240620" in platform_forms("vertex_ai/claude-3-5-sonnet@20240620")[1]


class TestApi:
    def test_no_match_is_404_with_ranked_suggestions(self, catalogue, client):
        response = client.get("/api/resolve", {"name": "GPT-4.5"})
        assert response.status_code == 404
        body = response.json()
        assert body["match"] == "none" and body["suggestions"] == body["near_matches"]
        assert body["suggestions"] and all(s["reason"] for s in body["suggestions"])
        confidences = [s["confidence"] for s in body["suggestions"]]
        assert confidences == sorted(confidences, reverse=True)
        assert {s["slug"] for s in body["suggestions"]} >= {"gpt-4.1"}
        reasons = {s["slug"]: s["reason"] for s in body["suggestions"]}
        assert reasons["gpt-4.1"] == "other version 4.1 vs 4.5"

    def test_answer_keeps_its_shape(self, catalogue, client):
        body = client.get("/api/resolve", {"name": "Opus 4.1"}).json()
        assert body["model"]["slug"] == "claude-opus-4-1" and body["match"] == "fuzzy"
        assert all(c["reason"] for c in body["candidates"])

    def test_index_follows_catalogue_changes(self, catalogue):
        assert slug_of("GPT-4.5") is None
        baker.make(Model, slug="gpt-4.5-preview", name="GPT-4.5 Preview")
        assert slug_of("gpt-4.5-preview-2025-02-27") == "gpt-4.5-preview"
