"""Every name the catalogue knows, in memory: slugs, model names, aliases and the providers' own model ids.

Built from the catalogue's rows by catalog/resolution_index.py, which holds it per process by catalogue version, so
fuzzy and parsed resolution decide in Python over the same rows on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from catalog.identity.tokens import Identity, identity
from catalog.models import Model
from catalog.spellings import fuzzy_key, normalise_name

# What a resolution reads of a model (and what the API's summaries show).
MODEL_FIELDS = ("slug", "name", "status", "creator", "family", "successor", "needs_review", "parameters_total")

SLUG, NAME, ALIAS, OFFER = "slug", "name", "alias", "offer"


@dataclass(frozen=True)
class Entry:
    """One name of one model: `text` as stored, `key` its loose spelling for similarity."""

    text: str
    key: str
    model_id: int
    kind: str
    provider: str = ""
    normal: str = ""  # normalise_name(text)

    @property
    def identity(self) -> Identity:
        return identity(self.text)


@dataclass
class NameIndex:
    models: dict[int, Model] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    # identity token (a word, variant, version or size) → positions in `entries`
    by_token: dict[str, list[int]] = field(default_factory=dict)
    # normalise_name(text) → model ids
    by_key: dict[str, set[int]] = field(default_factory=dict)
    # lower-cased slug or alias → model ids
    by_text: dict[str, set[int]] = field(default_factory=dict)
    # lower-cased model name → model id
    by_name: dict[str, int] = field(default_factory=dict)
    # (provider slug, lower-cased provider model id or provider-scoped alias) → model ids
    at_provider: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    # lower-cased provider model id → model ids (any provider)
    offer_ids: dict[str, set[int]] = field(default_factory=dict)
    # every date stamp any name of a model carries
    model_stamps: dict[int, frozenset[str]] = field(default_factory=dict)
    providers: frozenset[str] = frozenset()

    def identity_of(self, model_id: int) -> Identity:
        return identity(self.models[model_id].slug)


def tokens_of(ident: Identity) -> set[str]:
    return {*ident.words, *ident.strong, *(f"v:{v}" for v in ident.versions), *(f"s:{s}" for s in ident.sizes)}


def name_index_from_rows(
    models: dict[int, Model],
    alias_rows: Iterable[tuple[str, int, str | None]],
    offer_rows: Iterable[tuple[str, int, str]],
) -> NameIndex:
    """The index of these models, their aliases (alias, model id, provider slug or None) and offers (provider's
    model id, model id, provider slug): catalog/resolution_index.py reads the rows and holds the index."""
    index = NameIndex()
    index.models = models
    entries: list[Entry] = []
    for model in index.models.values():
        entries.append(Entry(model.slug, fuzzy_key(model.slug), model.pk, SLUG))
        entries.append(Entry(model.name, fuzzy_key(model.name), model.pk, NAME))
        index.by_name.setdefault(model.name.lower(), model.pk)
    for alias, model_id, provider in alias_rows:
        entries.append(Entry(alias, fuzzy_key(alias), model_id, ALIAS, provider or ""))
        if provider:
            index.at_provider.setdefault((provider, alias.lower()), set()).add(model_id)
    providers = set()
    for provider_id, model_id, provider in offer_rows:
        providers.add(provider)
        lowered = provider_id.lower()
        index.at_provider.setdefault((provider, lowered), set()).add(model_id)
        index.offer_ids.setdefault(lowered, set()).add(model_id)
        entries.append(Entry(provider_id, fuzzy_key(provider_id), model_id, OFFER, provider))
    index.providers = frozenset(providers)
    seen: set[tuple[str, int]] = set()
    by_token: dict[str, list[int]] = defaultdict(list)
    stamps: dict[int, set[str]] = defaultdict(set)
    for entry in entries:
        if (entry.text.lower(), entry.model_id) in seen or entry.model_id not in index.models:
            continue
        seen.add((entry.text.lower(), entry.model_id))
        position = len(index.entries)
        index.entries.append(entry)
        ident = entry.identity
        for token in tokens_of(ident):
            by_token[token].append(position)
        stamps[entry.model_id].update(ident.stamps)
        if entry.kind in (SLUG, ALIAS):
            index.by_text.setdefault(entry.text.lower(), set()).add(entry.model_id)
        key = normalise_name(entry.text)
        object.__setattr__(entry, "normal", key)
        if key:
            index.by_key.setdefault(key, set()).add(entry.model_id)
    index.by_token = dict(by_token)
    index.model_stamps = {pk: frozenset(values) for pk, values in stamps.items()}
    return index
