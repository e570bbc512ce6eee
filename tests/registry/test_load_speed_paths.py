"""The fast registry load gives the reference answers: identity rules run beside the writes yet fail a load exactly as
validation does, statements stay constant in the registry's size, COPY writes what bulk_create wrote, and the
identity tokens' shortcuts (guards, per-token memo) read names as the full rules do."""

from __future__ import annotations

import gc
import shutil
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from catalog import bulk
from catalog.identity.tokens import identity
from catalog.models import Alias, Family, Mapping, Model, PriceRecord, Provider
from ingestion.prices.registry_load import offers_open_price_records
from registry.identity_check import IdentityCheckInBackground
from registry.loading import RegistryInvalid, registry_load
from registry.validation import validate_registry
from registry.writer import RegistryDocuments, write_registry

pytestmark = pytest.mark.django_db

# A copy of DeepSeek-R1 under another slug (an identity error) and a model without family or release date (warnings).
DUPLICATE_MODEL = """\
slug: deepseek-r1-a37b
name: DeepSeek-R1 A37B
creator: deepseek
family: deepseek-thinking
release_date: '2025-01-20'
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


def _failed_load(root: Path) -> RegistryInvalid:
    with pytest.raises(RegistryInvalid) as caught:
        registry_load(path=root)
    return caught.value


@pytest.fixture(params=["thread", "process"])
def identity_checked_on(request, settings) -> str:
    """The identity rules beside the writes on a thread (a small registry) or in a forked process (a large one:
    REGISTRY_PARALLEL_THRESHOLD files or more)."""
    if request.param == "process":
        settings.REGISTRY_PARALLEL_THRESHOLD = 1
    return request.param


@pytest.mark.usefixtures("identity_checked_on")
class TestIdentityRulesBesideTheWrites:
    def test_a_large_registry_is_checked_in_another_process(self, registry_dir, identity_checked_on):
        report = validate_registry(registry_dir, identity_rules=False)
        background = IdentityCheckInBackground(report)
        expected = ProcessPoolExecutor if identity_checked_on == "process" else ThreadPoolExecutor
        assert isinstance(background._executor, expected)
        assert background.finish() is True and report.warnings == validate_registry(registry_dir).warnings

    def test_an_identity_error_fails_the_load_with_validations_problems_and_writes_nothing(self, registry_dir):
        _write(registry_dir, "models/deepseek/deepseek-r1-a37b.yaml", DUPLICATE_MODEL)
        _write(registry_dir, "models/meta/orca-mini-9b.yaml", BARE_MODEL)
        reference = validate_registry(registry_dir)
        assert any("duplicate:" in p.message for p in reference.problems)
        failed = _failed_load(registry_dir)
        assert failed.report.problems == reference.problems
        assert failed.report.warnings == reference.warnings
        assert not Model.objects.exists() and not Mapping.objects.exists() and not PriceRecord.objects.exists()
        assert Model.history.count() == 0

    def test_an_identity_error_on_a_reload_rolls_back_what_the_load_wrote(self, registry_dir, catalogue_state):
        registry_load(path=registry_dir)
        before, records = catalogue_state(), PriceRecord.objects.count()
        mapping = registry_dir / "mappings/deepseek/deepseek-r1.yaml"
        mapping.write_text(mapping.read_text().replace("input: 0.14", "input: 0.15"))  # a write the load would make
        _write(registry_dir, "models/deepseek/deepseek-r1-a37b.yaml", DUPLICATE_MODEL)
        failed = _failed_load(registry_dir)
        assert failed.report.problems == validate_registry(registry_dir).problems
        assert catalogue_state() == before and PriceRecord.objects.count() == records

    def test_identity_errors_and_other_problems_are_listed_together_in_order(self, registry_dir):
        _write(registry_dir, "models/deepseek/deepseek-r1-a37b.yaml", DUPLICATE_MODEL)
        _write(registry_dir, "models/meta/orca-mini-9b.yaml", BARE_MODEL.replace("creator: meta", "creator: nobody"))
        reference = validate_registry(registry_dir)
        messages = " ".join(p.message for p in reference.problems)
        assert "duplicate:" in messages and "unknown provider 'nobody'" in messages
        assert _failed_load(registry_dir).report.problems == reference.problems

    def test_warnings_of_a_load_are_validations_warnings(self, registry_dir):
        _write(registry_dir, "models/meta/orca-mini-9b.yaml", BARE_MODEL)
        result = registry_load(path=registry_dir)
        assert result.warnings == validate_registry(registry_dir).warnings
        assert [w.message for w in result.warnings] == [
            "missing-metadata: model orca-mini-9b: no family",
            "missing-metadata: model orca-mini-9b: no release_date",
        ]

    def test_the_collector_is_resumed_after_a_load_and_left_off_when_it_was_off(self, registry_dir):
        registry_load(path=registry_dir)
        assert gc.isenabled()
        gc.disable()
        try:
            registry_load(path=registry_dir)
            assert not gc.isenabled()
        finally:
            gc.enable()


def _generated(root: Path, models: int) -> Path:
    """A registry of `models` models, two aliases each and one priced offer each at one of two hosts."""
    docs = RegistryDocuments()
    docs.providers = [{"slug": "lab", "name": "Lab", "kind": "lab"}, {"slug": "host", "name": "Host"}]
    docs.families = [{"slug": "fam", "name": "Family", "creator": "lab"}]
    for index in range(models):
        slug = f"model-{index:04d}"
        docs.models.append(
            {"slug": slug, "name": f"Model {index}", "creator": "lab", "family": "fam", "release_date": "2025-01-02"}
        )
        docs.models[-1]["aliases"] = [f"lab/{slug}-v1", f"lab/{slug}-v2"]
        host = ("lab", "host")[index % 2]
        docs.mappings[(host, slug)] = {
            "model": slug,
            "offers": [{"provider_model_id": f"lab/{slug}", "pricing": {"input": Decimal(index + 1) / 100}}],
        }
    write_registry(root, docs)
    return root


def _statements(root: Path) -> int:
    """Statements of a load, without the ANALYZE step a large enough load adds (the ANALYZE and the statistics
    target set around it: three, whatever the size above it)."""
    with CaptureQueriesContext(connection) as queries:
        registry_load(path=root)
    step = ("ANALYZE", "SET LOCAL default_statistics_target")
    return sum(1 for query in queries if not query["sql"].startswith(step))


def _analyzed(root: Path) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        registry_load(path=root)
    return [query["sql"] for query in queries if query["sql"].startswith("ANALYZE")]


class TestStatementsDoNotGrowWithTheRegistry:
    def test_a_first_load_and_a_reload_run_as_many_statements_for_6_models_as_for_160(self, tmp_path):
        small, large = _generated(tmp_path / "small", 6), _generated(tmp_path / "large", 160)
        first_small, reload_small = _statements(small), _statements(small)
        for model_class in (Mapping, Alias, Model, Family, Provider):  # the large one starts from empty too
            model_class.objects.all().delete()
        first_large, reload_large = _statements(large), _statements(large)
        assert first_large == first_small
        assert reload_large == reload_small < first_small
        assert Mapping.objects.filter(in_registry=True).count() == 160

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="ANALYZE is PostgreSQL's (SQLite plans without)")
    def test_a_load_that_fills_the_tables_brings_their_statistics_up_to_date(self, tmp_path):
        # Planned as empty tables, the list rows' refresh after a first load scanned every offer once per model.
        root = _generated(tmp_path / "r", 160)
        (first,) = _analyzed(root)
        for table in ("catalog_model", "catalog_alias", "catalog_mapping"):
            assert f'"{table}"' in first
        assert '"catalog_provider"' not in first  # two providers: under autovacuum's threshold, left to it
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'catalog_alias'")
            assert cursor.fetchone()[0] == 320
        assert _analyzed(root) == []  # a reload that changes nothing leaves the statistics alone

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="ANALYZE is PostgreSQL's (SQLite plans without)")
    def test_the_coarse_statistics_target_is_the_analyze_steps_alone(self, tmp_path):
        with connection.cursor() as cursor:
            cursor.execute("SHOW default_statistics_target")
            (before,) = cursor.fetchone()
            with CaptureQueriesContext(connection) as queries:
                registry_load(path=_generated(tmp_path / "r", 160))
            cursor.execute("SHOW default_statistics_target")
            assert cursor.fetchone() == (before,)
        sql = [query["sql"] for query in queries]
        analyze = next(i for i, text in enumerate(sql) if text.startswith("ANALYZE"))
        assert sql[analyze - 1] == "SET LOCAL default_statistics_target TO 10"
        assert sql[analyze + 1] == "SET LOCAL default_statistics_target TO DEFAULT"

    def test_copied_price_records_hold_what_each_offer_shows(self, tmp_path):
        registry_load(path=_generated(tmp_path / "r", 120))
        records = {r.mapping.provider_model_id: r for r in PriceRecord.objects.select_related("mapping")}
        assert len(records) == 120
        record = records["lab/model-0041"]
        assert (record.prices, record.source, record.billing, record.valid_to) == (
            {"price_input": "0.42"},
            "registry",
            "per_token",
            None,
        )
        assert Mapping.objects.get(provider_model_id="lab/model-0041").price_input == Decimal("0.42")

    def test_records_opened_from_the_written_rows_are_what_the_offers_read_back_give(self, tmp_path):
        # The load opens price records from the values it has just written instead of reading 10,000 offers back;
        # opening them again from the database (the read path) must find nothing moved, for every kind of offer in
        # the bundled registry (tiers, billing plans, uplifts, days checked), after a first load and a change.
        root = tmp_path / "registry"
        shutil.copytree(settings.REGISTRY_DIR, root)
        registry_load(path=root)
        ids = set(Mapping.objects.values_list("pk", flat=True))
        priced = Mapping.objects.filter(Q(price_input__isnull=False) | Q(price_per_request__isnull=False)).count()
        assert PriceRecord.objects.count() >= priced > 1000
        assert offers_open_price_records(mapping_ids=ids) == 0
        path = next(p for p in sorted(root.rglob("*.yaml")) if "    input: " in p.read_text())
        text = path.read_text()
        line = next(x for x in text.splitlines() if x.startswith("    input: "))
        path.write_text(text.replace(line, "    input: 123.45", 1))
        records = PriceRecord.objects.count()
        registry_load(path=root)
        assert PriceRecord.objects.count() == records + 1
        assert PriceRecord.objects.filter(prices__price_input="123.45", valid_to__isnull=True).count() == 1
        assert offers_open_price_records(mapping_ids=ids) == 0

    def test_new_rows_take_their_ids_from_the_sequence_that_later_inserts_use(self, tmp_path):
        # New rows are COPied with ids drawn beforehand: the pks the load returns are the rows' own, and a row
        # created afterwards (an admin save) gets the next id instead of colliding with one the load took.
        root = _generated(tmp_path / "r", 120)
        with CaptureQueriesContext(connection) as queries:
            registry_load(path=root)
        assert not any("mg_upsert" in query["sql"] for query in queries)  # no temporary table on a first load
        model = Model.objects.get(slug="model-0007")
        assert {a.alias for a in model.aliases.all()} == {"lab/model-0007-v1", "lab/model-0007-v2"}
        extra = Alias.objects.create(alias="lab/extra", model=model)
        assert extra.pk > max(Alias.objects.exclude(pk=extra.pk).values_list("pk", flat=True))
        path = root / "models" / "lab" / "model-0007.yaml"
        path.write_text(path.read_text().replace("name: Model 7", "name: Model Seven"))
        registry_load(path=root)  # a changed row goes through the upsert
        assert Model.objects.get(pk=model.pk).name == "Model Seven"

    def test_ids_in_selects_what_pk_in_selects_for_long_and_short_lists(self, tmp_path):
        registry_load(path=_generated(tmp_path / "r", 150))
        ids = sorted(Mapping.objects.values_list("pk", flat=True))
        for chosen in (ids[::3], ids[:3], []):
            via_array = sorted(Mapping.objects.filter(bulk.ids_in(chosen)).values_list("pk", flat=True))
            assert via_array == sorted(Mapping.objects.filter(pk__in=chosen).values_list("pk", flat=True)) == chosen


class TestIdentityShortcuts:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("us.anthropic.claude-3-5-sonnet-20240620-v1:0", {"versions": {"3.5"}, "stamps": {"20240620"}}),
            ("command-r-08-2024", {"stamps": {"202408"}, "words": {"command", "r"}}),
            ("accounts/fireworks/models/llama-v3p1-70b-instruct", {"versions": {"3.1"}, "sizes": {"70b"}}),
            ("mistral-small-fp-16", {"serving": {"fp16"}, "variants": {"small"}}),
            ("gemini-2.5-flash-preview-05-20", {"stamps": {"0520"}, "versions": {"2.5"}}),
            ("Llama-3_3-Nemotron-Super-49B", {"versions": {"3.3"}, "sizes": {"49b"}}),
            ("qwen/qwen3-coder:free", {"versions": {"3"}, "variants": {"code"}}),
            ("claude-3-7-sonnet@20250219", {"versions": {"3.7"}, "stamps": {"20250219"}}),
            ("gemma@default", {"words": {"gemma"}, "stamps": set()}),
        ],
    )
    def test_each_rewrite_still_applies_where_its_characters_appear(self, name, expected):
        found = identity(name)
        assert {bucket: set(getattr(found, bucket)) for bucket in expected} == expected

    def test_names_sharing_tokens_keep_their_own_tokens(self):
        # The per-token memo is shared: `-v2` of one alias must not leak into another name's buckets.
        assert identity("lab/model-0001-v2").versions == frozenset({"2"})
        assert identity("lab/model-0001").versions == frozenset()
        assert identity("lab/model-0001-v2").stamps == frozenset({"0001"})


class TestRowsBuiltWhileParsing:
    def test_validation_hands_over_each_valid_file_in_the_registrys_order(self, registry_dir):
        _write(registry_dir, "models/meta/broken.yaml", "slug: [unclosed\n")
        handed: list[str] = []
        report = validate_registry(registry_dir, on_valid_file=lambda file: handed.append(file.relative))
        assert handed == [file.relative for file in report.files if file.valid]
        assert "models/meta/broken.yaml" not in handed and len(handed) == len(report.files) - 1

    def test_a_file_that_cannot_become_rows_fails_only_when_its_rows_are_asked_for(self, tmp_path):
        from registry.desired_rows import DesiredRows
        from registry.validation import RegistryFile

        desired = DesiredRows()
        odd = RegistryFile(kind="model", path=tmp_path / "x.yaml", relative="models/x/x.yaml")  # no document: no slug
        desired.add(odd)  # validation goes on to report every problem
        with pytest.raises(KeyError):
            _ = desired.rows
