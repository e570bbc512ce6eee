"""`manage.py import_deprecations`: a real deprecations.info file written into a registry copy at the right scope."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from registry.deprecations_import import registry_import_deprecations
from registry.loading import registry_load
from registry.validation import validate_registry
from registry.yamlsafe import parse_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOTICES = FIXTURES / "sources" / "deprecations" / "v1_deprecations_2025-11-23.json"
TODAY = dt.date(2025, 12, 1)  # after most shutdowns in the file, before Azure's Mistral Nemo retirement


@pytest.fixture
def registry(tmp_path) -> Path:
    target = tmp_path / "registry"
    shutil.copytree(FIXTURES / "registry_lifecycle", target, ignore=shutil.ignore_patterns("README.md"))
    return target


def read(registry: Path, relative: str) -> dict:
    return parse_text((registry / relative).read_text(encoding="utf-8")).data


def offer(registry: Path, provider: str, model: str, provider_model_id: str) -> dict:
    offers = read(registry, f"mappings/{provider}/{model}.yaml")["offers"]
    return next(o for o in offers if o["provider_model_id"] == provider_model_id)


def alias(registry: Path, path: str, name: str) -> dict | str:
    return next(a for a in read(registry, path)["aliases"] if (a if isinstance(a, str) else a["alias"]) == name)


class TestImportDeprecations:
    def test_each_notice_is_written_at_its_scope(self, registry):
        before = {p: p.read_bytes() for p in registry.rglob("*.yaml")}
        result = registry_import_deprecations(notices_file=NOTICES, registry_dir=registry, today=TODAY)
        # Platform notices: Azure's own offers, nothing else of the model.
        assert (
            offer(registry, "azure", "llama-3.1-70b-instruct", "meta-llama-3.1-70b-instruct").items()
            >= {
                "status": "retired",
                "retirement_date": "2025-06-30",
            }.items()
        )
        assert offer(registry, "azure", "mistral-nemo", "mistral-nemo")["status"] == "deprecated"  # 2026-01-30
        llama = registry / "models/meta/llama-3.1-70b-instruct.yaml"
        assert llama.read_bytes() == before[llama]
        # A creator's snapshot notice: the alias (and the creator's offer by that id), not the model.
        turbo = read(registry, "models/openai/gpt-3.5-turbo.yaml")
        assert "sunset_date" not in turbo and turbo.get("status", "active") == "active"
        assert alias(registry, "models/openai/gpt-3.5-turbo.yaml", "gpt-3.5-turbo-0613") == {
            "alias": "gpt-3.5-turbo-0613",
            "status": "retired",
            "retirement_date": "2024-09-13",
        }
        assert alias(registry, "models/anthropic/claude-3-5-sonnet.yaml", "claude-3-5-sonnet-20240620") == {
            "alias": "claude-3-5-sonnet-20240620",
            "provider": "anthropic",
            "status": "retired",
            "retirement_date": "2025-10-28",
        }
        assert offer(registry, "anthropic", "claude-3-5-sonnet", "claude-3-5-sonnet-20240620")["retirement_date"] == (
            "2025-10-28"
        )
        # The creator naming the model itself: the model's lifecycle and successor.
        o1 = read(registry, "models/openai/o1-mini.yaml")
        assert {k: o1.get(k) for k in ("status", "deprecation_date", "sunset_date", "successor")} == {
            "status": "deprecated",
            "deprecation_date": "2025-04-28",
            "sunset_date": "2025-10-27",
            "successor": "o4-mini",
        }
        # Cohere retired the name `command-r` but serves the line on as command-r-08-2024: the model stays active.
        command_r = read(registry, "models/cohere/command-r.yaml")
        assert command_r.get("status", "active") == "active" and "sunset_date" not in command_r
        assert (result.counts["models"], result.counts["offers"], result.counts["aliases"]) == (1, 7, 7)
        # The result validates: o1-mini is still listed by resellers, which the check shows as a warning (their
        # own schedules), not an error; the creator's shutdown is not theirs.
        report = validate_registry(registry)
        assert [str(p) for p in report.problems] == []
        assert any("o1-mini" in str(w) and "yet served by" in str(w) for w in report.warnings)

    def test_a_second_run_changes_nothing(self, registry):
        registry_import_deprecations(notices_file=NOTICES, registry_dir=registry, today=TODAY)
        before = {p: p.read_bytes() for p in registry.rglob("*.yaml")}
        again = registry_import_deprecations(notices_file=NOTICES, registry_dir=registry, today=TODAY)
        assert again.files_written == []
        assert {p: p.read_bytes() for p in registry.rglob("*.yaml")} == before

    def test_a_value_the_registry_states_is_kept(self, registry):
        path = registry / "models/openai/o1-mini.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "sunset_date: '2025-11-01'\n", encoding="utf-8")
        registry_import_deprecations(notices_file=NOTICES, registry_dir=registry, today=TODAY)
        assert read(registry, "models/openai/o1-mini.yaml")["sunset_date"] == "2025-11-01"

    @pytest.mark.django_db
    def test_the_command_reports_and_the_result_loads(self, registry, tmp_path):
        platform_and_snapshots = [n for n in json.loads(NOTICES.read_text()) if n["model_id"] not in ("o1-mini",)]
        notices = tmp_path / "notices.json"
        notices.write_text(json.dumps([n for n in platform_and_snapshots if not n["model_id"].startswith("command-r")]))
        out = io.StringIO()
        call_command("import_deprecations", str(notices), registry=registry, today=TODAY, verbosity=2, stdout=out)
        text = out.getvalue()
        assert "offers: 7" in text and "aliases: 6" in text and "skipped azure Command R: " in text
        result = registry_load(path=registry)
        assert result.counts["mappings"].added > 0

    def test_the_command_names_the_problems_the_written_registry_has(self, registry):
        # A contradiction the notices do not settle: gpt-4o retired in its file while OpenAI's own offer is active.
        path = registry / "models/openai/gpt-4o.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "status: retired\n", encoding="utf-8")
        with pytest.raises(CommandError, match=r"files were written.* 1 problem\(s\)"):
            call_command("import_deprecations", str(NOTICES), registry=registry, today=TODAY, stderr=io.StringIO())

    def test_a_missing_file_is_refused(self, registry, tmp_path):
        with pytest.raises(CommandError, match="no such file"):
            call_command("import_deprecations", str(tmp_path / "nope.json"), registry=registry)
