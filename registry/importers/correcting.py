"""Applying curated corrections to registry documents, and to a registry directory in place."""

from __future__ import annotations

import tomllib
from pathlib import Path

from registry.importers.corrections import (
    CORRECTIONS_FILE,
    MODEL_FACTS,
    Correction,
    Corrections,
    RegistryIndex,
    load_corrections,
)
from registry.importers.facts import LAB_NAMES, family_name, majority_facts, model_facts, offer_document
from registry.writer import MODEL_ORDER, RegistryDocuments, dump_yaml, mapping_path, model_path, provider_path
from registry.yamlsafe import decode, parse_text, read_regular_file

OFFER_ORDER = ("provider_model_id", "status", "pricing", "context_window", "max_output", "quantization", "delivery")
PRICE_ORDER = ("input", "output", "cached_input", "cache_write")
# (provider, provider_model_id) -> that provider's models.dev record, for listings the importer left out.
Listings = dict[tuple[str, str], dict]


def _alias(alias) -> str:
    return alias if isinstance(alias, str) else alias["alias"]


def _ordered(document: dict, order: tuple[str, ...]) -> dict:
    return {**{k: document[k] for k in order if k in document}, **{k: v for k, v in document.items() if k not in order}}


def _merge(registry: RegistryIndex, entry: Correction, log: list[str]) -> None:
    old, kept_slug = entry.data["merge"], entry.data["into"]
    kept = registry.model(kept_slug, entry)
    if kept is None:
        return
    if old not in registry.models:
        if old not in {_alias(a) for a in kept.get("aliases", [])}:
            if registry.strict:
                raise entry.fail(f"no model {old!r}, and {kept_slug} has no alias {old!r}")
            log.append(f"skipped merge of {old}: no such model (the import did not make it)")
        return  # merged before
    duplicate = registry.models.pop(old)
    for (provider, slug), mapping in list(registry.documents.mappings.items()):
        if slug == old:
            del registry.documents.mappings[(provider, slug)]
            for offer in mapping["offers"]:
                registry.add_offer(provider, kept_slug, offer)
    # An alias the duplicate carried for another model (mistral-small-2409 on the -latest pointer) is not kept.
    dropped = set(entry.data.get("drop_aliases", []))
    registry.add_aliases(kept, [old, *(a for a in duplicate.get("aliases", []) if _alias(a) not in dropped)])
    for model in registry.models.values():
        if model.get("successor") == old:
            model["successor"] = kept_slug
    log.append(f"merged {old} into {kept_slug}")


def _rename(registry: RegistryIndex, entry: Correction, log: list[str]) -> None:
    """A model under a better slug: the same document and offers; the old slug becomes an alias."""
    old, new = entry.data["rename"], entry.data["to"]
    if new in registry.models and old not in registry.models:
        return  # renamed before
    model = registry.model(old, entry)
    if model is None:
        return
    if new in registry.models:
        raise entry.fail(f"{new!r} is already a model: merge instead")
    registry.models[new] = _ordered({**model, "slug": new, "aliases": []}, MODEL_ORDER)
    _merge(registry, Correction("merge", {"merge": old, "into": new}, entry.index, entry.line, entry.path), log)
    log[-1] = f"renamed {old} to {new}"


def _move(
    registry: RegistryIndex,
    entry: Correction,
    provider: str,
    model_id: str,
    to: str,
    listings: Listings | None,
    log: list[str],
) -> None:
    target = registry.model(to, entry)
    if target is None:
        return
    found = registry.find_offer(provider, model_id)
    if found and found[0] == to:
        return
    if found:
        old_slug, offer = found
        registry.remove_offer(provider, old_slug, model_id)
        old = registry.models[old_slug]
        # The id as an alias goes with the offer; only this provider's use of it when others still serve the old
        # model under that id.
        if model_id in registry.served_ids(old_slug):
            moved = [
                a
                for a in old.get("aliases", [])
                if isinstance(a, dict) and a == {"alias": model_id, "provider": provider}
            ]
            old["aliases"] = [a for a in old.get("aliases", []) if a not in moved]
            if not old["aliases"]:
                del old["aliases"]
        else:
            moved = registry.take_aliases(old, {model_id})
        registry.add_aliases(target, moved)
        log.append(f"moved {provider} {model_id} from {old_slug} to {to}")
    elif listings is not None and (provider, model_id) in listings:
        offer = offer_document(model_id, listings[(provider, model_id)])
        registry.add_aliases(target, [{"alias": model_id, "provider": provider}])
        log.append(f"added {provider} {model_id} to {to} (a listing the importer left out)")
    else:
        if registry.strict and listings is not None:
            raise entry.fail(f"{provider} lists no {model_id!r}")
        hint = " (give the models.dev checkout to add it)" if listings is None else ""
        log.append(f"skipped {provider} {model_id}: neither in the registry nor a listing left out{hint}")
        return
    registry.add_offer(provider, to, _ordered(offer, OFFER_ORDER))


