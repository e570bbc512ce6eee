"""`catalogue_check`, the registry hook and the admin page on crafted registries (copies of registry_small)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Model, Provider
from registry.loading import registry_load
from registry.validation import validate_registry

QUALITY_URL = "/admin/catalog/quality/"

# A 37B-active copy of DeepSeek-R1 (error: one model under two slugs), a distill the R1 mapping also lists (error:
# the offer sits on the wrong model) and a model without a family or release date (two warnings).
DUPLICATE_MODEL = """\
slug: deepseek-r1-a37b
name: DeepSeek-R1 A37B
creator: deepseek
family: deepseek-thinking
release_date: '2025-01-20'
"""
DISTILL_MODEL = """\
slug: deepseek-r1-distill-qwen-32b
name: DeepSeek-R1-Distill-Qwen-32B
creator: deepseek
family: deepseek-thinking
release_date: '2025-01-20'
"""
DISTILL_OFFER = """\
- provider_model_id: deepseek-ai/DeepSeek-R1-Distill-Qwen-32B
  pricing:
    input: 0.12
    output: 0.18
"""
BARE_MODEL = """\
slug: orca-mini-9b
name: Orca Mini 9B
creator: meta
"""


def _write(root: Path, relative: str, text: str) -> None:
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


@pytest.fixture
def warned_registry(registry_dir) -> Path:
    """registry_small plus a model the rules only warn about."""
    _write(registry_dir, "models/meta/orca-mini-9b.yaml", BARE_MODEL)
    return registry_dir


@pytest.fixture
def broken_registry(warned_registry) -> Path:
    """Two errors (a duplicate slug, an offer on the wrong model) and three warnings (the misfiled offer's price also
    splits its model's offers at Together AI)."""
    _write(warned_registry, "models/deepseek/deepseek-r1-a37b.yaml", DUPLICATE_MODEL)
    _write(warned_registry, "models/deepseek/deepseek-r1-distill-qwen-32b.yaml", DISTILL_MODEL)
    mapping = warned_registry / "mappings/togetherai/deepseek-r1.yaml"
    mapping.write_text(mapping.read_text() + DISTILL_OFFER)
    return warned_registry


def _run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("catalogue_check", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


class TestRegistryHook:
    def test_the_small_registry_has_no_findings(self, registry_dir):
        report = validate_registry(registry_dir)
        assert report.problems == [] and report.warnings == []

    def test_errors_fail_validation_at_file_and_line(self, broken_registry):
        problems = [str(p) for p in validate_registry(broken_registry).problems]
        assert any(p.startswith("models/deepseek/deepseek-r1-a37b.yaml:1: duplicate:") for p in problems), problems
        assert any(
            p.startswith("mappings/togetherai/deepseek-r1.yaml:11: offer-mismatch:") and "distill-qwen-32b" in p
            for p in problems
        ), problems
        assert len(problems) == 2

    def test_warnings_are_listed_and_never_fail(self, warned_registry):
        report = validate_registry(warned_registry)
        assert report.ok
        assert [str(w) for w in report.warnings] == [
            "models/meta/orca-mini-9b.yaml:1: missing-metadata: model orca-mini-9b: no family",
            "models/meta/orca-mini-9b.yaml:1: missing-metadata: model orca-mini-9b: no release_date",
        ]

    def test_a_self_successor_is_reported_once(self, registry_dir):
        path = registry_dir / "models/openai/gpt-4o.yaml"
        path.write_text(path.read_text().replace("family: gpt\n", "family: gpt\nsuccessor: gpt-4o\n"))
        assert [p.message for p in validate_registry(registry_dir).problems] == [
            "successor: a model cannot succeed itself"
        ]

    @pytest.mark.django_db
    def test_load_prints_warnings_with_a_count(self, warned_registry):
        out, err = StringIO(), StringIO()
        call_command("load_registry", "--path", str(warned_registry), stdout=out, stderr=err)
        assert "2 warning(s)" in out.getvalue()
        assert "warning: models/meta/orca-mini-9b.yaml:1: missing-metadata" in err.getvalue()
        assert Model.objects.filter(slug="orca-mini-9b").exists()

    @pytest.mark.django_db
    def test_load_refuses_a_registry_with_identity_errors(self, broken_registry):
        err = StringIO()
        with pytest.raises(CommandError, match="nothing was loaded"):
            call_command("load_registry", "--path", str(broken_registry), stdout=StringIO(), stderr=err)
        assert "deepseek-r1-a37b.yaml:1: duplicate" in err.getvalue()
        assert not Model.objects.exists()

    def test_validate_command_counts_warnings(self, warned_registry):
        out = StringIO()
        call_command("validate_registry", "--path", str(warned_registry), stdout=out, stderr=StringIO())
        assert "2 warning(s)" in out.getvalue()


class TestCatalogueCheckOnRegistry:
    @pytest.mark.django_db
    def test_a_clean_registry_exits_zero_without_touching_the_database(self, registry_dir):
        with CaptureQueriesContext(connection) as queries:
            code, out = _run("--registry", str(registry_dir))
        assert code == 0
        assert out.strip().endswith("0 finding(s): 0 error(s), 0 warning(s)")
        assert len(queries) == 0

    def test_findings_are_grouped_by_kind_with_counts(self, broken_registry):
        code, out = _run("--registry", str(broken_registry))
        assert code == 1
        assert "== duplicate: 1 error(s), 0 warning(s)" in out
        assert "== offer-mismatch: 1 error(s), 0 warning(s)" in out
        assert "== mixed-model: 0 error(s), 1 warning(s)" in out
        assert "== missing-metadata: 0 error(s), 2 warning(s)" in out
        assert "error   model deepseek-r1-a37b: duplicate suspect of deepseek-r1" in out
        assert out.strip().endswith("5 finding(s): 2 error(s), 3 warning(s)")

    def test_json_output(self, broken_registry):
        code, out = _run("--registry", str(broken_registry), "--format", "json")
        document = json.loads(out)
        assert code == 1
        assert (document["errors"], document["warnings"]) == (2, 3)
        assert document["counts"]["offer-mismatch"] == {"error": 1, "warning": 0}
        assert {f["subject"] for f in document["findings"] if f["severity"] == "error"} == {
            "model deepseek-r1-a37b",
            "offer togetherai:deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
        }

    def test_warnings_alone_exit_zero(self, warned_registry):
        code, out = _run("--registry", str(warned_registry), "--format", "json")
        assert code == 0
        assert json.loads(out)["warnings"] == 2

    def test_a_missing_directory_is_an_error(self, tmp_path):
        assert _run("--registry", str(tmp_path / "nowhere"))[0] == 2

    def test_summary_lists_errors_and_counts_but_no_warning_lines(self, broken_registry):
        code, out = _run("--registry", str(broken_registry), "--summary")
        assert code == 1
        assert "error   model deepseek-r1-a37b" in out and "== mixed-model: 0 error(s), 1 warning(s)" in out
        assert not [line for line in out.splitlines() if line.startswith("warning")]

    def test_the_bundled_registry_has_no_errors(self, settings):
        code, out = _run("--registry", str(settings.REGISTRY_DIR), "--summary")
        assert code == 0, out
        assert " 0 error(s)" in out.splitlines()[-1]


@pytest.mark.django_db
class TestCatalogueCheckOnDatabase:
    def test_ingestion_made_rows_are_checked(self, registry_dir):
        registry_load(path=registry_dir)
        assert _run()[0] == 0
        Model.objects.create(slug="gpt-4o-mini-2", name="GPT-4o mini", needs_review=True, in_registry=False)
        code, out = _run()
        assert code == 1
        assert "model gpt-4o-mini-2: display name 'GPT-4o mini' is also gpt-4o-mini's" in out

    def test_served_but_retired_model_is_an_error(self, registry_dir):
        registry_load(path=registry_dir)
        # Retired by its creator while the creator's own offer is still active: a contradiction.
        gpt = Model.objects.get(slug="gpt-4o")
        assert gpt.mappings.filter(provider__slug=gpt.creator.slug, status="active").exists()
        Model.objects.filter(pk=gpt.pk).update(status="retired")
        code, out = _run("--format", "json")
        errors = [f for f in json.loads(out)["findings"] if f["severity"] == "error"]
        assert code == 1
        assert [(f["kind"], f["subject"]) for f in errors] == [("lifecycle", "model gpt-4o")]


@pytest.mark.django_db
class TestQualityAdmin:
    def test_staff_see_the_findings(self, admin_client, registry_dir):
        registry_load(path=registry_dir)
        Model.objects.create(slug="orphan-9", name="Orphan 9")
        response = admin_client.get(QUALITY_URL)
        assert response.status_code == 200
        assert reverse("admin:catalog_quality") == QUALITY_URL
        body = response.content.decode()
        assert "missing-metadata (3)" in body
        assert "model orphan-9" in body

    def test_the_admin_index_links_to_the_report(self, admin_client):
        assert QUALITY_URL in admin_client.get(reverse("admin:index")).content.decode()

    def test_anonymous_and_non_staff_are_sent_to_login(self, client, django_user_model):
        assert client.get(QUALITY_URL).status_code == 302
        client.force_login(django_user_model.objects.create_user("curious", password="x"))
        response = client.get(QUALITY_URL)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]

    def test_query_count_does_not_grow_with_the_catalogue(self, admin_client, registry_dir):
        registry_load(path=registry_dir)
        with CaptureQueriesContext(connection) as small:
            assert admin_client.get(QUALITY_URL).status_code == 200
        lab = Provider.objects.get(slug="meta")
        for i in range(30):
            model = Model.objects.create(slug=f"bulk-{i}", name=f"Bulk {i}", creator=lab)
            model.aliases.create(alias=f"bulk/{i}")
            model.mappings.create(provider=lab, provider_model_id=f"bulk-{i}")
        with CaptureQueriesContext(connection) as large:
            assert admin_client.get(QUALITY_URL).status_code == 200
        assert len(large) == len(small) <= 10
