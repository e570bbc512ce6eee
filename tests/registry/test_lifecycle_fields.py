"""Offer and alias lifecycle (status, retirement_date) and aggregator facts (served_by, variant) in the registry:
schema, validation at FILE:LINE, loading, a reload that writes nothing, and export → load changing nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Alias, Lifecycle, Mapping
from registry.exporting import registry_export
from registry.lifecycle_check import check_lifecycle
from registry.loading import registry_load
from registry.validation import validate_registry

pytestmark = pytest.mark.django_db

OFFERS = """model: gpt-4o
offers:
- provider_model_id: gpt-4o
  pricing:
    input: 2.5
    output: 10.0
- provider_model_id: gpt-4o-2024-05-13
  status: retired
  retirement_date: '2025-06-30'
  pricing:
    input: 5.0
    output: 15.0
"""
AGGREGATOR = """model: gpt-4o
offers:
- provider_model_id: openai/gpt-4o:extended
  served_by: openai
  variant: extended
  pricing:
    input: 6.0
    output: 18.0
"""
ALIASES = """aliases:
- gpt-4o-2024-08-06
- alias: gpt-4o-2024-05-13
  provider: openai
  status: retired
  retirement_date: '2025-06-30'
- alias: openai/gpt-4o
  provider: openai
"""


def with_lifecycle(registry: Path) -> Path:
    (registry / "mappings/openai/gpt-4o.yaml").write_text(OFFERS, encoding="utf-8")
    (registry / "mappings/togetherai/gpt-4o.yaml").write_text(AGGREGATOR, encoding="utf-8")
    model = registry / "models/openai/gpt-4o.yaml"
    text = model.read_text(encoding="utf-8")
    model.write_text(text[: text.index("aliases:")] + ALIASES, encoding="utf-8")
    return registry


def writes_of(path: Path) -> int:
    with CaptureQueriesContext(connection) as queries:
        result = registry_load(path=path)
    writes = [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    return result.rows_written + len(writes)


class TestLoading:
    def test_offer_and_alias_lifecycle_and_aggregator_facts_are_loaded(self, registry_dir):
        registry_load(path=with_lifecycle(registry_dir))
        snapshot = Mapping.objects.get(provider__slug="openai", provider_model_id="gpt-4o-2024-05-13")
        assert (snapshot.status, snapshot.retirement_date) == (Lifecycle.RETIRED, dt.date(2025, 6, 30))
        assert Mapping.objects.get(provider__slug="openai", provider_model_id="gpt-4o").status == Lifecycle.ACTIVE
        extended = Mapping.objects.get(provider_model_id="openai/gpt-4o:extended")
        assert (extended.provider.slug, extended.served_by, extended.variant) == ("togetherai", "openai", "extended")
        alias = Alias.objects.get(alias="gpt-4o-2024-05-13")
        assert (alias.status, alias.retirement_date, alias.model.status) == (
            Lifecycle.RETIRED,
            dt.date(2025, 6, 30),
            Lifecycle.ACTIVE,
        )

    def test_a_reload_writes_nothing(self, registry_dir):
        registry = with_lifecycle(registry_dir)
        registry_load(path=registry)
        assert writes_of(registry) == 0

    def test_removing_the_lifecycle_from_the_file_resets_the_row(self, registry_dir):
        registry = with_lifecycle(registry_dir)
        registry_load(path=registry)
        (registry / "mappings/openai/gpt-4o.yaml").write_text(
            OFFERS.replace("  status: retired\n", "").replace("  retirement_date: '2025-06-30'\n", ""), encoding="utf-8"
        )
        registry_load(path=registry)
        snapshot = Mapping.objects.get(provider__slug="openai", provider_model_id="gpt-4o-2024-05-13")
        assert (snapshot.status, snapshot.retirement_date) == (Lifecycle.ACTIVE, None)


class TestExport:
    def test_export_then_load_changes_nothing_and_keeps_the_facts(self, registry_dir, tmp_path):
        registry_load(path=with_lifecycle(registry_dir))
        registry_export(out_dir=tmp_path / "out")
        assert validate_registry(tmp_path / "out").ok
        assert writes_of(tmp_path / "out") == 0
        exported = (tmp_path / "out/mappings/openai/gpt-4o.yaml").read_text(encoding="utf-8")
        assert "status: retired\n  retirement_date: '2025-06-30'" in exported
        assert "served_by: openai\n  variant: extended" in (tmp_path / "out/mappings/togetherai/gpt-4o.yaml").read_text(
            encoding="utf-8"
        )
        model = (tmp_path / "out/models/openai/gpt-4o.yaml").read_text(encoding="utf-8")
        assert (
            "- alias: gpt-4o-2024-05-13\n  provider: openai\n  status: retired\n  retirement_date: '2025-06-30'"
            in model
        )


def problems(registry: Path) -> list[str]:
    return [str(p) for p in validate_registry(registry).problems]


class TestValidation:
    def test_a_past_retirement_with_an_active_status_is_an_error_at_its_line(self, registry_dir):
        registry = with_lifecycle(registry_dir)
        path = registry / "mappings/openai/gpt-4o.yaml"
        path.write_text(OFFERS.replace("  status: retired\n", ""), encoding="utf-8")
        found = problems(registry)
        assert found == [
            "mappings/openai/gpt-4o.yaml:8: offers[1].retirement_date: offer 'gpt-4o-2024-05-13' retired on "
            "2025-06-30 but its status is 'active': write status: retired (or deprecated)"
        ]

    def test_a_retired_alias_needs_its_status_too(self, registry_dir):
        registry = with_lifecycle(registry_dir)
        path = registry / "models/openai/gpt-4o.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("  status: retired\n", ""), encoding="utf-8")
        (found,) = problems(registry)
        assert found.startswith("models/openai/gpt-4o.yaml:") and "alias 'gpt-4o-2024-05-13' retired on" in found

    def test_a_retirement_date_must_be_a_date_of_the_calendar(self, registry_dir):
        registry = with_lifecycle(registry_dir)
        path = registry / "mappings/openai/gpt-4o.yaml"
        path.write_text(OFFERS.replace("2025-06-30", "2025-02-30"), encoding="utf-8")
        (found,) = problems(registry)
        assert (
            found
            == "mappings/openai/gpt-4o.yaml:9: offers[1].retirement_date: '2025-02-30' is not a date of the calendar"
        )

    def test_an_unknown_status_is_a_schema_error(self, registry_dir):
        registry = with_lifecycle(registry_dir)
        path = registry / "mappings/openai/gpt-4o.yaml"
        path.write_text(OFFERS.replace("status: retired", "status: gone"), encoding="utf-8")
        assert problems(registry) == [
            "mappings/openai/gpt-4o.yaml:8: offers[1].status: 'gone' is not one of "
            "['active', 'preview', 'deprecated', 'retired']"
        ]

    def test_future_retirements_are_warnings_never_errors(self, registry_dir):
        registry = with_lifecycle(registry_dir)
        report = validate_registry(registry)
        report.warnings.clear()
        check_lifecycle(report, today=dt.date(2025, 1, 1))  # before the offers' retirement
        assert report.ok
        messages = [w.message for w in report.warnings]
        assert (
            "offers[1].status: offer 'gpt-4o-2024-05-13' is 'retired' before its retirement_date 2025-06-30" in messages
        )
