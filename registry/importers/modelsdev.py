"""Build the YAML registry from a models.dev checkout, with OpenRouter's model lists as a source of aliases."""

from __future__ import annotations

import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from registry.importers import openrouter
from registry.importers.correcting import apply_corrections
from registry.importers.corrections import CORRECTIONS_FILE, Corrections, load_corrections
from registry.importers.facts import (
    LAB_NAMES,
    clean_name,
    family_name,
    hugging_face_ids,
    model_facts,
    offer_document,
    provider_document,
)
from registry.importers.matching import KeyIndex, ModelRecord, SourceFile, add_served_models, first_party
from registry.importers.normalise import fallback_keys, strict_keys, strip_stamps
from registry.writer import MODEL_ORDER, RegistryDocuments, write_registry

# Providers whose SDK package is not @ai-sdk/openai-compatible but whose API speaks OpenAI's protocol.
OPENAI_COMPATIBLE = frozenset(
    {
        "cerebras",
        "deepinfra",
        "groq",
        "openai",
        "openrouter",
        "perplexity-agent",
        "togetherai",
        "vivgrid",
        "xai",
    }
)


@dataclass
class ImportResult:
    documents: RegistryDocuments
    stats: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _read_toml(path: Path) -> dict:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def load_canonical(root: Path) -> list[SourceFile]:
    """models/<lab>/<model>.toml: the provider-agnostic models."""
    return [SourceFile(p.parent.name, p.stem, _read_toml(p)) for p in sorted((root / "models").glob("*/*.toml"))]


def load_providers(root: Path) -> dict[str, tuple[dict, list[SourceFile]]]:
    """providers/<slug>/provider.toml and its models/**.toml, whose path under models/ is the model id."""
    providers = {}
    for provider_toml in sorted((root / "providers").glob("*/provider.toml")):
        slug = provider_toml.parent.name
        models_dir = provider_toml.parent / "models"
        files = [
            SourceFile(slug, path.relative_to(models_dir).with_suffix("").as_posix(), _read_toml(path))
            for path in sorted(models_dir.rglob("*.toml"))
        ]
        providers[slug] = (_read_toml(provider_toml), files)
    return providers


def group_canonical(files: list[SourceFile], warnings: list[str]) -> tuple[list[ModelRecord], dict, dict]:
    """Collapse dated and -latest variants into one model per lab: records, "lab/id" -> slug, slug -> file ids."""
    keys = {(f.owner, f.model_id): strip_stamps(f.model_id).lower() for f in files}
    lab_keys = set((owner, key) for (owner, _), key in keys.items())
    by_key: dict[tuple[str, str], list[SourceFile]] = defaultdict(list)
    for f in files:
        key = keys[(f.owner, f.model_id)]
        # Anthropic's claude-opus-4-0 is the alias of claude-opus-4-20250514: a trailing -0 joins a dated sibling.
        if key.endswith("-0") and (f.owner, key[:-2]) in lab_keys:
            key = key[:-2]
        by_key[(f.owner, key)].append(f)
    records, refs, ids = [], {}, {}
    for (lab, key), members in sorted(by_key.items()):
        members.sort(key=lambda f: (f.model_id.lower() != key, str(f.data.get("release_date", "")), f.model_id))
        name = clean_name(str(members[0].data.get("name") or key))
        groups = {key: [members[0]]}
        for member in members[1:]:
            if clean_name(str(member.data.get("name") or "")) in (name, ""):
                groups[key].append(member)
            else:  # the same id once undated, but models.dev names another model: keep it apart, date and all
                warnings.append(f"models/{lab}/{member.model_id}: not merged into {key} ({member.data.get('name')!r})")
                groups[member.model_id.lower()] = [member]
        for slug, group in groups.items():
            facts = model_facts(group[0].data, slug)
            facts.setdefault("name", slug)
            records.append(ModelRecord(slug=slug, creator=lab, facts=facts))
            ids[slug] = [m.model_id for m in group]
            refs.update({f"{lab}/{m.model_id}": slug for m in group})
    return records, refs, ids


def weights_aliases(files: list[SourceFile], refs: dict[str, str]) -> dict[str, list[str]]:
    """Hugging Face repository ids of each model's weights, when the repository is named after the model.

    models.dev lists deepseek-ai/DeepSeek-V3.2 as the weights of both deepseek-chat and deepseek-reasoner: such a
    repository names neither model, so it stays a link (canonical_url) and never becomes an alias.
    """
    aliases: dict[str, list[str]] = defaultdict(list)
    for source in files:
        slug = refs[f"{source.owner}/{source.model_id}"]
        own = set(strict_keys(slug)) | set(strict_keys(source.model_id)) | set(fallback_keys(slug))
        for repository in hugging_face_ids(source.data):
            if own & (set(strict_keys(repository)) | set(fallback_keys(repository))):
                aliases[slug].append(repository)
    return aliases