def _split(registry: RegistryIndex, entry: Correction, listings: Listings | None, log: list[str]) -> None:
    slug = entry.data["split"]
    if slug not in registry.models:
        if "from" in entry.data and registry.model(entry.data["from"], entry) is None:
            return
        offers = [(o["provider"], o["provider_model_id"]) for o in entry.data.get("offers", [])]
        if "from" not in entry.data and not any(
            registry.find_offer(*o) or (listings and o in listings) for o in offers
        ):
            log.append(f"skipped split {slug}: none of its offers is in the registry or among the listings left out")
            return
        # A model made from listings the importer left out takes their majority facts; the entry's facts win.
        sources = [
            listings[(o["provider"], o["provider_model_id"])]
            for o in entry.data.get("offers", [])
            if listings and (o["provider"], o["provider_model_id"]) in listings
        ]
        facts = majority_facts([model_facts(data, slug) for data in sources]) if sources else {}
        facts = {k: v for k, v in facts.items() if k in MODEL_FACTS and k != "name"}
        registry.models[slug] = _ordered({"slug": slug, **facts, **entry.data["model"]}, MODEL_ORDER)
        log.append(f"split {slug} from {entry.data.get('from', 'the dropped listings')}")
    model = registry.models[slug]
    for offer in entry.data.get("offers", []):
        _move(registry, entry, offer["provider"], offer["provider_model_id"], slug, listings, log)
    aliases = entry.data.get("aliases", [])
    names = {_alias(a) for a in aliases}
    for other in registry.models.values():  # the split model claims its names from whichever model held them
        if other is not model and names & {_alias(a) for a in other.get("aliases", [])}:
            registry.take_aliases(other, names)
    registry.add_aliases(model, aliases)


def _set_fields(document: dict, entry: Correction) -> bool:
    before = dict(document)
    for key in entry.data.get("unset", []):
        document.pop(key, None)
    for key, value in entry.data.get("set", {}).items():
        if key == "pricing":
            value = {k: value[k] for k in PRICE_ORDER if k in value}
        document[key] = value
    return document != before


def _facts(registry: RegistryIndex, entry: Correction, log: list[str]) -> None:
    slug = entry.data["facts"]
    model = registry.model(slug, entry)
    if model is None:
        return
    if dropped := registry.take_aliases(model, set(entry.data.get("drop_aliases", []))):
        log.append(f"aliases of {slug} dropped: {', '.join(map(_alias, dropped))}")
    if _set_fields(model, entry):
        registry.models[slug] = _ordered(model, MODEL_ORDER)
        log.append(f"facts of {slug}: {', '.join([*entry.data.get('set', {}), *entry.data.get('unset', [])])}")


def _offer(registry: RegistryIndex, entry: Correction, log: list[str]) -> None:
    provider, model_id = entry.data["provider"], entry.data["offer"]
    found = registry.find_offer(provider, model_id)
    if not found:
        if registry.strict:
            raise entry.fail(f"no offer {model_id!r} at {provider}")
        log.append(f"skipped offer {provider} {model_id}: not in the registry")
        return
    slug, offer = found
    if _set_fields(offer, entry):
        mapping = registry.documents.mappings[(provider, slug)]
        mapping["offers"] = [_ordered(o, OFFER_ORDER) for o in mapping["offers"]]
        log.append(
            f"offer {provider} {model_id}: {', '.join([*entry.data.get('set', {}), *entry.data.get('unset', [])])}"
        )


