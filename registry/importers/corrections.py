"""Curated corrections to the imported registry (merges, moved offers, splits, facts), read from corrections.yaml.

The importer applies them after building, and `manage.py registry_corrections` applies the same file to a registry
directory in place, so a re-import and the bundled registry carry the same fixes. Every entry states why and the
source that says so; applying a file twice changes nothing the second time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from catalog.models import MODEL_FACT_FIELDS
from registry.writer import RegistryDocuments
from registry.yamlsafe import ParsedDocument, RegistryFileError, decode, parse_text, read_regular_file

CORRECTIONS_FILE = Path(__file__).with_name("corrections.yaml")
MAX_BYTES = 4 * 1024 * 1024
# Each kind: its keys, required then optional. Every entry also needs `why` and `source`.
KINDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "merge": (frozenset({"merge", "into"}), frozenset({"drop_aliases"})),
    "rename": (frozenset({"rename", "to"}), frozenset()),
    "move_offer": (frozenset({"move_offer", "provider", "to"}), frozenset()),
    "split": (frozenset({"split", "model"}), frozenset({"from", "offers", "aliases"})),
    "facts": (frozenset({"facts"}), frozenset({"set", "unset", "drop_aliases"})),
    "offer": (frozenset({"offer", "provider"}), frozenset({"set", "unset"})),
    "drop_reason": (frozenset({"drop_reason", "match"}), frozenset({"count"})),
}
_COMMON = frozenset({"why", "source"})
MODEL_FACTS = frozenset({*MODEL_FACT_FIELDS, "creator", "family"})
OFFER_FACTS = frozenset({"status", "pricing", "context_window", "max_output", "quantization"})


class CorrectionError(Exception):
    """A correction that is malformed or cannot apply; the message names the file, line and entry."""


@dataclass
class Correction:
    kind: str
    data: dict
    index: int
    line: int | None
    path: Path

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line or '?'}: entry {self.index} ({self.kind} {self.data[self.kind]!r})"

    def fail(self, message: str) -> CorrectionError:
        return CorrectionError(f"{self.where}: {message}")


@dataclass
class Corrections:
    entries: list[Correction] = field(default_factory=list)

    def of_kind(self, *kinds: str) -> list[Correction]:
        return [entry for entry in self.entries if entry.kind in kinds]

    def drop_class(self, provider: str, model_id: str) -> str | None:
        """The drop_reason whose pattern names this provider listing ("provider/id"), if any."""
        listing = f"{provider}/{model_id}"
        for entry in self.of_kind("drop_reason"):
            if re.search(entry.data["match"], listing):
                return entry.data["drop_reason"]
        return None

    def listing_targets(self) -> dict[tuple[str, str], str]:
        """(provider, provider_model_id) -> model slug for every listing a correction assigns to a model."""
        targets = {(e.data["provider"], e.data["move_offer"]): e.data["to"] for e in self.of_kind("move_offer")}
        for entry in self.of_kind("split"):
            for offer in entry.data.get("offers", []):
                targets[(offer["provider"], offer["provider_model_id"])] = entry.data["split"]
        return targets


def _check_entry(entry: Correction) -> None:
    required, optional = KINDS[entry.kind]
    keys = set(entry.data)
    if missing := sorted((required | _COMMON) - keys):
        raise entry.fail(f"missing {', '.join(missing)}")
    if unknown := sorted(keys - required - optional - _COMMON):
        raise entry.fail(f"unknown key(s) {', '.join(unknown)}")
    if not isinstance(entry.data["why"], str) or not entry.data["why"].strip():
        raise entry.fail("why must be a sentence")
    if entry.kind in ("facts", "offer"):
        allowed = MODEL_FACTS if entry.kind == "facts" else OFFER_FACTS
        changes = set(entry.data.get("set", {})) | set(entry.data.get("unset", []))
        if not changes and not entry.data.get("drop_aliases"):
            raise entry.fail("set or unset names no field")
        if bad := sorted(changes - allowed):
            raise entry.fail(f"not a correctable field: {', '.join(bad)}")
    if entry.kind == "split":
        if not isinstance(entry.data["model"], dict) or "name" not in entry.data["model"]:
            raise entry.fail("model must give at least a name")
        if bad := sorted(set(entry.data["model"]) - MODEL_FACTS):
            raise entry.fail(f"not a model field: {', '.join(bad)}")
        for offer in entry.data.get("offers", []):
            if not isinstance(offer, dict) or set(offer) != {"provider", "provider_model_id"}:
                raise entry.fail("each offer is {provider, provider_model_id}")
    if entry.kind == "drop_reason":
        try:
            re.compile(entry.data["match"])
        except re.error as exc:
            raise entry.fail(f"match is not a regular expression: {exc}") from None


def load_corrections(path: Path = CORRECTIONS_FILE) -> Corrections:
    """Read and check a corrections file: a mapping with one list, `corrections`, of entries."""
    path = Path(path)
    try:
        parsed: ParsedDocument = parse_text(decode(read_regular_file(path, MAX_BYTES)), track_lines=True, path=path)
    except RegistryFileError as exc:
        raise CorrectionError(f"{path}:{exc.line or '?'}: {exc.message}") from None
    if not isinstance(parsed.data, dict) or not isinstance(parsed.data.get("corrections"), list):
        raise CorrectionError(f"{path}:1: expected a mapping with a list `corrections`")
    corrections = Corrections()
    for index, data in enumerate(parsed.data["corrections"]):
        line = parsed.line_of(["corrections", index])
        kinds = [kind for kind in KINDS if isinstance(data, dict) and kind in data]
        if len(kinds) != 1:
            raise CorrectionError(
                f"{path}:{line or '?'}: entry {index}: names {len(kinds)} kinds, not one of {list(KINDS)}"
            )
        entry = Correction(kinds[0], data, index, line, path)
        _check_entry(entry)
        corrections.entries.append(entry)
    return corrections


def _alias_name(alias) -> str:
    return alias if isinstance(alias, str) else alias["alias"]


class RegistryIndex:
    """Indexes over RegistryDocuments that the corrections edit in place.

    strict: a correction naming a model the registry lacks is an error (a registry directory the file was written
    for); otherwise it is skipped and logged (a re-import of other inputs may not make every model).
    """

    def __init__(self, documents: RegistryDocuments, *, strict: bool, log: list[str]):
        self.documents = documents
        self.models = {model["slug"]: model for model in documents.models}
        self.strict = strict
        self.log = log

    def model(self, slug: str, entry: Correction) -> dict | None:
        if slug not in self.models:
            if self.strict:
                raise entry.fail(f"no model {slug!r} in the registry")
            self.log.append(f"skipped {entry.kind} {entry.data[entry.kind]!r}: no model {slug!r}")
            return None
        return self.models[slug]

    def add_aliases(self, model: dict, aliases: list) -> None:
        """Add aliases, a name once only: a model-wide alias replaces a provider-scoped one of the same name."""
        current = {_alias_name(a): a for a in model.get("aliases", [])}
        for alias in aliases:
            name = _alias_name(alias)
            if name == model["slug"] or name in self.models:
                continue
            held = current.get(name)
            if held is None or isinstance(alias, str):
                current[name] = alias
            elif isinstance(held, dict) and held.get("provider") != alias.get("provider"):
                current[name] = name  # two providers use the name: it is the model's everywhere
        if current:
            model["aliases"] = sorted(
                current.values(), key=lambda a: (a, "") if isinstance(a, str) else (a["alias"], "~")
            )

    def take_aliases(self, model: dict, names: set[str]) -> list:
        taken = [a for a in model.get("aliases", []) if _alias_name(a) in names]
        kept = [a for a in model.get("aliases", []) if _alias_name(a) not in names]
        if kept:
            model["aliases"] = kept
        else:
            model.pop("aliases", None)
        return taken

    def add_offer(self, provider: str, slug: str, offer: dict) -> None:
        mapping = self.documents.mappings.setdefault((provider, slug), {"model": slug, "offers": []})
        if offer["provider_model_id"] not in {o["provider_model_id"] for o in mapping["offers"]}:
            mapping["offers"].append(offer)
            mapping["offers"].sort(key=lambda o: o["provider_model_id"])

    def find_offer(self, provider: str, model_id: str) -> tuple[str, dict] | None:
        for (owner, slug), mapping in self.documents.mappings.items():
            if owner == provider:
                for offer in mapping["offers"]:
                    if offer["provider_model_id"] == model_id:
                        return slug, offer
        return None

    def remove_offer(self, provider: str, slug: str, model_id: str) -> None:
        mapping = self.documents.mappings[(provider, slug)]
        mapping["offers"] = [o for o in mapping["offers"] if o["provider_model_id"] != model_id]
        if not mapping["offers"]:
            del self.documents.mappings[(provider, slug)]

    def served_ids(self, slug: str) -> set[str]:
        return {
            o["provider_model_id"] for (_, s), m in self.documents.mappings.items() if s == slug for o in m["offers"]
        }

    def finish(self) -> None:
        self.documents.models = sorted(self.models.values(), key=lambda m: m["slug"])
        self.documents.mappings = dict(sorted(self.documents.mappings.items()))
