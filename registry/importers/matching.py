"""Matching providers' model ids to canonical models, and adding the open models several providers serve."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from registry.importers.facts import NAME_LABS, ORG_LABS, majority_facts, model_facts, slug_or_none
from registry.importers.normalise import display_slug, fallback_keys, strict_keys

MIN_PROVIDERS_FOR_NEW_MODEL = 2
# A closed model its lab does not list itself needs more witnesses: gateways invent names for closed models.
MIN_COMPANIES_FOR_CLOSED_MODEL = 3
# Regional and plan variants of one company (siliconflow-cn, xiaomi-token-plan-sgp) are one company.
_PROVIDER_VARIANT = re.compile(r"(?:-(?:coding-plan|token-plan)(?:-[a-z]+)?|-cn)$")
# Provider slugs that are a lab's own API under another name; any other provider is its company's own when its
# slug, without a regional or plan suffix, is the lab's (alibaba-cn -> alibaba).
FIRST_PARTY = {
    "amazon-bedrock": "amazon",
    "azure": "microsoft",
    "azure-cognitive-services": "microsoft",
    "google-vertex": "google",
    "kimi-for-coding": "moonshotai",
    "llama": "meta",
    "nova": "amazon",
    "perplexity-agent": "perplexity",
    "tencent-tokenhub": "tencent",
}
KNOWN_LABS = frozenset(ORG_LABS.values())
_ORGANISATION = re.compile(r"^(?:(?:us|eu|global|apac|au|jp)\.)?([a-z0-9-]+)\.[a-z]")  # bedrock's meta.llama…
# Namespaces that are a catalogue's own, not the organisation that made the model (nano-gpt's unsloth/ and TEE/
# re-host Google's Gemma, openrouter/auto is a router).
_NOT_CREATORS = frozenset(
    {
        "@cf",
        "accounts",
        "chutes",
        "fireworks",
        "free",
        "hf",
        "kilo-auto",
        "models",
        "novita",
        "openrouter",
        "pro",
        "routers",
        "siliconflow",
        "tee",
        "together",
        "togethercomputer",
        "unsloth",
        "volcengine",
        "workers-ai",
    }
)
_ROUTERS = frozenset({"auto", "free", "router"})


@dataclass
class SourceFile:
    """One models.dev TOML: a canonical model (owner = lab) or a provider's model (owner = provider slug)."""

    owner: str
    model_id: str
    data: dict


@dataclass
class ModelRecord:
    """A canonical model being built: its slug, creator and document fields."""

    slug: str
    creator: str | None
    facts: dict
    from_models_dev: bool = True

    @property
    def open_weights(self) -> bool:
        return self.facts.get("open_weights") is True


class KeyIndex:
    """Loose keys -> model slug; a key two models share is ambiguous and matches neither.

    A model is filed under the first key of its slug and of its other names. A provider's id is looked up under
    all its readable forms, then under those of its hint (the Hugging Face repository OpenRouter names for that
    id), then, for open models only, without serving suffixes (-instruct, -turbo, -fp8).
    """

    def __init__(self, hints: dict[str, str] | None = None):
        self.strict: dict[str, set[str]] = defaultdict(set)
        self.fallback: dict[str, set[str]] = defaultdict(set)
        self.hints = hints or {}

    def add(self, record: ModelRecord, names: list[str]) -> None:
        for name in [record.slug, *names]:
            self.strict[strict_keys(name)[0]].add(record.slug)
            if record.open_weights:
                self.fallback[fallback_keys(name)[0]].add(record.slug)

    def add_names(self, records: list[ModelRecord]) -> None:
        """File models under their display names too (Mistral Medium 3 is mistral-medium-2505), except a name that
        two models share or whose key already files another model."""
        claims: dict[str, set[str]] = defaultdict(set)
        for record in records:
            claims[strict_keys(re.sub(r"[^a-z0-9.]+", "-", record.facts["name"].lower()))[0]].add(record.slug)
        for key, slugs in sorted(claims.items()):
            if len(slugs) == 1 and self.strict.get(key, slugs) == slugs:
                self.strict[key] |= slugs

    def hint(self, model_id: str) -> str | None:
        plain = model_id.lower().split(":")[0]
        return (
            self.hints.get(plain)
            or self.hints.get("/".join(plain.split("/")[-2:]))
            or self.hints.get(plain.rsplit("/", 1)[-1])
        )

    def match(self, model_id: str) -> tuple[str | None, str]:
        """(slug, how) where how is key, fallback or unmatched."""
        names = [model_id, *filter(None, [self.hint(model_id)])]
        for how, table, keys_of in (("key", self.strict, strict_keys), ("fallback", self.fallback, fallback_keys)):
            for name in names:
                for key in keys_of(name):
                    if len(table.get(key, ())) == 1:
                        return next(iter(table[key])), how
        return None, "unmatched"


def first_party(provider_slugs) -> dict[str, str]:
    """Provider slug -> the company whose API it is (alibaba-cn -> alibaba, llama -> meta)."""
    return {slug: FIRST_PARTY.get(slug, _PROVIDER_VARIANT.sub("", slug)) for slug in provider_slugs}


def _organisation(model_id: str) -> str | None:
    if "/" in model_id:
        return model_id.split("/")[-2]
    match = _ORGANISATION.match(model_id.lower())
    return match[1] if match else None


def _most_common(counter: Counter):
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[0]


