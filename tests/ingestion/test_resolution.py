"""Priority rules, field by field: pin > registry > provider API > deprecations.info > Hugging Face (HF first for
open-weight metadata; deprecations.info only fills gaps)."""

from __future__ import annotations

import pytest

from ingestion.models import Tier
from ingestion.resolution import DEFAULTS, RESOLVED_FIELDS, SourceValue, resolve_fields

OPENAI = SourceValue("openai", Tier.PROVIDER_API, "2024-05-13", "2026-11-20T02:00:00+00:00")
AZURE = SourceValue("azure", Tier.PROVIDER_API, "2024-05-20", "2026-11-21T02:00:00+00:00")
DEPRECATIONS = SourceValue("deprecations", Tier.DEPRECATIONS, "2024-01-01", "2026-11-21T02:00:00+00:00")
HF = SourceValue("huggingface", Tier.HUGGING_FACE, "2023-12-31", "2026-11-21T02:00:00+00:00")


def resolve(field, *, pins=None, registry=None, observed=(), creator="openai"):
    values, provenance = resolve_fields(
        pins=pins or {}, registry_values=registry or {}, observations={field: list(observed)}, creator=creator
    )
    return values[field], provenance.get(field, {}).get("source")


class TestPriority:
    def test_deprecations_info_never_overwrites_a_providers_release_date(self):
        assert resolve("release_date", observed=[DEPRECATIONS, OPENAI]) == ("2024-05-13", "openai")

    def test_deprecations_info_fills_a_gap(self):
        gap = SourceValue("deprecations", Tier.DEPRECATIONS, "2025-06-30")
        assert resolve("sunset_date", observed=[gap]) == ("2025-06-30", "deprecations")

    def test_provider_api_beats_hugging_face_for_ordinary_fields(self):
        assert resolve("release_date", observed=[HF, OPENAI]) == ("2024-05-13", "openai")

    @pytest.mark.parametrize("field", ["parameters_total", "parameters_active", "canonical_url", "license"])
    def test_hugging_face_is_authoritative_for_open_weight_metadata(self, field):
        hf = SourceValue("huggingface", Tier.HUGGING_FACE, "hf-value")
        api = SourceValue("mistral", Tier.PROVIDER_API, "api-value")
        assert resolve(field, observed=[api, hf], creator="mistral") == ("hf-value", "huggingface")

    def test_registry_beats_every_automated_source(self):
        assert resolve("release_date", registry={"release_date": "2024-05-01"}, observed=[OPENAI, HF]) == (
            "2024-05-01",
            "registry",
        )

    def test_pin_beats_the_registry(self):
        result = resolve("release_date", pins={"release_date": "2024-05-02"}, registry={"release_date": "2024-05-01"})
        assert result == ("2024-05-02", "pin")

    def test_creators_own_api_speaks_first_for_its_model(self):
        assert resolve("release_date", observed=[AZURE, OPENAI], creator="openai") == ("2024-05-13", "openai")

    def test_among_other_providers_the_newest_observation_wins(self):
        assert resolve("release_date", observed=[OPENAI, AZURE], creator="meta") == ("2024-05-20", "azure")

    def test_a_pin_of_none_is_still_a_pin(self):
        assert resolve("context_window", pins={"context_window": None}, registry={"context_window": 8192}) == (
            None,
            "pin",
        )

    def test_a_field_no_source_states_gets_its_default_and_no_provenance(self):
        values, provenance = resolve_fields(pins={}, registry_values={}, observations={}, creator=None)
        assert values == {field: DEFAULTS[field] for field in RESOLVED_FIELDS}
        assert provenance == {}