class AliasBook:
    """Every name a model goes by, with the providers that use it; resolves clashes once everything is known."""

    def __init__(self):
        self.uses: dict[str, dict[str, set[str | None]]] = defaultdict(lambda: defaultdict(set))

    def add(self, alias: str | None, model: str, provider: str | None = None) -> None:
        if alias and len(alias) <= 300:
            self.uses[alias][model].add(provider)

    def resolve(self, slugs: set[str], warnings: list[str]) -> dict[str, list]:
        """Model slug -> its aliases: a string, or {alias, provider} when only that provider uses the name."""
        per_model: dict[str, list] = defaultdict(list)
        for alias, uses in sorted(self.uses.items()):
            models = {model: providers for model, providers in uses.items() if model in slugs}
            if len(models) > 1:
                warnings.append(f"alias {alias!r} dropped: it names {', '.join(sorted(models))}")
                continue
            if not models:
                continue
            ((model, providers),) = models.items()
            if alias in slugs:
                if alias != model:
                    warnings.append(f"alias {alias!r} of {model} dropped: it is another model's slug")
                continue
            scoped = len(providers) == 1 and None not in providers
            per_model[model].append({"alias": alias, "provider": next(iter(providers))} if scoped else alias)
        return per_model


def _match_provider_files(
    records: list[ModelRecord],
    refs: dict[str, str],
    ids: dict[str, list[str]],
    providers: dict[str, tuple[dict, list[SourceFile]]],
    index: KeyIndex,
    lab_names: dict[str, str],
    stats: Counter,
) -> dict[tuple[str, str], tuple[str, SourceFile]]:
    """(provider, id) -> (model slug, file): base_model first, then the id's keys. Appends the models it adds for
    open models several providers serve to records."""
    matches: dict[tuple[str, str], tuple[str, SourceFile]] = {}
    pending: list[SourceFile] = []
    stats.update(dict.fromkeys(["matched_base_model", "matched_key", "matched_fallback", "matched_unmatched"], 0))
    for slug in sorted(providers):
        for source in providers[slug][1]:
            stats["provider_files"] += 1
            if source.data.get("base_model") in refs:
                matches[(slug, source.model_id)] = (refs[source.data["base_model"]], source)
                stats["matched_base_model"] += 1
            else:
                pending.append(source)
    for record in records:
        index.add(record, ids.get(record.slug, []))
    index.add_names(records)
    unmatched = [source for source in pending if not index.match(source.model_id)[0]]
    records.extend(add_served_models(unmatched, index, lab_names, first_party(providers)))
    for source in pending:
        slug, how = index.match(source.model_id)
        stats[f"matched_{how}"] += 1
        if slug:
            matches[(source.owner, source.model_id)] = (slug, source)
    return matches


def _model_document(record: ModelRecord, aliases: list) -> dict:
    document = {"slug": record.slug, **record.facts, "creator": record.creator}
    if aliases:
        document["aliases"] = sorted(aliases, key=lambda a: (a, "") if isinstance(a, str) else (a["alias"], "~"))
    return {key: document[key] for key in MODEL_ORDER if document.get(key) is not None}


def _provider_documents(providers, creators: set[str], lab_names: dict[str, str]) -> list[dict]:
    documents = [
        provider_document(slug, data, "both" if slug in creators else "inference", OPENAI_COMPATIBLE)
        for slug, (data, _) in sorted(providers.items())
    ]
    documents += [
        {"slug": lab, "name": LAB_NAMES.get(lab) or lab_names.get(lab) or lab.title(), "kind": "lab"}
        for lab in sorted(creators - set(providers))
    ]
    return documents


def _family_documents(models: list[dict]) -> list[dict]:
    """Every family a model names; its creator is the lab that made most of its models (fine-tunes aside)."""
    creators: dict[str, Counter] = defaultdict(Counter)
    for model in models:
        if model.get("family"):
            creators[model["family"]][model.get("creator")] += 1
    families = []
    for slug, labs in sorted(creators.items()):
        family = {"slug": slug, "name": family_name(slug)}
        lab, count = sorted(labs.items(), key=lambda item: (-item[1], str(item[0])))[0]
        if lab and count * 2 > labs.total():
            family["creator"] = lab
        families.append(family)
    return families


