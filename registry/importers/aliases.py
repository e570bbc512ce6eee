"""Aliases from the sources: Hugging Face repositories of open-weight models, and the ids price feeds and listing
APIs use for models we have (provider-scoped). Adds only; never moves an alias; a second run adds nothing.

Report: registry/importers/ALIASES.md (`write_report`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from catalog.identity.tokens import identity
from registry.importers.alias_identity import IdentityIndex, compatible, instruct_key, name_identity
from registry.importers.alias_sources import (
    FeedRow,
    WeightsClaim,
    genai_rows,
    hf_repository,
    litellm_rows,
    modelsdev_rows,
    modelsdev_weights,
    openrouter_rows,
    openrouter_weights,
)
from registry.writer import MODEL_ORDER, dump_yaml

MAX_PASSES = 5
# Hugging Face organisations that were renamed; the old name still redirects to the repository.
ORG_RENAMES = {"CohereLabs": "CohereForAI"}
# Ids the rules matched that a curator's review took out: a generic name a provider points at one release today and
# another tomorrow, or another release than the model's. Never proposed again.
REVIEWED_OUT = {
    "mistral-7b": "generic: base or instruct, any release",
    "accounts/fireworks/models/mistral-7b": "generic: Fireworks' base model",
    "open-mistral-7b": "a moving pointer across Mistral 7B releases",
    "mistral.mistral-7b-instruct-v0:2": "v0.2 is another release than v0.3",
    "gpt-audio-1.5": "a newer version than gpt-audio",
}
# Ids a curator's review moved to another model than the rules proposed (alias → model slug).
REVIEWED_TO = {"gpt-4-1106-preview": "gpt-4-turbo-preview", "openai/gpt-4-1106-preview": "gpt-4-turbo-preview"}


@dataclass
class Decision:
    alias: str
    model: str | None
    provider: str | None
    source: str
    rule: str
    state: str  # added | present | refused
    note: str = ""


@dataclass
class RegistryView:
    """The model files of a registry, what every alias names, and who offers what."""

    root: Path
    files: dict[str, Path] = field(default_factory=dict)
    data: dict[str, dict] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)  # alias or slug -> model slug (exact spelling)
    lowered: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    offers: dict[tuple[str, str], str] = field(default_factory=dict)  # (provider, provider_model_id) -> slug
    served: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    providers: set[str] = field(default_factory=set)
    added: dict[str, list] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def load(cls, root: Path) -> RegistryView:
        view = cls(Path(root))
        for path in sorted(view.root.glob("models/*/*.yaml")):
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            view.files[document["slug"]] = path
            view.data[document["slug"]] = document
            view.claim(document["slug"], document["slug"])
            for entry in document.get("aliases") or []:
                view.claim(entry if isinstance(entry, str) else entry["alias"], document["slug"])
        for path in sorted(view.root.glob("mappings/*/*.yaml")):
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            for offer in document.get("offers") or []:
                view.offers[(path.parent.name, str(offer["provider_model_id"]))] = document["model"]
                view.served[path.parent.name].add(document["model"])
        view.providers = {path.stem for path in view.root.glob("providers/*.yaml")}
        return view

    def claim(self, alias: str, slug: str) -> None:
        self.owner.setdefault(alias, slug)
        self.lowered[alias.lower()].add(slug)

    def resolve(self, name: str, provider: str | None = None) -> str | None:
        """The model `name` names exactly: a slug or alias, or an offer id at `provider`."""
        return self.owner.get(name) or (self.offers.get((provider, name)) if provider else None)

    def index(self) -> IdentityIndex:
        offer_ids: dict[str, list[str]] = defaultdict(list)
        for (_, model_id), slug in self.offers.items():
            offer_ids[slug].append(model_id)
        index = IdentityIndex()
        for slug, document in self.data.items():
            entries = [*(document.get("aliases") or []), *self.added.get(slug, [])]
            aliases = [a if isinstance(a, str) else a["alias"] for a in entries]
            own = [slug, str(document.get("name") or "")]
            index.add(slug, own, aliases + offer_ids[slug], document.get("release_date"))
        return index

    def offer(self, alias: str, slug: str, provider: str | None, source: str, rule: str, note: str = "") -> Decision:
        """Add `alias` to `slug` unless some model has it already (never moved) or another has it in other case."""
        holder = self.owner.get(alias)
        if alias.lower() in REVIEWED_OUT:
            return Decision(alias, slug, provider, source, rule, "refused", REVIEWED_OUT[alias.lower()])
        if REVIEWED_TO.get(alias.lower(), slug) != slug:
            return Decision(alias, slug, provider, source, rule, "refused", f"reviewed: {REVIEWED_TO[alias.lower()]}")
        if holder == slug:
            return Decision(alias, slug, provider, source, rule, "present", note)
        if holder:
            return Decision(alias, slug, provider, source, rule, "refused", f"already an alias of {holder}")
        others = self.lowered.get(alias.lower(), set()) - {slug}
        if others:
            return Decision(alias, slug, provider, source, rule, "refused", f"in other case an alias of {min(others)}")
        self.claim(alias, slug)
        self.added[slug].append({"alias": alias, "provider": provider} if provider else alias)
        return Decision(alias, slug, provider, source, rule, "added", note)


def _alias_sort_key(entry):
    return (entry, "") if isinstance(entry, str) else (entry["alias"], "~")


def write_models(view: RegistryView) -> int:
    """Rewrite the model files that gained aliases (keys in MODEL_ORDER, aliases sorted); returns their number."""
    for slug, new in sorted(view.added.items()):
        document = dict(view.data[slug])
        document["aliases"] = sorted([*(document.get("aliases") or []), *new], key=_alias_sort_key)
        ordered = {key: document[key] for key in MODEL_ORDER if key in document}
        ordered.update({key: value for key, value in document.items() if key not in ordered})
        view.files[slug].write_text(dump_yaml(ordered), encoding="utf-8")
        view.data[slug] = ordered
    return len(view.added)


# --- Hugging Face repositories of open-weight models ------------------------------------------------------------


def _repositories(view: RegistryView, claims: list[WeightsClaim]) -> dict[str, dict[str, set[str]]]:
    """repository -> {open-weight model: sources}; a claim counts when one of its names names a model exactly."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for slug, document in view.data.items():
        repository = hf_repository(document.get("canonical_url"))
        if repository and document.get("open_weights"):
            found[repository][slug].add("canonical_url")
    for claim in claims:
        model = next((s for n in claim.names if (s := view.resolve(n, "openrouter"))), None)
        if model and view.data[model].get("open_weights"):
            found[claim.repository][model].add(claim.source)
    return found


