"""The corrections machinery (corrections.py, correcting.py) on a crafted registry and on the models.dev fixture."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from registry.importers.correcting import registry_apply_corrections
from registry.importers.corrections import CORRECTIONS_FILE, CorrectionError, load_corrections
from registry.importers.modelsdev import build_registry

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "modelsdev"


def write(root: Path, relative: str, document: dict) -> None:
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    (root / relative).write_text(yaml.safe_dump(document, sort_keys=False))


def read(root: Path, relative: str) -> dict:
    return yaml.safe_load((root / relative).read_text())


@pytest.fixture
def crafted(tmp_path) -> Path:
    root = tmp_path / "registry"
    write(root, "families.yaml", {"families": [{"slug": "acme", "name": "Acme"}]})
    write(root, "providers/acme.yaml", {"slug": "acme", "name": "Acme", "kind": "both"})
    write(root, "providers/host.yaml", {"slug": "host", "name": "Host", "kind": "inference"})
    write(
        root,
        "models/acme/acme-1.yaml",
        {"slug": "acme-1", "name": "Acme 1", "creator": "acme", "aliases": ["acme/one"]},
    )
    write(
        root,
        "models/acme/acme-1-latest.yaml",
        {
            "slug": "acme-1-latest",
            "name": "Acme 1 (pointer)",
            "creator": "acme",
            "aliases": [{"alias": "a1l", "provider": "host"}],
        },
    )
    write(root, "models/acme/acme-2.yaml", {"slug": "acme-2", "name": "Acme 2", "creator": "acme", "family": "acme"})
    write(root, "mappings/acme/acme-1.yaml", {"model": "acme-1", "offers": [{"provider_model_id": "acme-1"}]})
    write(
        root, "mappings/host/acme-1-latest.yaml", {"model": "acme-1-latest", "offers": [{"provider_model_id": "a1l"}]}
    )
    write(
        root,
        "mappings/host/acme-2.yaml",
        {"model": "acme-2", "offers": [{"provider_model_id": "acme-2"}, {"provider_model_id": "acme-1-mini"}]},
    )
    return root


def corrections_file(tmp_path: Path, *entries: dict) -> Path:
    path = tmp_path / "corrections.yaml"
    path.write_text(yaml.safe_dump({"corrections": list(entries)}, sort_keys=False))
    return path


WHY = {"why": "a test", "source": "the test"}


class TestCorrectionsMachinery:
    def test_merge_keeps_the_old_slug_and_its_aliases_and_moves_offers(self, crafted, tmp_path):
        path = corrections_file(tmp_path, {"merge": "acme-1-latest", "into": "acme-1", **WHY})
        assert registry_apply_corrections(crafted, path) == ["merged acme-1-latest into acme-1"]
        assert not (crafted / "models/acme/acme-1-latest.yaml").exists()
        assert read(crafted, "models/acme/acme-1.yaml")["aliases"] == [
            {"alias": "a1l", "provider": "host"},
            "acme-1-latest",
            "acme/one",
        ]
        assert read(crafted, "mappings/host/acme-1.yaml") == {
            "model": "acme-1",
            "offers": [{"provider_model_id": "a1l"}],
        }
        assert not (crafted / "mappings/host/acme-1-latest.yaml").exists()

    def test_move_offer(self, crafted, tmp_path):
        path = corrections_file(tmp_path, {"move_offer": "acme-1-mini", "provider": "host", "to": "acme-1", **WHY})
        registry_apply_corrections(crafted, path)
        assert read(crafted, "mappings/host/acme-1.yaml")["offers"] == [{"provider_model_id": "acme-1-mini"}]
        assert read(crafted, "mappings/host/acme-2.yaml")["offers"] == [{"provider_model_id": "acme-2"}]

    def test_split_makes_a_model_with_its_offers_and_aliases(self, crafted, tmp_path):
        split = {
            "split": "acme-1-mini",
            "from": "acme-2",
            "model": {"name": "Acme 1 Mini", "creator": "acme", "family": "acme-mini"},
            "offers": [{"provider": "host", "provider_model_id": "acme-1-mini"}],
            "aliases": ["acme/one"],
            **WHY,
        }
        registry_apply_corrections(crafted, corrections_file(tmp_path, split))
        model = read(crafted, "models/acme/acme-1-mini.yaml")
        assert (model["name"], model["family"], model["aliases"]) == ("Acme 1 Mini", "acme-mini", ["acme/one"])
        assert "aliases" not in read(crafted, "models/acme/acme-1.yaml")
        assert read(crafted, "mappings/host/acme-1-mini.yaml")["offers"] == [{"provider_model_id": "acme-1-mini"}]
        assert {"slug": "acme-mini", "name": "Acme Mini"} in read(crafted, "families.yaml")["families"]

    def test_rename_moves_document_and_offers_and_keeps_the_old_slug(self, crafted, tmp_path):
        path = corrections_file(tmp_path, {"rename": "acme-2", "to": "acme-2-2501", **WHY})
        assert registry_apply_corrections(crafted, path) == ["renamed acme-2 to acme-2-2501"]
        model = read(crafted, "models/acme/acme-2-2501.yaml")
        assert (model["name"], model["family"], model["aliases"]) == ("Acme 2", "acme", ["acme-2"])
        assert read(crafted, "mappings/host/acme-2-2501.yaml")["model"] == "acme-2-2501"
        assert not (crafted / "mappings/host/acme-2.yaml").exists()
        assert registry_apply_corrections(crafted, path) == []

    def test_facts_set_and_unset(self, crafted, tmp_path):
        facts = {"facts": "acme-2", "set": {"release_date": "2025-01-02"}, "unset": ["family"], **WHY}
        registry_apply_corrections(crafted, corrections_file(tmp_path, facts))
        assert read(crafted, "models/acme/acme-2.yaml") == {
            "slug": "acme-2",
            "name": "Acme 2",
            "creator": "acme",
            "release_date": "2025-01-02",
        }

    def test_applying_twice_changes_nothing_the_second_time(self, crafted, tmp_path):
        path = corrections_file(
            tmp_path,
            {"merge": "acme-1-latest", "into": "acme-1", **WHY},
            {"move_offer": "acme-1-mini", "provider": "host", "to": "acme-1", **WHY},
            {"facts": "acme-1", "set": {"family": "acme"}, **WHY},
        )
        assert len(registry_apply_corrections(crafted, path)) == 3
        before = {p: p.read_bytes() for p in crafted.rglob("*.yaml")}
        assert registry_apply_corrections(crafted, path) == []
        assert {p: p.read_bytes() for p in crafted.rglob("*.yaml")} == before

    def test_a_malformed_entry_names_file_line_and_entry(self, crafted, tmp_path):
        path = tmp_path / "corrections.yaml"
        path.write_text(
            "corrections:\n"
            "- facts: acme-2\n  set: {family: acme}\n  why: fine\n  source: test\n"
            "- merge: acme-1-latest\n  into: acme-1\n  source: test\n"
        )
        with pytest.raises(
            CorrectionError, match=r"corrections\.yaml:6: entry 1 \(merge 'acme-1-latest'\): missing why"
        ):
            load_corrections(path)

    def test_a_correction_naming_a_missing_model_names_file_line_and_entry(self, crafted, tmp_path):
        path = corrections_file(tmp_path, {"merge": "acme-1-latest", "into": "acme-9", **WHY})
        with pytest.raises(
            CorrectionError, match=r"corrections\.yaml:2: entry 0 \(merge 'acme-1-latest'\): no model 'acme-9'"
        ):
            registry_apply_corrections(crafted, path)

    def test_an_unknown_field_is_refused(self, tmp_path):
        path = corrections_file(tmp_path, {"facts": "x", "set": {"colour": "red"}, **WHY})
        with pytest.raises(CorrectionError, match="not a correctable field: colour"):
            load_corrections(path)


class TestImporterAppliesCorrections:
    def test_a_reimport_reproduces_the_fixes(self, tmp_path):
        """The importer applies corrections.yaml: on the models.dev fixture the Mistral Large pointer is merged."""
        raw = build_registry(FIXTURE, corrections_file=None).documents
        fixed = build_registry(FIXTURE, corrections_file=CORRECTIONS_FILE).documents
        assert "mistral-large" in {m["slug"] for m in raw.models}
        slugs = {m["slug"] for m in fixed.models}
        assert "mistral-large" not in slugs and "mistral-large-2512" in slugs
        kept = next(m for m in fixed.models if m["slug"] == "mistral-large-2512")
        assert "mistral-large" in {a if isinstance(a, str) else a["alias"] for a in kept.get("aliases", [])}

    def test_left_out_listings_are_counted_per_class(self):
        stats = build_registry(FIXTURE, corrections_file=CORRECTIONS_FILE).stats
        classes = {k: v for k, v in stats.items() if k.startswith("dropped:")}
        assert sum(classes.values()) == stats["matched_unmatched"]
