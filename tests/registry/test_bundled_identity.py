"""Issue 13 in the bundled registry: each fix pinned by name against the YAML files (a reverted fix fails here)."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from registry.importers.correcting import registry_apply_corrections
from registry.importers.corrections import load_corrections

BUNDLED = Path(settings.REGISTRY_DIR)


@cache
def models() -> dict[str, dict]:
    return {m["slug"]: m for m in (yaml.safe_load(p.read_text()) for p in BUNDLED.glob("models/*/*.yaml"))}


@cache
def offers() -> dict[tuple[str, str], tuple[str, dict]]:
    """(provider, provider_model_id) -> (model slug, offer)."""
    found = {}
    for path in BUNDLED.glob("mappings/*/*.yaml"):
        mapping = yaml.safe_load(path.read_text())
        for offer in mapping["offers"]:
            found[(path.parent.name, offer["provider_model_id"])] = (mapping["model"], offer)
    return found


def alias_names(slug: str) -> set[str]:
    return {a if isinstance(a, str) else a["alias"] for a in models()[slug].get("aliases", [])}


def model_of(provider: str, model_id: str) -> str:
    return offers()[(provider, model_id)][0]


class TestDuplicatesMerged:
    @pytest.mark.parametrize(
        ("old", "kept"),
        [
            ("qwen3.5-397b", "qwen3.5-397b-a17b"),
            ("qwen3-next-80b", "qwen3-next-80b-a3b-instruct"),
            ("mistral-small-3.2-24b-instruct-2506", "mistral-small-2506"),
            ("mistral-small-3.1-24b-instruct", "mistral-small-2503"),
            ("ministral-3-3b", "ministral-3b-2512"),
            ("mistral-nemo-instruct-2407", "mistral-nemo"),
            ("mistral-large-3-675b", "mistral-large-2512"),
            ("devstral-2-123b", "devstral-2512"),
            ("arcee-trinity-large-thinking", "trinity-large-thinking"),
            ("ernie-4.5-300b-a47b-paddle", "ernie-4.5-300b-a47b"),
            # the seven -latest pointer models: five merged into their dated target ...
            ("codestral", "codestral-2508"),
            ("devstral-medium", "devstral-2512"),
            ("mistral-large", "mistral-large-2512"),
            ("mistral-medium", "mistral-medium-3.1"),
            ("mistral-small", "mistral-small-2603"),
        ],
    )
    def test_old_slug_is_an_alias_of_the_kept_model(self, old, kept):
        assert old not in models()
        assert old in alias_names(kept)

    @pytest.mark.parametrize("slug", ["magistral-medium", "pixtral-large"])
    def test_pointer_models_without_a_dated_sibling_are_the_model_itself(self, slug):
        # ... two stay: no other model holds their weights (pixtral-large now carries Pixtral Large 2411's offer)
        assert f"{slug}-latest" in alias_names(slug)
        assert not [s for s in models() if s.startswith(f"{slug}-") and s[len(slug) + 1 :].isdigit()]

    def test_latest_pointers_are_offers_of_their_target(self):
        assert model_of("mistral", "mistral-large-latest") == "mistral-large-2512"
        assert model_of("mistral", "devstral-medium-latest") == "devstral-2512"
        assert model_of("mistral", "codestral-latest") == "codestral-2508"
        assert model_of("mistral", "mistral-small-latest") == "mistral-small-2603"

    def test_devstral_2_is_one_model(self):
        named = [slug for slug, model in models().items() if model["name"] == "Devstral 2"]
        assert named == ["devstral-2512"]
        assert model_of("amazon-bedrock", "mistral.devstral-2-123b") == "devstral-2512"

    def test_no_two_models_share_a_display_name(self):
        names: dict[str, str] = {}
        for slug, model in models().items():
            assert model["name"].lower() not in names, (slug, names.get(model["name"].lower()))
            names[model["name"].lower()] = slug

    def test_ministral_3b_2410_is_named_by_its_version(self):
        assert "ministral-3b" in alias_names("ministral-3b-2410")
        assert model_of("mistral", "ministral-3b-latest") == "ministral-3b-2410"  # the pointer's stated target
        assert models()["ministral-3b-2512"]["name"] == "Ministral 3 3B"

    def test_a_quantization_is_not_part_of_a_model_slug(self):
        assert "qwen3-4b-fp8" not in models() and "qwen3-4b-fp8" in alias_names("qwen3-4b")
        assert offers()[("novita-ai", "qwen/qwen3-4b-fp8")][1]["quantization"] == "fp8"

    def test_merged_small_3_1_has_open_weights(self):
        assert models()["mistral-small-2503"]["open_weights"] is True

    def test_aliases_a_pointer_carried_for_other_models_are_not_kept(self):
        assert "mistral-small-2409" not in alias_names("mistral-small-2603")
        assert "mistral-medium-2312" not in alias_names("mistral-medium-3.1")


class TestOffersOnTheRightModel:
    @pytest.mark.parametrize(
        ("provider", "model_id", "model"),
        [
            ("cloudflare-workers-ai", "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", "deepseek-r1-distill-qwen-32b"),
            ("databricks", "databricks-claude-sonnet-4", "claude-sonnet-4"),
            ("neon", "claude-sonnet-4", "claude-sonnet-4"),
            ("scaleway", "qwen3-235b-a22b-instruct-2507", "qwen3-235b-a22b-instruct-2507"),
            ("friendli", "Qwen/Qwen3-235B-A22B-Instruct-2507", "qwen3-235b-a22b-instruct-2507"),
            ("routing-run", "route/mistral-small-2503", "mistral-small-2503"),
            ("anyapi", "deepseek/deepseek-r1", "deepseek-r1"),
            ("moonshotai", "kimi-k2.7-code-highspeed", "kimi-k2.7-code-highspeed"),
            ("routing-run", "route/mimo-v2.5", "mimo-v2.5"),
            ("kilo", "mistralai/devstral-medium", "devstral-medium-2507"),
        ],
    )
    def test_offer_is_filed_on_its_model(self, provider, model_id, model):
        assert model_of(provider, model_id) == model

    def test_mistral_large_2_is_apart_from_large_3(self):
        assert model_of("openrouter", "mistralai/mistral-large") == "mistral-large-2407"
        assert model_of("snowflake-cortex", "mistral-large2") == "mistral-large-2407"
        assert models()["mistral-large-2407"]["name"] == "Mistral Large 2"
        # Large 2's price ($2/$6) no longer sits on Large 3 (LLM Gateway's stale $4/$12 pointer price aside)
        large_3 = [
            o["pricing"] for (p, _), (slug, o) in offers().items() if slug == "mistral-large-2512" and "pricing" in o
        ]
        assert large_3 and {"input": 2.0, "output": 6.0} not in [
            {k: p[k] for k in ("input", "output")} for p in large_3
        ]

    def test_gpt_4o_snapshots_are_separate_offers_with_their_own_prices(self):
        first = offers()[("openai", "gpt-4o-2024-05-13")][1]["pricing"]
        later = offers()[("openai", "gpt-4o-2024-08-06")][1]["pricing"]
        assert (first["input"], first["output"]) == (5.0, 15.0)
        assert (later["input"], later["output"]) == (2.5, 10.0)
        for (_, model_id), (_, offer) in offers().items():
            if model_id.endswith("gpt-4o-2024-05-13") and "pricing" in offer:
                assert offer["pricing"]["input"] >= 5.0, model_id


class TestImageOutputPrices:
    @pytest.mark.parametrize(
        ("provider", "model_id", "output"),
        [
            ("google", "gemini-2.5-flash-image", 2.5),
            ("google", "gemini-3-pro-image-preview", 12.0),
            ("openai", "gpt-image-2", 10.0),
            ("azure", "gpt-image-1.5", 10.0),
        ],
    )
    def test_output_is_the_text_rate(self, provider, model_id, output):
        assert offers()[(provider, model_id)][1]["pricing"]["output"] == output

    @pytest.mark.parametrize(
        ("provider", "model_id"), [("azure", "gpt-image-1"), ("vercel", "openai/gpt-image-1-mini")]
    )
    def test_output_left_out_where_no_text_rate_is_known(self, provider, model_id):
        pricing = offers()[(provider, model_id)][1]["pricing"]
        assert "output" not in pricing and "input" in pricing


class TestFacts:
    @pytest.mark.parametrize(
        ("slug", "date"),
        [
            ("gpt-4", "2023-03-14"),
            ("mistral-large-2512", "2025-12-02"),
            ("grok-code-fast-1", "2025-08-26"),
            ("o3-deep-research", "2025-06-26"),
            ("nova-2-lite-v1", "2025-12-02"),
            ("llama-3.1-nemotron-70b-instruct", "2024-10-15"),
            ("mistral-7b-instruct-v0.1", "2023-09-28"),
        ],
    )
    def test_release_date(self, slug, date):
        assert models()[slug]["release_date"] == date

    @pytest.mark.parametrize(
        ("slug", "family"),
        [
            ("wizardlm-2-8x22b", "wizardlm"),
            ("gpt-5-chat", "gpt"),
            ("mixtral-8x22b-instruct", "mixtral"),
            ("hermes-3-llama-3.1-70b", "hermes"),
            ("qwen3.6-flash", "qwen"),
        ],
    )
    def test_family(self, slug, family):
        assert models()[slug]["family"] == family

    def test_a_placeholder_date_the_sources_disagree_on_is_left_out(self):
        assert "release_date" not in models()["sonar-reasoning-pro"]

    def test_an_alias_naming_an_earlier_version_is_dropped(self):
        assert "qwen/qwen-2-vl-7b-instruct" not in alias_names("qwen2-5-vl-7b-instruct")

    def test_no_model_outside_openai_in_a_gpt_family(self):
        strays = [s for s, m in models().items() if str(m.get("family")).startswith("gpt") and m["creator"] != "openai"]
        assert strays == []

    def test_every_model_has_a_creator(self):
        assert [slug for slug, model in models().items() if not model.get("creator")] == []
        assert models()["trinity-large-preview"]["creator"] == "arcee-ai"

    @pytest.mark.parametrize(
        ("slug", "license"),
        [
            ("mistral-large-2512", "Apache-2.0"),
            ("deepseek-r1", "MIT"),
            ("llama-4-scout-17b-instruct", "Llama 4 Community License"),
            ("qwen2.5-coder-32b-instruct", "Apache-2.0"),
            ("gpt-oss-20b", "Apache-2.0"),
        ],
    )
    def test_license_from_the_sources(self, slug, license):
        assert models()[slug]["license"] == license


class TestDroppedListingsBack:
    @pytest.mark.parametrize(
        ("provider", "model_id", "model"),
        [
            ("vercel", "kwaipilot/kat-coder-pro-v2", "kat-coder-pro-v2"),
            ("zenmux", "kuaishou/kat-coder-pro-v2", "kat-coder-pro-v2"),
            ("alibaba", "qvq-max", "qvq-max"),
            ("github-models", "openai/o1-preview", "o1-preview"),
            ("azure", "gpt-4-32k", "gpt-4"),
            ("openrouter", "amazon/nova-premier-v1", "nova-premier-v1"),
            ("openrouter", "openai/gpt-audio", "gpt-audio"),
            ("nvidia", "mistralai/mistral-small-4-119b-2603", "mistral-small-2603"),
        ],
    )
    def test_listing_is_an_offer_again(self, provider, model_id, model):
        assert model_of(provider, model_id) == model

    def test_new_lab_exists_as_a_provider(self):
        assert yaml.safe_load((BUNDLED / "providers/kwaipilot.yaml").read_text())["kind"] == "lab"


class TestCorrectionsFile:
    def test_every_entry_says_why_and_where_from(self):
        entries = load_corrections().entries
        assert entries and all(e.data["why"].strip() and str(e.data["source"]).strip() for e in entries)

    def test_bundled_registry_already_carries_every_correction(self, tmp_path):
        copy = tmp_path / "data"
        shutil.copytree(BUNDLED, copy)
        assert registry_apply_corrections(copy) == []