def hf_aliases(view: RegistryView, claims: list[WeightsClaim]) -> list[Decision]:
    """Each repository becomes an alias of the one open-weight model that claims it and whose name agrees with it;
    several claimants are narrowed by identity tiers, and refused when that leaves none or several."""
    decisions = []
    index = view.index()
    for repository, claimants in sorted(_repositories(view, claims).items()):
        ident = identity(repository)
        agreeing = {s for s in claimants if compatible(ident, index.names[s]) and index.stamp_ok(repository, s)}
        sources = ", ".join(sorted({s for v in claimants.values() for s in v}))
        if view.owner.get(repository) in claimants:
            decisions.append(Decision(repository, view.owner[repository], None, sources, "weights", "present"))
            continue
        named, how, _ = index.identify(repository)
        if len(agreeing) > 1:
            agreeing = {named} if named in agreeing else set()
            rule = f"weights:{how}"
        elif agreeing and named and named not in agreeing and how.split("+")[0] in ("exact", "undated"):
            note = f"claimed for {min(agreeing)}, but its name is {named}'s"
            decisions.append(Decision(repository, None, None, sources, "weights-conflict", "refused", note))
            continue
        else:
            rule = "weights"
        if len(agreeing) != 1:
            why = "no claimant's name agrees" if not agreeing else "several claimants agree"
            decisions.append(Decision(repository, None, None, sources, rule, "refused", f"{why}: {sorted(claimants)}"))
            continue
        slug = next(iter(agreeing))
        decisions.append(view.offer(repository, slug, None, sources, rule))
        org, _, name = repository.partition("/")
        if org in ORG_RENAMES and decisions[-1].state != "refused":
            decisions.append(view.offer(f"{ORG_RENAMES[org]}/{name}", slug, None, sources, "weights:org-renamed"))
    return decisions