def build_registry(
    root: Path, openrouter_files: list[Path] | None = None, corrections_file: Path | None = CORRECTIONS_FILE
) -> ImportResult:
    """Read models.dev (and OpenRouter model lists, for aliases), apply the curated corrections (corrections.yaml,
    none when corrections_file is None) and return the registry documents."""
    root = Path(root)
    corrections = load_corrections(corrections_file) if corrections_file else Corrections()
    warnings: list[str] = []
    canonical = load_canonical(root)
    records, refs, ids = group_canonical(canonical, warnings)
    providers = load_providers(root)
    stats = Counter(canonical_files=len(canonical))
    lab_names: dict[str, str] = {}
    entries = openrouter.load_entries(openrouter_files or [])
    index = KeyIndex(openrouter.weights_hints(entries))
    matches = _match_provider_files(records, refs, ids, providers, index, lab_names, stats)

    mappings: dict[tuple[str, str], dict] = {}
    book = AliasBook()
    for (provider, model_id), (slug, source) in sorted(matches.items()):
        mapping = mappings.setdefault((provider, slug), {"model": slug, "offers": []})
        mapping["offers"].append(offer_document(model_id, source.data, provider))
        book.add(model_id, slug, provider)
    served = {slug for _, slug in mappings}
    for record in [r for r in records if not r.from_models_dev and r.slug not in served]:
        warnings.append(f"{record.slug}: added model left without offers, dropped")
        records.remove(record)
    for slug, names in ids.items():
        for name in names:
            book.add(name, slug)
    for slug, repositories in weights_aliases(canonical, refs).items():
        for repository in repositories:
            book.add(repository, slug)
    own = {model_id: slug for (p, model_id), (slug, _) in matches.items() if p == "openrouter"}
    stats["openrouter_entries"] = len(entries)
    stats["openrouter_matched"] = openrouter.add_aliases(entries, index, own, book, set(providers))
    aliases = book.resolve({r.slug for r in records}, warnings)

    documents = RegistryDocuments(
        models=[_model_document(r, aliases.get(r.slug, [])) for r in sorted(records, key=lambda r: r.slug)],
        mappings=dict(sorted(mappings.items())),
    )
    left_out = {(s.owner, s.model_id): s.data for p in providers.values() for s in p[1]}
    for key in matches:
        left_out.pop(key, None)
    warnings += [f"correction: {line}" for line in apply_corrections(documents, corrections, left_out, strict=False)]
    _count_dropped(corrections, documents, left_out, stats)
    creators = {m["creator"] for m in documents.models if m.get("creator")}
    documents.providers = _provider_documents(providers, creators, lab_names)
    documents.families = _family_documents(documents.models)
    stats.update(_counts(documents, records))
    return ImportResult(documents=documents, stats=dict(stats), warnings=warnings)


def _count_dropped(corrections: Corrections, documents: RegistryDocuments, left_out: dict, stats: Counter) -> None:
    """Listings still left out after the corrections, counted per drop_reason class (unclassified otherwise)."""
    kept = {(p, o["provider_model_id"]) for (p, _), m in documents.mappings.items() for o in m["offers"]}
    stats["matched_unmatched"] = 0
    for provider, model_id in left_out:
        if (provider, model_id) not in kept:
            stats["matched_unmatched"] += 1
            stats[f"dropped:{corrections.drop_class(provider, model_id) or 'unclassified'}"] += 1


def _counts(documents: RegistryDocuments, records: list[ModelRecord]) -> dict[str, int]:
    def priced(offer: dict) -> bool:
        return {"input", "output"} <= set(offer.get("pricing", {}))

    offers = [offer for mapping in documents.mappings.values() for offer in mapping["offers"]]
    slugs = {model["slug"] for model in documents.models}
    return {
        "providers": len(documents.providers),
        "families": len(documents.families),
        "models": len(documents.models),
        "models_from_models_dev": sum(r.from_models_dev and r.slug in slugs for r in records),
        "models_added": sum(not r.from_models_dev and r.slug in slugs for r in records),
        "models_curated": len(slugs - {r.slug for r in records}),
        "mappings": len(documents.mappings),
        "mappings_priced": sum(any(map(priced, m["offers"])) for m in documents.mappings.values()),
        "offers": len(offers),
        "offers_priced": sum(map(priced, offers)),
        "aliases": sum(len(m.get("aliases", [])) for m in documents.models),
    }


def import_modelsdev(
    root: Path,
    out_dir: Path,
    openrouter_files: list[Path] | None = None,
    corrections_file: Path | None = CORRECTIONS_FILE,
    prices_checked: str | None = None,
) -> ImportResult:
    """Build the registry from models.dev and write it under out_dir, replacing the registry there. `prices_checked`
    (YYYY-MM-DD, the day of the models.dev data) is written on every mapping file: the day its prices were copied."""
    result = build_registry(root, openrouter_files, corrections_file)
    if prices_checked:
        for key, document in result.documents.mappings.items():
            result.documents.mappings[key] = {"model": document["model"], "prices_checked": prices_checked, **document}
    result.stats["files_written"] = write_registry(Path(out_dir), result.documents)
    return result
