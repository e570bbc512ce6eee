"""Every price dimension, long-context tiers, regional uplift and billing: schema, validation, load, export, import."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Billing, Mapping
from registry.exporting import registry_export
from registry.importers.facts import offer_document
from registry.importers.offer_prices import offer_billing, offer_tiers
from registry.loading import RegistryInvalid, registry_load
from registry.validation import validate_registry

pytestmark = pytest.mark.django_db

FULL_OFFER = """\
model: gpt-4o
offers:
- provider_model_id: gpt-4o
  pricing:
    input: 2.5
    output: 10.0
    cached_input: 1.25
    cache_write: 3.125
    cache_write_1h: 5.0
    reasoning: 12.0
    audio_input: 40.0
    audio_output: 80.0
    image_input: 2.5
    image_output: 40.0
    per_image: 0.04
    per_request: 0.005
    web_search: 10.0
    batch_input: 1.25
    batch_output: 5.0
  tiers:
  - above: 128000
    input: 5.0
    output: 20.0
  - above: 200000
    input: 6.0
    output: 22.5
    cached_input: 0.6
  regional_uplift: 10.0
  billing: per_token
  context_window: 128000
  max_output: 16384
"""


def _write_offer(registry_dir: Path, text: str) -> Path:
    path = registry_dir / "mappings" / "openai" / "gpt-4o.yaml"
    path.write_text(text)
    return path


def _writes(path: Path) -> int:
    with CaptureQueriesContext(connection) as queries:
        result = registry_load(path=path)
    statements = [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    return result.rows_written + len(statements)


class TestLoading:
    def test_every_dimension_tier_uplift_and_billing_is_loaded(self, registry_dir):
        _write_offer(registry_dir, FULL_OFFER)
        registry_load(path=registry_dir)
        offer = Mapping.objects.get(provider__slug="openai", provider_model_id="gpt-4o")
        assert offer.price_cache_write_1h == Decimal("5")
        assert offer.price_reasoning == Decimal("12")
        assert (offer.price_audio_input, offer.price_audio_output) == (Decimal("40"), Decimal("80"))
        assert (offer.price_image_input, offer.price_image_output) == (Decimal("2.5"), Decimal("40"))
        assert (offer.price_per_image, offer.price_per_request) == (Decimal("0.04"), Decimal("0.005"))
        assert offer.price_web_search == Decimal("10")
        assert (offer.price_batch_input, offer.price_batch_output) == (Decimal("1.25"), Decimal("5"))
        assert offer.price_tiers == [
            {"above": 128000, "input": "5", "output": "20"},
            {"above": 200000, "input": "6", "output": "22.5", "cached_input": "0.6"},
        ]
        assert offer.regional_uplift == Decimal("10")
        assert offer.billing == Billing.PER_TOKEN

    def test_registry_values_keep_what_the_file_states_in_column_terms(self, registry_dir):
        _write_offer(registry_dir, FULL_OFFER)
        registry_load(path=registry_dir)
        stated = Mapping.objects.get(provider__slug="openai", provider_model_id="gpt-4o").registry_values
        assert stated["price_input"] == "2.5" and stated["price_web_search"] == "10"
        assert stated["price_tiers"][1] == {"above": 200000, "input": "6", "output": "22.5", "cached_input": "0.6"}
        assert stated["regional_uplift"] == "10" and stated["billing"] == "per_token"
        # An unstated dimension is not stated: resolution must not read it as the registry's word.
        other = Mapping.objects.get(provider__slug="openai", provider_model_id="gpt-4o-mini").registry_values
        assert "price_reasoning" not in other and "billing" not in other

    def test_an_unstated_billing_is_per_token(self, registry_dir):
        registry_load(path=registry_dir)
        assert set(Mapping.objects.values_list("billing", flat=True)) == {Billing.PER_TOKEN}

    def test_reload_writes_nothing(self, registry_dir):
        _write_offer(registry_dir, FULL_OFFER)
        registry_load(path=registry_dir)
        assert _writes(registry_dir) == 0

    def test_a_changed_tier_is_one_updated_offer(self, registry_dir):
        _write_offer(registry_dir, FULL_OFFER)
        registry_load(path=registry_dir)
        _write_offer(registry_dir, FULL_OFFER.replace("output: 22.5", "output: 24.0"))
        result = registry_load(path=registry_dir)
        assert result.counts["mappings"].updated == 1
        offer = Mapping.objects.get(provider__slug="openai", provider_model_id="gpt-4o")
        assert offer.price_tiers[1]["output"] == "24"
        assert offer.registry_values["price_tiers"][1]["output"] == "24"


class TestExport:
    def test_export_round_trips_every_dimension(self, registry_dir, tmp_path):
        _write_offer(registry_dir, FULL_OFFER)
        registry_load(path=registry_dir)
        out = tmp_path / "exported"
        registry_export(out_dir=out)
        offer = yaml.safe_load((out / "mappings" / "openai" / "gpt-4o.yaml").read_text())["offers"][0]
        assert offer["pricing"]["web_search"] == 10.0 and offer["pricing"]["per_request"] == 0.005
        assert offer["tiers"][1] == {"above": 200000, "input": 6.0, "output": 22.5, "cached_input": 0.6}
        assert offer["regional_uplift"] == 10.0
        assert "billing" not in offer  # the default is left out, as the loader fills it back
        assert _writes(out) == 0

    def test_a_plan_is_exported_with_its_billing(self, registry_dir, tmp_path):
        _write_offer(registry_dir, FULL_OFFER.replace("billing: per_token", "billing: subscription"))
        registry_load(path=registry_dir)
        registry_export(out_dir=tmp_path / "out")
        text = (tmp_path / "out" / "mappings" / "openai" / "gpt-4o.yaml").read_text()
        assert "billing: subscription" in text
        assert _writes(tmp_path / "out") == 0


class TestValidation:
    def _problems(self, registry_dir, text: str) -> list[str]:
        _write_offer(registry_dir, text)
        return [str(problem) for problem in validate_registry(registry_dir).problems]

    def test_tiers_out_of_order_are_refused_at_their_line(self, registry_dir):
        text = FULL_OFFER.replace("above: 200000", "above: 100000")
        problems = self._problems(registry_dir, text)
        line = text.splitlines().index("  - above: 100000") + 1
        assert problems == [
            f"mappings/openai/gpt-4o.yaml:{line}: offers[0].tiers[1].above: 100000 does not ascend (the tier before "
            "starts above 128000); list tiers from the smallest threshold up"
        ]
        with pytest.raises(RegistryInvalid):
            registry_load(path=registry_dir)

    def test_a_tier_price_with_seven_decimals_is_refused(self, registry_dir):
        problems = self._problems(registry_dir, FULL_OFFER.replace("cached_input: 0.6", "cached_input: 0.6000001"))
        assert len(problems) == 1 and "offers[0].tiers[1].cached_input: 0.6000001 has more than 6" in problems[0]

    def test_a_new_dimension_with_seven_decimals_is_refused(self, registry_dir):
        problems = self._problems(registry_dir, FULL_OFFER.replace("per_request: 0.005", "per_request: 0.0050001"))
        assert len(problems) == 1 and "per_request" in problems[0] and "6 decimal places" in problems[0]

    def test_an_unknown_dimension_and_an_unknown_billing_are_refused(self, registry_dir):
        text = FULL_OFFER.replace("    batch_output: 5.0\n", "    batch_output: 5.0\n    flex_input: 1.0\n")
        problems = self._problems(registry_dir, text.replace("billing: per_token", "billing: monthly"))
        assert len(problems) == 2
        assert any("flex_input" in p for p in problems) and any("monthly" in p for p in problems)

    def test_an_uplift_finer_than_the_column_is_refused(self, registry_dir):
        problems = self._problems(registry_dir, FULL_OFFER.replace("regional_uplift: 10.0", "regional_uplift: 10.0005"))
        assert len(problems) == 1 and "regional_uplift: 10.0005 has more than 3 decimal places" in problems[0]

    def test_a_tier_without_prices_is_refused(self, registry_dir):
        text = FULL_OFFER.replace("  - above: 128000\n    input: 5.0\n    output: 20.0\n", "  - above: 128000\n")
        assert len(self._problems(registry_dir, text)) == 1


# A models.dev provider record (github-copilot/models/gpt-5.4.toml's shape, with reasoning and audio prices added).
MODELSDEV_RECORD = {
    "cost": {
        "input": 2.5,
        "output": 15,
        "cache_read": 0.25,
        "reasoning": 15,
        "input_audio": 32,
        "output_audio": 64,
        "tiers": [
            {"tier": {"type": "context", "size": 272_000}, "input": 5, "output": 22.5, "cache_read": 0.5},
            {"tier": {"size": 128_000}, "input": 3, "output": 18},
        ],
    },
    "limit": {"context": 400_000, "output": 128_000},
}


class TestImporter:
    def test_offer_document_emits_every_dimension_models_dev_states(self):
        offer = offer_document("gpt-5.4", MODELSDEV_RECORD, "openai")
        assert offer["pricing"] == {
            "input": 2.5,
            "output": 15,
            "cached_input": 0.25,
            "reasoning": 15.0,
            "audio_input": 32.0,
            "audio_output": 64.0,
        }
        assert offer["tiers"] == [
            {"above": 128000, "input": 3.0, "output": 18.0},
            {"above": 272000, "input": 5.0, "output": 22.5, "cached_input": 0.5},
        ]
        assert "billing" not in offer  # per token: the default

    def test_offer_document_classifies_a_plan_by_its_provider(self):
        offer = offer_document("gpt-5.4", MODELSDEV_RECORD, "github-copilot")
        assert offer["billing"] == "subscription"

    def test_tiers_of_another_kind_are_left_out(self):
        assert offer_tiers([{"tier": {"type": "time_of_day", "size": 1}, "input": 1}, "junk"]) == []

    @pytest.mark.parametrize(
        ("provider", "model_id", "pricing", "billing"),
        [
            ("gitlab", "duo-chat-opus-4-5", {"input": 0, "output": 0}, "subscription"),
            ("alibaba-coding-plan", "qwen3-coder-plus", {"input": 1.0, "output": 5.0}, "subscription"),
            ("zai-coding-plan", "glm-4.6", {"input": 0, "output": 0}, "subscription"),
            ("kimi-for-coding", "kimi-k2", {"input": 0, "output": 0}, "subscription"),
            ("github-models", "openai/gpt-4o", {"input": 0, "output": 0}, "free_tier"),
            ("openrouter", "qwen/qwen3-coder:free", {"input": 0, "output": 0}, "free_tier"),
            ("opencode", "glm-4.7-free", {"input": 0, "output": 0}, "free_tier"),
            ("nvidia", "meta/llama-3.3-70b-instruct", {"input": 0.5, "output": 0.5}, "per_token"),
            ("cohere", "command-r", {"input": 0, "output": 0}, "unknown"),  # $0 alone is no evidence
            ("openai", "gpt-4o", {"input": 2.5, "output": 10}, "per_token"),
            ("openai", "gpt-4o", {}, "per_token"),
        ],
    )
    def test_billing_rule(self, provider, model_id, pricing, billing):
        assert offer_billing(provider, model_id, pricing) == billing


class TestFillCommand:
    def test_fills_new_dimensions_and_billing_without_changing_stated_prices(self, registry_dir, tmp_path):
        source = tmp_path / "modelsdev" / "providers" / "openai" / "models"
        source.mkdir(parents=True)
        (source / "gpt-4o.toml").write_text(
            "[cost]\ninput = 99\noutput = 99\nreasoning = 12\ninput_audio = 40\n\n"
            '[[cost.tiers]]\ntier = { type = "context", size = 200_000 }\ninput = 5\noutput = 20\n'
        )
        free = registry_dir / "mappings" / "openai" / "gpt-4o-mini.yaml"
        free.write_text(free.read_text().replace("input: 0.15", "input: 0.0").replace("output: 0.6", "output: 0.0"))
        call_command("fill_offer_prices", str(tmp_path / "modelsdev"), registry=registry_dir, stdout=StringIO())
        offer = yaml.safe_load((registry_dir / "mappings" / "openai" / "gpt-4o.yaml").read_text())["offers"][0]
        assert offer["pricing"]["input"] == 2.5  # curated, never overwritten
        assert offer["pricing"]["reasoning"] == 12.0 and offer["pricing"]["audio_input"] == 40.0
        assert list(offer)[:3] == ["provider_model_id", "pricing", "tiers"]
        assert offer["tiers"] == [{"above": 200000, "input": 5.0, "output": 20.0}]
        assert "billing: unknown" in free.read_text()  # $0 with no evidence of a plan or free tier
        assert validate_registry(registry_dir).ok
        before = {p: p.read_text() for p in registry_dir.rglob("*.yaml")}
        call_command("fill_offer_prices", str(tmp_path / "modelsdev"), registry=registry_dir, stdout=StringIO())
        assert {p: p.read_text() for p in registry_dir.rglob("*.yaml")} == before  # idempotent