def hf_coverage(view: RegistryView, claims: list[WeightsClaim]) -> dict[str, int]:
    """Open-weight models; those a source names a repository for; those carrying one as an alias; those carrying
    any `Org/Repo` alias whose organisation is a Hugging Face one (of any repository a source names)."""
    named: dict[str, set[str]] = defaultdict(set)
    for repository, claimants in _repositories(view, claims).items():
        for slug in claimants:
            named[slug].add(repository)
    orgs = {repository.split("/")[0] for repositories in named.values() for repository in repositories}
    open_models = [slug for slug, d in view.data.items() if d.get("open_weights")]
    carrying = [slug for slug in open_models if any(view.owner.get(r) == slug for r in named.get(slug, ()))]

    def any_repository(slug: str) -> bool:
        aliases = [a if isinstance(a, str) else a["alias"] for a in view.data[slug].get("aliases") or []]
        aliases += [a if isinstance(a, str) else a["alias"] for a in view.added.get(slug, [])]
        return any(a.count("/") == 1 and a.split("/")[0] in orgs for a in aliases)

    return {
        "open_weight_models": len(open_models),
        "with_named_repository": len(named),
        "carrying": len(carrying),
        "carrying_any": sum(map(any_repository, open_models)),
    }


def without_repository(view: RegistryView, claims: list[WeightsClaim]) -> list[str]:
    named = {slug for claimants in _repositories(view, claims).values() for slug in claimants}
    return sorted(slug for slug, d in view.data.items() if d.get("open_weights") and slug not in named)


# --- provider ids from the feeds --------------------------------------------------------------------------------


def feed_aliases(view: RegistryView, rows: list[FeedRow]) -> list[Decision]:
    """Each id a provider we list uses becomes a provider-scoped alias of the model it names: an offer id as it is,
    another id through the source's own hints (one model, names agreeing) or by identity (a unique candidate)."""
    index = view.index()
    proposals: dict[str, dict[str, list[tuple[FeedRow, str]]]] = defaultdict(lambda: defaultdict(list))
    decisions: list[Decision] = []
    vetoed: set[str] = set()  # ids a source's hints and their tokens disagree on: refused whatever other rows say
    instructed = {
        (r.provider, instruct_key(name_identity(r.id))) for r in rows if "instruct" in name_identity(r.id).variants
    }
    for row in rows:
        if row.provider not in view.providers or not row.id or len(row.id) > 300 or not row.id.isascii():
            continue
        if " " in row.id:
            continue
        offered = view.offers.get((row.provider, row.id))
        if offered:
            proposals[row.id][offered].append((row, "offer"))
            continue
        if row.id in view.owner:
            proposals[row.id][view.owner[row.id]].append((row, "known"))
            continue
        ident = name_identity(row.id)
        base = "instruct" not in ident.variants and (row.provider, instruct_key(ident)) in instructed
        slug, how, candidates = index.identify(row.id, view.served.get(row.provider), base, row.vision)
        hinted = {s for hint in row.hints if (s := view.resolve(hint, row.provider))}
        hint = next(iter(hinted)) if len(hinted) == 1 and index.agrees(row.id, next(iter(hinted)), base) else None
        if hint and slug and hint != slug and how.split("+")[0] in ("exact", "undated"):
            note = f"the source's own ids name {hint}, the name's tokens {slug}"
            decisions.append(Decision(row.id, None, row.provider, row.source, "hint-conflict", "refused", note))
            vetoed.add(row.id)
        elif hint:
            proposals[row.id][hint].append((row, "hint"))
        elif slug:
            proposals[row.id][slug].append((row, f"identity:{how}"))
        elif how.startswith("ambiguous"):
            note = f"candidates: {', '.join(sorted(candidates))}"
            decisions.append(Decision(row.id, None, row.provider, row.source, how, "refused", note))
    for alias, by_model in sorted(proposals.items()):
        if alias in vetoed:
            continue
        if len(by_model) > 1:
            note = "sources name different models: " + ", ".join(sorted(by_model))
            source = ", ".join(sorted({r.source for v in by_model.values() for r, _ in v}))
            decisions.append(Decision(alias, None, None, source, "conflict", "refused", note))
            continue
        ((slug, uses),) = by_model.items()
        providers = sorted({row.provider for row, _ in uses})
        rule = sorted({how for _, how in uses}, key=_rule_rank)[0]
        source = ", ".join(sorted({row.source for row, _ in uses}))
        provider = providers[0] if len(providers) == 1 else None
        note = "" if provider else "used by " + ", ".join(providers)
        decisions.append(view.offer(alias, slug, provider, source, rule, note))
    return decisions