def creator_of(member_ids: list[str], slug: str, lab_names: dict[str, str]) -> str | None:
    """The lab most member ids name as their organisation, else the lab the model's name points to.

    An organisation no table knows (TheDrummer, arcee-ai) becomes a lab when at least two ids name it; its name
    goes into lab_names."""
    organisations = [org for org in map(_organisation, member_ids) if org and org.lower() not in _NOT_CREATORS]
    votes = Counter(ORG_LABS[org.lower()] for org in organisations if org.lower() in ORG_LABS)
    if votes:
        return _most_common(votes)[0]
    names = [slug, *(model_id.rsplit("/", 1)[-1].lower() for model_id in member_ids)]  # cohere-embed-v3-english
    by_name = next((lab for name in names for prefix, lab in NAME_LABS if name.startswith(prefix)), None)
    if by_name:
        return by_name

    def squeezed(org: str) -> str:  # prime-intellect and PrimeIntellect are one organisation
        return re.sub(r"[^a-z0-9]", "", org.lower())

    unknown = Counter(map(squeezed, organisations))
    if not unknown or _most_common(unknown)[1] < MIN_PROVIDERS_FOR_NEW_MODEL:
        return None
    org = _most_common(unknown)[0]
    # The organisation as its own pages spell it: TheDrummer rather than thedrummer.
    spellings = Counter(o for o in organisations if squeezed(o) == org)
    spelling = sorted(spellings.items(), key=lambda item: (item[0].islower(), -item[1], item[0]))[0][0]
    lab = slug_or_none(spelling)
    if lab:
        lab_names.setdefault(lab, spelling)
    return lab


def _can_found_model(source: SourceFile) -> bool:
    """A floating pointer (-latest, ~…) or a router (openrouter/auto) never defines a model."""
    model_id = source.model_id.lower()
    last = model_id.rsplit("/", 1)[-1].split(":")[0]
    return (
        "latest" not in model_id
        and not model_id.startswith("~")
        and last not in _ROUTERS
        and _organisation(source.model_id) not in ("openrouter", "kilo-auto")
    )


def _claims_open(source: SourceFile, index: KeyIndex) -> bool:
    """The provider says the weights are open, or OpenRouter names the Hugging Face repository it serves."""
    return source.data.get("open_weights") is True or bool(index.hint(source.model_id))


def _group_by_shared_keys(sources: list[SourceFile], index: KeyIndex) -> list[list[SourceFile]]:
    """Connected groups of ids that share a loose key; open models also join on the key without serving suffixes."""
    parent = list(range(len(sources)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with_key: dict[str, int] = {}
    for i, source in enumerate(sources):
        keys = strict_keys(source.model_id)
        if _claims_open(source, index):
            keys = [*keys, fallback_keys(source.model_id)[0]]
        for key in keys:
            if key in first_with_key:
                parent[root(i)] = root(first_with_key[key])
            else:
                first_with_key[key] = i
    groups: dict[int, list[SourceFile]] = defaultdict(list)
    for i, source in enumerate(sources):
        groups[root(i)].append(source)
    return list(groups.values())


def _companies(members: list[SourceFile]) -> set[str]:
    return {_PROVIDER_VARIANT.sub("", m.owner) for m in members}


def _name_of(members: list[SourceFile], slug: str) -> str:
    """The most common display name; on a tie, the name given by a provider whose id is spelt like the slug."""
    names = Counter(model_facts(m.data, slug).get("name") for m in members)
    names.pop(None, None)
    spelt_like_slug = {model_facts(m.data, slug).get("name") for m in members if display_slug(m.model_id) == slug}
    ranked = sorted(names.items(), key=lambda item: (-item[1], item[0] not in spelt_like_slug, len(item[0]), item[0]))
    return ranked[0][0] if ranked else slug


def add_served_models(
    unmatched: list[SourceFile], index: KeyIndex, lab_names: dict[str, str], first_parties: dict[str, str]
) -> list[ModelRecord]:
    """Models without a models.dev canonical file that at least two providers serve under one normalised id.

    Open models also group on the id without serving suffixes (-instruct, -fp8…). A closed model is only added when
    its own lab lists it, or when three companies agree on its id and a known lab made it: gateways' names for
    closed models vary. Bigger groups go first; ids that match a model added before them add nothing.
    """
    candidates = _group_by_shared_keys([s for s in unmatched if _can_found_model(s)], index)
    candidates.sort(key=lambda group: (-len(_companies(group)), sorted(strict_keys(m.model_id)[0] for m in group)))
    records = []
    taken = set().union(*index.strict.values())
    for group in candidates:
        members = [m for m in group if not index.match(m.model_id)[0]]
        if len({m.owner for m in members}) < MIN_PROVIDERS_FOR_NEW_MODEL:
            continue
        # The most common spelling; on a tie the one with dotted versions (qwen2.5 rather than qwen2-5), the shortest.
        slug = sorted(
            Counter(display_slug(m.model_id) for m in members).items(),
            key=lambda item: (-item[1], -len(re.findall(r"\d\.\d", item[0])), len(item[0]), item[0]),
        )[0][0]
        if not slug or slug in taken:
            continue
        # Providers often leave open_weights false for open models; OpenRouter naming the weights settles it.
        votes = Counter(m.data["open_weights"] for m in members if isinstance(m.data.get("open_weights"), bool))
        open_weights = any(index.hint(m.model_id) for m in members) or votes[True] > votes[False]
        creator = creator_of([m.model_id for m in members], slug, lab_names)
        listed_by_lab = any(first_parties.get(m.owner) == creator for m in members)
        widely_served = creator in KNOWN_LABS and len(_companies(members)) >= MIN_COMPANIES_FOR_CLOSED_MODEL
        if not (open_weights or listed_by_lab or widely_served):
            continue
        facts = majority_facts([model_facts(m.data, slug) for m in members])
        facts["name"] = _name_of(members, slug)
        facts["open_weights"] = open_weights
        record = ModelRecord(slug=slug, creator=creator, facts=facts, from_models_dev=False)
        records.append(record)
        index.add(record, [m.model_id for m in members])
        taken.add(slug)
    return records
