"""Writing the lifecycle facts a deprecations.info file states into a registry directory, each at its scope.

The same scope rules as ingestion (ingestion.lifecycle): a creator's notice naming the model sets the model's status,
dates and successor; a creator's notice naming a dated snapshot sets that alias (and the creator's offer with that
id); a platform's notice sets that platform's offer. Only gaps are filled: a value a file already states is a
curator's word and is kept, so a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from catalog.naming import normalise_name
from ingestion.lifecycle import MODEL, OFFER, SNAPSHOT, lifecycle_of, notice_scope, offer_key
from ingestion.sources.deprecations import DeprecationsAdapter
from registry.writer import dump_yaml
from registry.yamlsafe import parse_text

MODEL_LIFECYCLE = ("status", "deprecation_date", "sunset_date", "successor")


@dataclass
class ImportResult:
    counts: Counter = field(default_factory=Counter)  # models / offers / aliases written, notices per scope
    skipped: list[str] = field(default_factory=list)
    files_written: list[str] = field(default_factory=list)


@dataclass
class _Registry:
    """The registry's model and mapping files, read once, with the name indexes a notice is matched by."""

    root: Path
    models: dict[str, tuple[Path, dict]] = field(default_factory=dict)  # slug → (file, document)
    names: dict[str, str] = field(default_factory=dict)  # lower-case slug or alias → slug
    loose: dict[str, str | None] = field(default_factory=dict)  # normalised name → slug (None: ambiguous)
    offers: dict[tuple[str, str], list[tuple[Path, dict, dict]]] = field(default_factory=dict)
    dirty: set[Path] = field(default_factory=set)
    documents: dict[Path, dict] = field(default_factory=dict)

    @classmethod
    def read(cls, root: Path) -> _Registry:
        registry = cls(root=root)
        for path in sorted((root / "models").glob("*/*.yaml")):
            doc = registry._load(path)
            registry.models[doc["slug"]] = (path, doc)
            for name in (doc["slug"], *(_alias_name(a) for a in doc.get("aliases", []))):
                registry.names.setdefault(name.lower(), doc["slug"])
                key = normalise_name(name)
                if key:
                    known = registry.loose.get(key, doc["slug"])
                    registry.loose[key] = doc["slug"] if known == doc["slug"] else None
        for path in sorted((root / "mappings").glob("*/*.yaml")):
            doc = registry._load(path)
            for offer in doc.get("offers", []):
                at = (path.parent.name, offer_key(offer["provider_model_id"]))
                registry.offers.setdefault(at, []).append((path, doc, offer))
        return registry

    def _load(self, path: Path) -> dict:
        data = parse_text(path.read_text(encoding="utf-8")).data  # dates stay strings
        self.documents[path] = data if isinstance(data, dict) else {}
        return self.documents[path]

    def match(self, name: str) -> str | None:
        return self.names.get(name.lower()) or self.loose.get(normalise_name(name))

    def successor_closes_loop(self, slug: str, target: str) -> bool:
        seen: set[str] = {slug}
        current: str | None = target
        while current is not None:
            if current in seen:
                return True
            seen.add(current)
            current = self.models[current][1].get("successor") if current in self.models else None
        return False

    def write(self) -> list[str]:
        for path in sorted(self.dirty):
            path.write_text(dump_yaml(self.documents[path]), encoding="utf-8")
        return [str(path.relative_to(self.root)) for path in sorted(self.dirty)]


def _alias_name(entry) -> str:
    return entry if isinstance(entry, str) else entry["alias"]


def _fill(target: dict, values: dict) -> bool:
    """Set what the target leaves open: missing keys, and a status that does not yet say the row ends."""
    if "status" in values and target.get("status", "active") in ("active", "preview"):
        target.pop("status", None)
    wrote = False
    for key, value in values.items():
        if value is not None and key not in target:
            target[key] = value
            wrote = True
    return wrote


def notices_from_file(path: Path) -> list:
    """The file's notices as the deprecations source reads them (one record per model id)."""
    body = json.loads(Path(path).read_text(encoding="utf-8"))
    return DeprecationsAdapter().parse(body, None, None).observations