def _rule_rank(rule: str) -> tuple[int, str]:
    order = ["offer", "known", "hint", "identity:exact", "identity:undated", "identity:release", "identity:provider"]
    base = rule.replace("+stamp", "")
    return (order.index(base) if base in order else len(order), rule)


@dataclass
class Sources:
    modelsdev: Path | None = None
    litellm: Path | None = None
    genai_prices: Path | None = None
    openrouter: list[Path] = field(default_factory=list)


@dataclass
class AliasImport:
    decisions: list[Decision]
    coverage_before: dict[str, int]
    coverage_after: dict[str, int]
    files_written: int
    without_repository: list[str] = field(default_factory=list)


def _canonical_refs(root: Path) -> dict[str, str]:
    """models.dev "lab/id" -> our model slug, as the models.dev importer groups canonical files."""
    from registry.importers.modelsdev import group_canonical, load_canonical

    _, refs, _ = group_canonical(load_canonical(root), [])
    return refs


def import_aliases(registry: Path, sources: Sources, write: bool = True) -> AliasImport:
    view = RegistryView.load(registry)
    claims: list[WeightsClaim] = []
    rows: list[FeedRow] = []
    if sources.modelsdev:
        claims += modelsdev_weights(sources.modelsdev, _canonical_refs(sources.modelsdev))
        rows += modelsdev_rows(sources.modelsdev)
    for path in sources.openrouter:
        claims += openrouter_weights(path)
        rows += openrouter_rows(path)
    if sources.litellm:
        rows += litellm_rows(sources.litellm)
    if sources.genai_prices:
        rows += genai_rows(sources.genai_prices)
    before = hf_coverage(view, claims)
    merged: dict[tuple[str, str | None], Decision] = {}
    for _ in range(MAX_PASSES):  # until a pass adds nothing: what one run adds is named by the next run's index
        decisions = hf_aliases(view, claims) + feed_aliases(view, rows)
        for decision in decisions:
            key = (decision.alias, decision.provider)
            if decision.state == "added" or key not in merged:
                merged[key] = decision
        if not any(decision.state == "added" for decision in decisions):
            break
    decisions = list(merged.values())
    after = hf_coverage(view, claims)
    written = write_models(view) if write else 0
    return AliasImport(decisions, before, after, written, without_repository(view, claims))


def summary(result: AliasImport) -> Counter:
    return Counter((d.source, d.rule, d.state) for d in result.decisions)
