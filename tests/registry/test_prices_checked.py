"""`prices_checked` in the registry: the day a file's (or one offer's) prices were last checked against their source;
loaded as the offer's `prices_checked` (never moving a later confirmation back), exported as written, refused when
it is not a day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from catalog.models import Mapping, PriceRecord
from registry.exporting import registry_export
from registry.loading import RegistryInvalid, registry_load

pytestmark = pytest.mark.django_db

DATED = """\
model: gpt-4o
prices_checked: '2026-07-02'
offers:
- provider_model_id: gpt-4o
  pricing:
    input: 2.5
    output: 10.0
- provider_model_id: gpt-4o-2024-08-06
  prices_checked: '2026-08-19'
  pricing:
    input: 2.5
    output: 10.0
"""


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.fixture
def dated(registry_dir: Path) -> Path:
    (registry_dir / "mappings" / "openai" / "gpt-4o.yaml").write_text(DATED)
    return registry_dir


def checked(provider_model_id: str) -> dt.datetime | None:
    return Mapping.objects.get(provider__slug="openai", provider_model_id=provider_model_id).prices_checked


class TestPricesChecked:
    def test_the_file_day_and_an_offer_own_day(self, dated):
        registry_load(path=dated)
        assert checked("gpt-4o") == day("2026-07-02")
        assert checked("gpt-4o-2024-08-06") == day("2026-08-19")
        first = PriceRecord.objects.get(mapping__provider_model_id="gpt-4o", mapping__provider__slug="openai")
        assert (first.valid_from, first.valid_to, first.source) == (day("2026-07-02"), None, "registry")

    def test_a_later_confirmation_by_a_source_is_never_moved_back(self, dated):
        registry_load(path=dated)
        later = day("2026-11-30")
        Mapping.objects.filter(provider_model_id="gpt-4o").update(prices_checked=later)
        assert registry_load(path=dated).rows_written == 0
        assert checked("gpt-4o") == later

    def test_a_newer_registry_day_moves_it_forward(self, dated):
        registry_load(path=dated)
        path = dated / "mappings" / "openai" / "gpt-4o.yaml"
        path.write_text(DATED.replace("'2026-07-02'", "'2026-12-01'"))
        assert registry_load(path=dated).counts["mappings"].updated == 1
        assert checked("gpt-4o") == day("2026-12-01")

    def test_export_writes_the_days_back_and_loading_it_changes_nothing(self, dated, tmp_path):
        registry_load(path=dated)
        out = tmp_path / "export"
        registry_export(out_dir=out)
        document = yaml.safe_load((out / "mappings" / "openai" / "gpt-4o.yaml").read_text())
        days = {offer["provider_model_id"]: offer.get("prices_checked") for offer in document["offers"]}
        assert days == {"gpt-4o": "2026-07-02", "gpt-4o-2024-08-06": "2026-08-19"}
        mini = yaml.safe_load((out / "mappings" / "openai" / "gpt-4o-mini.yaml").read_text())
        assert "prices_checked" not in mini  # the small registry dates none of its other files
        assert registry_load(path=out).rows_written == 0

    def test_one_day_shared_by_every_offer_is_written_once(self, registry_dir, tmp_path):
        path = registry_dir / "mappings" / "openai" / "gpt-4o.yaml"
        path.write_text(DATED.replace("  prices_checked: '2026-08-19'\n", ""))
        registry_load(path=registry_dir)
        registry_export(out_dir=tmp_path / "export")
        text = (tmp_path / "export" / "mappings" / "openai" / "gpt-4o.yaml").read_text()
        assert text.startswith("model: gpt-4o\nprices_checked: '2026-07-02'\noffers:\n") and text.count("2026-07") == 1

    @pytest.mark.parametrize("value", ["'2026-13-01'", "'yesterday'", "20260702"])
    def test_not_a_day_is_refused_naming_file_and_line(self, dated, value):
        path = dated / "mappings" / "openai" / "gpt-4o.yaml"
        path.write_text(DATED.replace("'2026-08-19'", value))
        with pytest.raises(RegistryInvalid) as refused:
            registry_load(path=dated)
        problems = [str(problem) for problem in refused.value.report.problems]
        assert problems and all(
            p.startswith("mappings/openai/gpt-4o.yaml:9: offers[1].prices_checked") for p in problems
        )
        assert not Mapping.objects.exists()