def registry_import_deprecations(
    *, notices_file: Path, registry_dir: Path, today: dt.date | None = None
) -> ImportResult:
    """Write each notice's lifecycle facts into the registry at registry_dir at the scope it names."""
    today = today or dt.date.today()
    registry = _Registry.read(Path(registry_dir))
    result = ImportResult()
    notices = notices_from_file(notices_file)
    retiring = {(n.provider, offer_key(n.external_id)) for n in notices if lifecycle_of(n.fields, today)}
    live_ids: dict[tuple[str, str], set[str]] = {}  # (model, provider) → ids still served (see notice_scope)
    for (provider, key), entries in registry.offers.items():
        for _path, doc, offer in entries:
            if offer.get("status", "active") in ("active", "preview") and (provider, key) not in retiring:
                live_ids.setdefault((doc["model"], provider), set()).add(key)
    for notice in notices:
        slug = registry.match(notice.external_id)
        document = registry.models[slug][1] if slug else None
        creator = document.get("creator") if document else None
        scope = notice_scope(
            notice_id=notice.external_id,
            notice_provider=notice.provider,
            model_slug=slug,
            creator=creator,
            line_continues=bool(slug and live_ids.get((slug, creator or ""))),
        )
        result.counts[f"notices ({scope})"] += 1
        lifecycle = lifecycle_of(notice.fields, today)
        if lifecycle is None:
            result.skipped.append(f"{notice.provider} {notice.external_id}: no shutdown date (not a retirement)")
            continue
        status, day = lifecycle[0], lifecycle[1].isoformat()
        # Whatever the scope, the notice's own provider retires its own offer by that id (the creator's API too).
        for path, _doc, offer in registry.offers.get((notice.provider or "", offer_key(notice.external_id)), []):
            if _fill(offer, {"status": status, "retirement_date": day}):
                registry.dirty.add(path)
                result.counts["offers"] += 1
        if scope == MODEL and slug is not None:
            _model_notice(registry, slug, notice.fields, lifecycle, result)
            continue
        if scope == OFFER:
            if (notice.provider or "", offer_key(notice.external_id)) not in registry.offers:
                result.skipped.append(
                    f"{notice.provider} {notice.external_id}: no offer of {notice.provider} by that id"
                )
            continue
        if scope == SNAPSHOT and slug is not None:
            _snapshot_notice(registry, slug, notice, {"status": status, "retirement_date": day}, result)
    _creator_retired_every_id(registry, result)
    result.files_written = registry.write()
    return result


def _creator_retired_every_id(registry: _Registry, result: ImportResult) -> None:
    """A creator that retires every id it serves a model under (Anthropic's two claude-3-5-sonnet snapshots) has
    said the model ends: the model is deprecated, its sunset the last of those retirements (gaps filled only)."""
    own: dict[str, list[dict]] = {}
    for (provider, _key), entries in registry.offers.items():
        for _path, doc, offer in entries:
            model = registry.models.get(doc["model"])
            if model is not None and model[1].get("creator") == provider:
                own.setdefault(doc["model"], []).append(offer)
    for slug, offers in sorted(own.items()):
        if all(o.get("status") in ("deprecated", "retired") and o.get("retirement_date") for o in offers):
            path, document = registry.models[slug]
            sunset = max(str(o["retirement_date"]) for o in offers)
            if _fill(document, {"status": "deprecated", "sunset_date": sunset}):
                registry.dirty.add(path)
                result.counts["models (every creator id retired)"] += 1


def _model_notice(registry: _Registry, slug: str, fields: dict, lifecycle: tuple, result: ImportResult) -> None:
    path, document = registry.models[slug]
    values = {
        # Deprecated, never "retired": the model is shown retired only when no offer of it is served any more.
        "status": "deprecated",
        "deprecation_date": fields.get("deprecation_date"),
        "sunset_date": fields.get("sunset_date"),
    }
    successor = registry.match(fields["successor"]) if fields.get("successor") else None
    if successor and successor != slug and not registry.successor_closes_loop(slug, successor):
        values["successor"] = successor
    elif fields.get("successor"):
        result.skipped.append(f"{slug}: successor {fields['successor']!r} not written (unknown, itself or a loop)")
    if values["deprecation_date"] and values["sunset_date"] and values["sunset_date"] < values["deprecation_date"]:
        values["deprecation_date"] = None
    if _fill(document, values):
        registry.dirty.add(path)
        result.counts["models"] += 1


def _snapshot_notice(registry: _Registry, slug: str, notice, values: dict, result: ImportResult) -> None:
    path, document = registry.models[slug]
    if notice.external_id.lower() == slug.lower():
        # The model's own name retired while the creator serves the line on under other ids: no alias to carry it.
        result.skipped.append(f"{notice.provider} {notice.external_id}: the name retires, the model lives on")
        return
    aliases = document.get("aliases", [])
    for index, entry in enumerate(aliases):
        if _alias_name(entry).lower() == notice.external_id.lower():
            entry = {"alias": entry} if isinstance(entry, str) else entry
            if _fill(entry, values):
                aliases[index] = entry
                registry.dirty.add(path)
                result.counts["aliases"] += 1
            return
    owner = registry.names.get(notice.external_id.lower())
    if owner is not None and owner != slug:
        result.skipped.append(f"{notice.external_id}: already a name of {owner}")
        return
    document["aliases"] = [*aliases, {"alias": notice.external_id, "provider": notice.provider, **values}]
    registry.names[notice.external_id.lower()] = slug
    registry.dirty.add(path)
    result.counts["aliases"] += 1
