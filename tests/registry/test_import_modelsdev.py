"""The models.dev importer: id normalisation, canonicalisation rules and the registry it writes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from registry.importers.facts import offer_document
from registry.importers.modelsdev import AliasBook, build_registry
from registry.importers.normalise import display_slug, fallback_keys, parse_parameters, strict_keys, strip_stamps
from registry.validation import validate_registry
from registry.values import value_problems

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "modelsdev"
OPENROUTER = FIXTURE / "openrouter_models.json"


def run_import(out: Path, *extra: str) -> str:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_modelsdev", str(FIXTURE), "--out", str(out), *extra, stdout=stdout, stderr=stderr)
    return stdout.getvalue()


def read(root: Path, relative: str) -> dict:
    return yaml.safe_load((root / relative).read_text(encoding="utf-8"))


def aliases_of(model: dict) -> dict[str, str | None]:
    """alias -> provider (None when unscoped)."""
    return {
        (a if isinstance(a, str) else a["alias"]): (None if isinstance(a, str) else a["provider"])
        for a in model.get("aliases", [])
    }


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("registry")
    run_import(out, "--openrouter", str(OPENROUTER))
    return out


class TestNormalise:
    @pytest.mark.parametrize(
        ("model_id", "expected"),
        [
            ("gpt-4o-2024-08-06", "gpt-4o"),
            ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
            ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
            ("command-a-03-2025", "command-a"),
            ("mistral-large-latest", "mistral-large"),
            ("grok-4.20-0309-reasoning", "grok-4.20-reasoning"),
            ("mistral-large-2411", "mistral-large-2411"),  # YYMM is Mistral's version, not a date
            ("qwen3-235b-a22b-instruct-2507", "qwen3-235b-a22b-instruct-2507"),
        ],
    )
    def test_strip_stamps_drops_dates_and_latest_only(self, model_id, expected):
        assert strip_stamps(model_id) == expected

    @pytest.mark.parametrize(
        ("provider_id", "canonical"),
        [
            ("accounts/fireworks/models/llama-v3p1-70b-instruct", "llama-3.1-70b-instruct"),
            ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
            ("meta.llama3-3-70b-instruct-v1:0", "llama-3.3-70b-instruct"),
            ("@cf/meta/llama-3.3-70b-instruct", "llama-3.3-70b-instruct"),
            ("claude-opus-4-6@default", "claude-opus-4-6"),
            ("meta-llama/Meta-Llama-3.1-8B-Instruct", "llama-3.1-8b-instruct"),
            ("anthropic/claude-4.5-haiku", "claude-haiku-4-5"),
            ("deepseek/deepseek-r1:free", "deepseek-r1"),
            ("gpt-oss:120b", "gpt-oss-120b"),
        ],
    )
    def test_provider_spellings_share_a_key_with_the_canonical_id(self, provider_id, canonical):
        assert strict_keys(canonical)[0] in strict_keys(provider_id)

    def test_serving_suffixes_only_drop_in_the_fallback_key(self):
        turbo = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
        assert strict_keys("llama-3.3-70b-instruct")[0] not in strict_keys(turbo)
        assert fallback_keys(turbo)[0] == fallback_keys("llama-3.3-70b-instruct")[0]

    def test_distinct_variants_keep_distinct_keys(self):
        keys = {strict_keys(name)[0] for name in ("gpt-4o", "gpt-4o-mini", "gpt-5", "gpt-5-codex", "gpt-5-pro")}
        assert len(keys) == 5

    def test_display_slug_drops_organisation_and_lowercases(self):
        assert display_slug("meta-llama/Meta-Llama-3.1-8B-Instruct") == "llama-3.1-8b-instruct"
        assert display_slug("accounts/fireworks/models/glm-5p1") == "glm-5.1"

    @pytest.mark.parametrize(
        ("slug", "expected"),
        [
            ("qwen3-235b-a22b", (235_000_000_000, 22_000_000_000)),
            ("gpt-oss-120b", (120_000_000_000, None)),
            ("deepseek-r1-distill-qwen-1.5b", (1_500_000_000, None)),
            ("qwen2.5-7b-instruct-1m", (7_000_000_000, None)),
            ("llama-4-scout-17b-instruct", (None, None)),  # 17b is the active count of a mixture of experts
            ("mixtral-8x7b", (None, None)),
            ("gpt-4o", (None, None)),
        ],
    )
    def test_parameters_only_when_plainly_stated(self, slug, expected):
        assert parse_parameters(slug) == expected

    def test_prices_keep_six_decimals_and_one_rounding_would_change_is_left_out(self):
        cost = {"input": 0.049999999999999996, "output": 1.0e-7, "cache_read": 0.25599999, "cache_write": float("nan")}
        offer = offer_document("m", {"cost": cost})
        assert offer["pricing"] == {"input": 0.05, "cached_input": 0.256}  # never a free 0 for 1e-07
        assert not value_problems("mapping", {"model": "m", "offers": [offer]})


class TestAliasBook:
    def test_a_name_used_for_two_models_is_dropped_from_both_with_a_warning(self):
        book, warnings = AliasBook(), []
        book.add("shared-id", "model-a", "provider-a")
        book.add("shared-id", "model-b", "provider-b")
        book.add("own-id", "model-a", "provider-a")
        aliases = book.resolve({"model-a", "model-b"}, warnings)
        assert aliases == {"model-a": [{"alias": "own-id", "provider": "provider-a"}]}
        assert warnings == ["alias 'shared-id' dropped: it names model-a, model-b"]

    def test_a_name_several_providers_use_for_one_model_is_unscoped(self):
        book = AliasBook()
        book.add("openai/gpt-oss-120b", "gpt-oss-120b", "groq")
        book.add("openai/gpt-oss-120b", "gpt-oss-120b", "togetherai")
        assert book.resolve({"gpt-oss-120b"}, []) == {"gpt-oss-120b": ["openai/gpt-oss-120b"]}

    def test_a_model_slug_is_never_an_alias(self):
        book, warnings = AliasBook(), []
        book.add("gpt-4o", "gpt-4o", "openai")
        book.add("gpt-4o-mini", "gpt-4o", "somewhere")
        assert book.resolve({"gpt-4o", "gpt-4o-mini"}, warnings) == {}
        assert warnings == ["alias 'gpt-4o-mini' of gpt-4o dropped: it is another model's slug"]


class TestImportCommand:
    def test_output_passes_registry_validation(self, registry):
        report = validate_registry(registry)
        assert report.ok, [str(p) for p in report.problems]
        call_command("validate_registry", "--path", str(registry), stdout=io.StringIO())

    def test_counts_reach_the_fixture_targets(self):
        stats = build_registry(FIXTURE, [OPENROUTER]).stats
        assert stats["providers"] >= 12
        assert stats["models"] >= 14
        assert stats["mappings_priced"] >= 20
        assert stats["aliases"] >= 25
        assert stats["matched_unmatched"] == 0

    def test_prints_counts_and_targets(self, tmp_path):
        output = run_import(tmp_path / "out", "--openrouter", str(OPENROUTER))
        assert "aliases" in output and "target" in output and "mappings with input and output prices" in output

    def test_running_twice_writes_identical_bytes(self, tmp_path):
        first, second = tmp_path / "first", tmp_path / "second"
        run_import(first, "--openrouter", str(OPENROUTER))
        run_import(second, "--openrouter", str(OPENROUTER))
        files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
        assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)

    def test_prices_checked_dates_every_mapping_file_and_a_bad_day_is_refused(self, tmp_path):
        run_import(tmp_path / "out", "--prices-checked", "2026-07-02")
        files = list((tmp_path / "out" / "mappings").rglob("*.yaml"))
        assert files and all(
            read(tmp_path / "out", str(f.relative_to(tmp_path / "out")))["prices_checked"] == "2026-07-02"
            for f in files
        )
        assert validate_registry(tmp_path / "out").ok
        with pytest.raises(CommandError, match="not a day"):
            run_import(tmp_path / "again", "--prices-checked", "2026-02-30")

    def test_rejects_a_directory_that_is_not_models_dev(self, tmp_path):
        with pytest.raises(CommandError):
            call_command("import_modelsdev", str(tmp_path), "--out", str(tmp_path / "out"))


class TestCanonicalModels:
    def test_dated_variant_is_an_alias_of_its_undated_model(self, registry):
        assert not (registry / "models/openai/gpt-4o-2024-08-06.yaml").exists()
        assert "gpt-4o-2024-08-06" in aliases_of(read(registry, "models/openai/gpt-4o.yaml"))

    def test_dated_id_without_a_base_becomes_an_undated_slug(self, registry):
        model = read(registry, "models/anthropic/claude-3-5-sonnet.yaml")
        assert "claude-3-5-sonnet-20241022" in aliases_of(model)

    def test_anthropic_dash_zero_alias_joins_its_dated_sibling(self, registry):
        model = read(registry, "models/anthropic/claude-opus-4.yaml")
        assert {"claude-opus-4-0", "claude-opus-4-20250514"} <= set(aliases_of(model))
        assert model["name"] == "Claude Opus 4"

    def test_genuinely_different_versions_stay_separate(self, registry):
        # The importer's own grouping, before corrections.yaml merges the -latest pointer (test_bundled_identity.py).
        documents = build_registry(FIXTURE, [OPENROUTER], corrections_file=None).documents
        slugs = {m["slug"] for m in documents.models if m.get("creator") == "mistral"}
        assert slugs == {"mistral-large", "mistral-large-2411", "mistral-large-2512"}
        assert (registry / "models/openai/gpt-4o-mini.yaml").exists()

    def test_model_fields_come_from_the_canonical_toml(self, registry):
        model = read(registry, "models/alibaba/qwen3-235b-a22b.yaml")
        assert model["creator"] == "alibaba" and model["family"] == "qwen" and model["open_weights"] is True
        assert (model["parameters_total"], model["parameters_active"]) == (235_000_000_000, 22_000_000_000)
        assert model["canonical_url"] == "https://huggingface.co/Qwen/Qwen3-235B-A22B"
        assert "release_date" not in model  # models.dev says "2025-04": not a date, so dropped
        gpt4o = read(registry, "models/openai/gpt-4o.yaml")
        assert gpt4o["capabilities"] == ["tools", "vision", "structured_output", "attachments", "temperature"]
        assert gpt4o["input_modalities"] == ["text", "image", "pdf"] and gpt4o["knowledge_cutoff"] == "2023-09"

    def test_open_model_served_by_two_providers_is_added(self, registry):
        model = read(registry, "models/alibaba/qwen2.5-7b-instruct.yaml")
        assert model["open_weights"] is True and model["name"] == "Qwen2.5 7B Instruct"
        for provider in ("alibaba", "siliconflow", "togetherai"):
            assert read(registry, f"mappings/{provider}/qwen2.5-7b-instruct.yaml")["model"] == "qwen2.5-7b-instruct"


class TestMappings:
    def test_bedrock_region_ids_map_to_the_canonical_model_with_exact_prices(self, registry):
        mapping = read(registry, "mappings/amazon-bedrock/claude-haiku-4-5.yaml")
        offers = {offer["provider_model_id"]: offer for offer in mapping["offers"]}
        assert set(offers) == {
            "anthropic.claude-haiku-4-5-20251001-v1:0",
            "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        }
        assert offers["us.anthropic.claude-haiku-4-5-20251001-v1:0"]["pricing"] == {
            "input": 1.0,
            "output": 5.0,
            "cached_input": 0.1,
            "cache_write": 1.25,
        }

    def test_provider_spellings_of_open_models_map_to_one_model(self, registry):
        expected = {
            "togetherai": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "groq": "llama-3.3-70b-versatile",
            "amazon-bedrock": "meta.llama3-3-70b-instruct-v1:0",
        }
        for provider, model_id in expected.items():
            mapping = read(registry, f"mappings/{provider}/llama-3.3-70b-instruct.yaml")
            assert [offer["provider_model_id"] for offer in mapping["offers"]] == [model_id]

    def test_provider_model_ids_are_unique_per_provider(self, registry):
        for provider_dir in (registry / "mappings").iterdir():
            ids = [
                o["provider_model_id"] for f in provider_dir.glob("*.yaml") for o in read(registry, str(f))["offers"]
            ]
            assert len(ids) == len(set(ids))


class TestAliases:
    def test_provider_own_id_is_scoped_and_a_shared_id_is_not(self, registry):
        haiku = aliases_of(read(registry, "models/anthropic/claude-haiku-4-5.yaml"))
        assert haiku["us.anthropic.claude-haiku-4-5-20251001-v1:0"] == "amazon-bedrock"
        assert haiku["anthropic/claude-4.5-haiku-20251001"] == "openrouter"  # OpenRouter's canonical_slug
        oss = aliases_of(read(registry, "models/openai/gpt-oss-120b.yaml"))
        assert oss["openai/gpt-oss-120b"] is None  # Together and Groq both use it

    def test_openrouter_weights_repository_is_an_unscoped_alias(self, registry):
        assert aliases_of(read(registry, "models/deepseek/deepseek-r1.yaml"))["deepseek-ai/DeepSeek-R1"] is None

    def test_floating_latest_pointers_are_not_aliases(self, registry):
        every = {a for f in (registry / "models").rglob("*.yaml") for a in aliases_of(read(registry, str(f)))}
        assert "~anthropic/claude-haiku-latest" not in every

    def test_aliases_are_globally_unique_and_never_a_slug(self, registry):
        models = [read(registry, str(f)) for f in (registry / "models").rglob("*.yaml")]
        slugs = {m["slug"] for m in models}
        every = [alias for m in models for alias in aliases_of(m)]
        assert len(every) == len(set(every))
        assert not set(every) & slugs