def apply_corrections(
    documents: RegistryDocuments, corrections: Corrections, listings: Listings | None = None, *, strict: bool = True
) -> list[str]:
    """Apply every correction in file order; returns what changed (empty when everything was applied before).

    Not strict (a re-import): corrections naming models the import did not make are skipped and logged."""
    log: list[str] = []
    registry = RegistryIndex(documents, strict=strict, log=log)
    for entry in corrections.entries:
        if entry.kind == "merge":
            _merge(registry, entry, log)
        elif entry.kind == "rename":
            _rename(registry, entry, log)
        elif entry.kind == "move_offer":
            _move(registry, entry, entry.data["provider"], entry.data["move_offer"], entry.data["to"], listings, log)
        elif entry.kind == "split":
            _split(registry, entry, listings, log)
        elif entry.kind == "facts":
            _facts(registry, entry, log)
        elif entry.kind == "offer":
            _offer(registry, entry, log)
    registry.finish()
    return log


def _read(path: Path) -> dict:
    return parse_text(decode(read_regular_file(path, 16 * 1024 * 1024)), path=path).data  # type: ignore[return-value]


def registry_read(root: Path) -> RegistryDocuments:
    """Models and mappings of a registry directory (providers and families are not corrected, so not read)."""
    root = Path(root)
    models = [_read(path) for path in sorted((root / "models").glob("*/*.yaml"))]
    mappings = {
        (path.parent.name, document["model"]): document
        for path in sorted((root / "mappings").glob("*/*.yaml"))
        for document in [_read(path)]
    }
    return RegistryDocuments(models=models, mappings=mappings)


def modelsdev_listings(root: Path, targets: dict[tuple[str, str], str]) -> Listings:
    """The models.dev provider records of the listings corrections name (providers/<p>/models/<id>.toml)."""
    listings: Listings = {}
    for provider, model_id in targets:
        path = Path(root) / "providers" / provider / "models" / f"{model_id}.toml"
        if path.is_file():
            with path.open("rb") as handle:
                listings[(provider, model_id)] = tomllib.load(handle)
    return listings


def registry_apply_corrections(
    root: Path, corrections_file: Path = CORRECTIONS_FILE, modelsdev: Path | None = None
) -> list[str]:
    """Apply the corrections file to a registry directory: rewrite the model and mapping files that changed."""
    root = Path(root)
    corrections = load_corrections(corrections_file)
    documents = registry_read(root)
    before_models = {m["slug"]: dump_yaml(m) for m in documents.models}
    before_paths = {m["slug"]: model_path(m) for m in documents.models}
    before_mappings = {key: dump_yaml(m) for key, m in documents.mappings.items()}
    listings = modelsdev_listings(modelsdev, corrections.listing_targets()) if modelsdev else None
    log = apply_corrections(documents, corrections, listings)
    after_models = {m["slug"]: m for m in documents.models}
    for slug in set(before_models) - set(after_models):
        (root / before_paths[slug]).unlink()
    for slug, model in after_models.items():
        text = dump_yaml(model)
        if before_models.get(slug) != text or before_paths.get(slug) != model_path(model):
            if slug in before_paths and before_paths[slug] != model_path(model):
                (root / before_paths[slug]).unlink()
            _write(root / model_path(model), text)
    for key in set(before_mappings) - set(documents.mappings):
        (root / mapping_path(*key)).unlink()
    for key, mapping in documents.mappings.items():
        text = dump_yaml(mapping)
        if before_mappings.get(key) != text:
            _write(root / mapping_path(*key), text)
    log += _add_referenced(root, documents)
    return log


def _add_referenced(root: Path, documents: RegistryDocuments) -> list[str]:
    """Families and labs a corrected model names that the directory does not define yet."""
    log = []
    families_path = root / "families.yaml"
    families = _read(families_path)["families"] if families_path.is_file() else []
    known = {family["slug"] for family in families}
    for slug in sorted({m["family"] for m in documents.models if m.get("family")} - known):
        families.append({"slug": slug, "name": family_name(slug)})
        log.append(f"added family {slug}")
    if len(families) > len(known):
        _write(families_path, dump_yaml({"families": sorted(families, key=lambda f: f["slug"])}))
    for lab in sorted({m["creator"] for m in documents.models if m.get("creator")}):
        path = root / provider_path({"slug": lab})
        if not path.is_file():
            _write(path, dump_yaml({"slug": lab, "name": LAB_NAMES.get(lab) or lab.title(), "kind": "lab"}))
            log.append(f"added lab {lab}")
    return log


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
