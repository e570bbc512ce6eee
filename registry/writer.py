"""Writes registry documents as YAML in the registry layout; shared by the exporter and the importers."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml

from catalog.models import MODEL_FACT_FIELDS

UNKNOWN_CREATOR_DIR = "_unattributed"
# The order of a model file's keys: identity first, then its facts as catalog.models.MODEL_FACT_FIELDS lists them.
MODEL_ORDER = ("slug", "name", "description", "creator", "family", *MODEL_FACT_FIELDS[2:], "aliases")


class _Dumper(yaml.SafeDumper):
    """Block style, no anchors, keys in insertion order."""

    def ignore_aliases(self, data):
        return True


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    # Fixed notation: PyYAML reads "1e-06" back as a string, "0.000001" as a float.
    text = format(value.normalize(), "f")
    if "." not in text:
        text += ".0"
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


def _represent_float(dumper: yaml.SafeDumper, value: float) -> yaml.Node:
    return _represent_decimal(dumper, Decimal(repr(value)))


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(Decimal, _represent_decimal)
_Dumper.add_representer(float, _represent_float)
_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: object) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=120)


@dataclass
class RegistryDocuments:
    """Everything a registry holds, as plain documents in the shape of the JSON Schemas."""

    providers: list[dict] = field(default_factory=list)
    families: list[dict] = field(default_factory=list)
    models: list[dict] = field(default_factory=list)
    # (provider slug, model slug) -> the mapping document {"model": ..., "offers": [...]}
    mappings: dict[tuple[str, str], dict] = field(default_factory=dict)


def model_path(model: dict) -> Path:
    return Path("models") / (model.get("creator") or UNKNOWN_CREATOR_DIR) / f"{model['slug']}.yaml"


def provider_path(provider: dict) -> Path:
    return Path("providers") / f"{provider['slug']}.yaml"


def mapping_path(provider_slug: str, model_slug: str) -> Path:
    return Path("mappings") / provider_slug / f"{model_slug}.yaml"


def write_registry(out_dir: Path, documents: RegistryDocuments, *, clean: bool = True) -> int:
    """Write the documents under out_dir in the registry layout; returns the number of files written."""
    out_dir = Path(out_dir)
    if clean:
        for sub in ("models", "providers", "mappings"):
            shutil.rmtree(out_dir / sub, ignore_errors=True)
        (out_dir / "families.yaml").unlink(missing_ok=True)
    files: dict[Path, object] = {}
    for provider in documents.providers:
        files[provider_path(provider)] = provider
    for model in documents.models:
        files[model_path(model)] = model
    for (provider_slug, model_slug), document in documents.mappings.items():
        files[mapping_path(provider_slug, model_slug)] = document
    if documents.families:
        files[Path("families.yaml")] = {"families": documents.families}
    for relative, document in sorted(files.items()):
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump_yaml(document), encoding="utf-8")
    return len(files)
