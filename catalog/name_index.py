"""Every name the catalogue knows, in memory: slugs, model names, aliases and the providers' own model ids.

Built once per catalogue version (a cheap fingerprint query: row counts, newest ids and change times) and shared by
the process, so fuzzy and parsed resolution decide in Python over the same rows on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection

from catalog import cache_tags
from catalog.identity.tokens import Identity, identity
from catalog.models import Alias, Mapping, Model
from catalog.spellings import fuzzy_key, normalise_name
from modelgraph.api import cache as api_cache

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


def _fingerprint() -> tuple:
    """Changes whenever a model or alias is added, removed or saved, or an offer added; and with the API cache's
    catalogue version (bumped by every committed catalogue write) when the cache answers."""
    parts = []
    for table in (Model._meta.db_table, Alias._meta.db_table):
        quoted = connection.ops.quote_name(table)
        parts += [f"(SELECT COUNT(*) FROM {quoted})", f"(SELECT MAX(id) FROM {quoted})"]
        parts.append(f"(SELECT MAX(updated_at) FROM {quoted})")
    parts.append(f"(SELECT MAX(id) FROM {connection.ops.quote_name(Mapping._meta.db_table)})")  # a wide table
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        row = cursor.fetchone()
    version = api_cache.versions([cache_tags.CATALOGUE]) if api_cache.enabled() else None
    return (connection.alias, connection.settings_dict.get("NAME"), version, *(str(value) for value in row))


def _build() -> NameIndex:
    index = NameIndex()
    index.models = {m.pk: m for m in Model.objects.only(*MODEL_FIELDS)}
    entries: list[Entry] = []
    for model in index.models.values():
        entries.append(Entry(model.slug, fuzzy_key(model.slug), model.pk, SLUG))
        entries.append(Entry(model.name, fuzzy_key(model.name), model.pk, NAME))
        index.by_name.setdefault(model.name.lower(), model.pk)
    for alias, model_id, provider in Alias.objects.values_list("alias", "model_id", "provider__slug"):
        entries.append(Entry(alias, fuzzy_key(alias), model_id, ALIAS, provider or ""))
        if provider:
            index.at_provider.setdefault((provider, alias.lower()), set()).add(model_id)
    providers = set()
    for provider_id, model_id, provider in Mapping.objects.values_list(
        "provider_model_id", "model_id", "provider__slug"
    ):
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


_lock = threading.Lock()
_cached: tuple[tuple, NameIndex] | None = None


def name_index() -> NameIndex:
    """The index for the catalogue as it is now: one fingerprint query, a rebuild (four queries) when it changed."""
    global _cached
    fingerprint = _fingerprint()
    cached = _cached
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    with _lock:
        index = _build()
        _cached = (fingerprint, index)
    return index
