"""Which of our models a provider's id names, by identity tokens (catalog.identity.tokens) and a unique candidate.

Tiers, first that finds candidates wins (two or more candidates at a tier is a refusal, not a guess):
  exact     the same tokens (words, versions, sizes, active, stamps, variants), serving decorations aside;
  undated   the same once stamps are set aside, the id's date stamps being the model's (a dated name of it, or
            its release date when its own name is undated); an undated id never names a dated model;
  release   the same once weak variants are set aside too, where the words one side lacks are release words
            (instruct, chat, it, versatile) or the id's date stamp is the model's (`gpt-4-0125-preview`);
  provider  among the provider's own models (or any model, when the source says the id reads images), the id
            may leave out a modality word (vision, vl) of the model's name (Bedrock's
            `meta.llama3-2-11b-instruct-v1:0`, which LiteLLM marks supports_vision, for Llama 3.2 11B Vision).
A candidate found through an alias or offer id must still agree with the model's own name (slug and name: strong
variants equal, no other version or size). Several candidates at a tier are narrowed to those the id's date stamp
names before the tier refuses.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from catalog.identity.tokens import Identity, identity, sizes_close

# Weak variants one name may carry and the other lack without naming other weights or another serving tier.
RELEASE_WORDS = frozenset({"instruct", "chat", "it", "versatile"})
# Pre-release words an id may add, with date evidence only (`gpt-4-0125-preview`): QwQ-32B-Preview is not QwQ-32B.
PRERELEASE_WORDS = frozenset({"preview", "exp", "beta"})
# Strong words a provider's id may leave out of a model's name, among that provider's own models only.
MODALITY_WORDS = frozenset({"vision", "vl"})


_CONTEXT_SUFFIX = re.compile(r"-(?:4096|8192|16384|32768|65536|131072)$")  # Groq's legacy `mixtral-8x7b-32768`
_REGION = re.compile(r"^(?:us|eu|apac|global|us-gov|ca|jp|au)\.")


def name_identity(name: str) -> Identity:
    """identity() of a provider id, without a context-length suffix; Bedrock's `deepseek.v3.2` (whose vendor prefix
    leaves no name word) read as `deepseek-v3.2`."""
    cleaned = _CONTEXT_SUFFIX.sub("", name)
    ident = identity(cleaned)
    if not ident.words and "." in cleaned:
        ident = identity(_REGION.sub("", cleaned).replace(".", "-", 1))
    return ident


def date_like(stamp: str) -> bool:
    """A stamp that reads as a date (20240125, 240125, 0125, 2401), not a context length (8192) or revision (001)."""
    if len(stamp) == 6 and stamp.startswith("20") and 1 <= int(stamp[4:]) <= 12:
        return True  # 202408: Cohere's -08-2024
    if len(stamp) in (6, 8):
        return 1 <= int(stamp[-4:-2]) <= 12 and 1 <= int(stamp[-2:]) <= 31
    if len(stamp) == 4:
        mmdd = 1 <= int(stamp[:2]) <= 12 and 1 <= int(stamp[2:]) <= 31
        yymm = 20 <= int(stamp[:2]) <= 39 and 1 <= int(stamp[2:]) <= 12
        return mmdd or yymm
    return False


def ignorable_stamp(stamp: str) -> bool:
    """A context length (4096, 8192, 32768) or a three-digit revision (001): says nothing of the weights."""
    return len(stamp) == 3 or (int(stamp) >= 1024 and int(stamp) & (int(stamp) - 1) == 0)


def date_stamps(day: object) -> set[str]:
    """The stamps a release date is written as: 20240125, 240125, 0125 (MMDD) and 2401 (YYMM)."""
    text = str(day or "")
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return set()
    year, month, dd = text[:4], text[5:7], text[8:10]
    return {f"{year}{month}{dd}", f"{year[2:]}{month}{dd}", f"{month}{dd}", f"{year[2:]}{month}"}


def repository_like(name: str) -> bool:
    """`Org/Repo` as Hugging Face spells it: a repository named without -Instruct/-chat/-it holds base weights."""
    return name.count("/") == 1 and any(c.isupper() for c in name)


@dataclass
class ModelNames:
    slug: str
    own: list[Identity]  # of the slug and the name: what the model itself is called
    all: list[Identity]  # own, aliases and offer ids
    stamps: set[str] = field(default_factory=set)  # stamps of every name
    released: set[str] = field(default_factory=set)  # the release date's spellings
    own_dated: bool = False  # the slug or name carries a date stamp


def instruct_key(ident: Identity) -> tuple:
    """What a name is once `instruct` is set aside: a provider listing `x` and `x-instruct` tells them apart."""
    return (*_release_key(ident), ident.variants - {"instruct"})


def _release_key(ident: Identity) -> tuple:
    stripped = ident.without(weak=True, stamps=True)
    return (stripped.words, stripped.sizes, stripped.active, stripped.versions, stripped.strong)


def compatible(ident: Identity, names: ModelNames) -> bool:
    """No distinguishing token disagrees: strong variants equal; versions, sizes and active parameters equal where
    both names state them; a stamp of the id is one of the model's when the model's own name is dated."""
    for own in names.own:
        if own.strong != ident.strong:
            continue
        if own.versions and ident.versions and own.versions != ident.versions:
            continue
        if own.active and ident.active and own.active != ident.active:
            continue
        if own.sizes and ident.sizes:
            if len(own.sizes) != len(ident.sizes) or not all(
                any(sizes_close(a, b) for b in ident.sizes) for a in own.sizes
            ):
                continue
        if own.stamps and ident.stamps and not ident.stamps <= names.stamps:
            continue
        return True
    return False


class IdentityIndex:
    def __init__(self) -> None:
        self.names: dict[str, ModelNames] = {}
        self.exact: dict[tuple, set[str]] = defaultdict(set)
        self.undated: dict[tuple, set[str]] = defaultdict(set)
        self.release: dict[tuple, list[tuple[str, Identity]]] = defaultdict(list)

    def add(self, slug: str, own: list[str], others: list[str], release_date: object = None) -> None:
        own_ids = [identity(name) for name in own if name]
        all_ids = own_ids + [identity(name) for name in others if name]
        entry = ModelNames(slug, own_ids, all_ids)
        entry.stamps = {stamp for ident in all_ids for stamp in ident.stamps}
        entry.released = date_stamps(release_date)
        entry.own_dated = any(date_like(stamp) for ident in own_ids for stamp in ident.stamps)
        self.names[slug] = entry
        for ident in all_ids:
            if not ident.words:
                continue
            self.exact[ident.key].add(slug)
            self.undated[ident.without(stamps=True).key].add(slug)
            self.release[_release_key(ident)].append((slug, ident))

    def stamp_ok(self, name: str, slug: str) -> bool:
        return self._stamp_ok(name_identity(name), slug)

    def _stamp_ok(self, ident: Identity, slug: str) -> bool:
        """The id's date stamps are the model's: one of its names' stamps or (its own name undated) its release
        date's; an undated id never names a model whose own name is dated. Other stamps must be the model's too,
        but for a context length (`llama3-70b-8192`) or a revision (`@001`)."""
        dates = {stamp for stamp in ident.stamps if date_like(stamp)}
        names = self.names[slug]
        if any(not date_like(s) and s not in names.stamps and not ignorable_stamp(s) for s in ident.stamps):
            return False
        if names.own_dated:
            return bool(dates) and dates <= names.stamps
        return dates <= names.stamps | names.released

    def _evidence(self, ident: Identity, slug: str) -> bool:
        """The id carries a date stamp, and the model is dated so."""
        dates = {stamp for stamp in ident.stamps if date_like(stamp)}
        return bool(dates) and self._stamp_ok(ident, slug)

    def _weak_ok(self, name: str, ident: Identity, other: Identity, slug: str, base: bool) -> bool:
        """Weak words one side has and the other lacks: release words, or (with date evidence) any. An id without
        -instruct is base weights when it is a Hugging Face repository or `base` (its provider lists both)."""
        extra = (ident.variants - ident.strong) - other.variants
        missing = (other.variants - other.strong) - ident.variants
        if (base or repository_like(name)) and missing & RELEASE_WORDS:
            return False
        if extra <= RELEASE_WORDS and missing <= RELEASE_WORDS:
            return True
        return extra <= RELEASE_WORDS | PRERELEASE_WORDS and self._evidence(ident, slug)

    def agrees(self, name: str, slug: str, base: bool = False) -> bool:
        """`name` may name `slug` as a source says it does: no distinguishing token disagrees (`compatible`), and
        the weak words it adds or leaves out are release words, or dated as the model is."""
        ident = name_identity(name)
        names = self.names[slug]
        return compatible(ident, names) and any(self._weak_ok(name, ident, own, slug, base) for own in names.own)

    def _decide(self, tier: str, ident: Identity, slugs: set[str]) -> tuple[str | None, str, set[str]]:
        if len(slugs) == 1:
            return next(iter(slugs)), tier, slugs
        narrowed = {slug for slug in slugs if self._evidence(ident, slug)}
        if len(narrowed) == 1:
            return next(iter(narrowed)), f"{tier}+stamp", slugs
        return None, f"ambiguous:{tier}", slugs

    def identify(
        self, name: str, served: set[str] | None = None, base: bool = False, vision: bool = False
    ) -> tuple[str | None, str, set[str]]:
        """(model slug or None, the tier, the candidates) for a provider id; `served`: the provider's models;
        `base`: the provider lists the same name with -instruct too; `vision`: the source says the id reads
        images (then a modality word may be missing whoever serves the model)."""
        ident = name_identity(name)
        if not ident.words:
            return None, "no-words", set()
        # Through an alias or offer id, but never against the model's own name (`compatible`).
        found = {s for s in self.exact.get(ident.key, ()) if compatible(ident, self.names[s])}
        if found:
            return self._decide("exact", ident, found)
        found = {
            s
            for s in self.undated.get(ident.without(stamps=True).key, ())
            if self._stamp_ok(ident, s) and compatible(ident, self.names[s])
        }
        if found:
            return self._decide("undated", ident, found)
        found = {
            slug
            for slug, other in self.release.get(_release_key(ident), ())
            if self._stamp_ok(ident, slug)
            and self._weak_ok(name, ident, other, slug, base)
            and compatible(ident, self.names[slug])
        }
        if found:
            return self._decide("release", ident, found)
        found = set()
        for slug in set(self.names) if vision else served or ():
            for other in self.names[slug].own:
                same = (other.words, other.versions, other.sizes, other.active) == (
                    ident.words,
                    ident.versions,
                    ident.sizes,
                    ident.active,
                )
                missing = other.strong - ident.strong
                if same and ident.strong <= other.strong and missing and missing <= MODALITY_WORDS:
                    if self._stamp_ok(ident, slug) and self._weak_ok(name, ident, other, slug, base):
                        found.add(slug)
        if found:
            return self._decide("provider", ident, found)
        return None, "no-candidate", set()
