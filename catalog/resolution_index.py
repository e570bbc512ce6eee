"""The in-process resolution index: every exact key name resolution looks up, held per process by catalogue version.

Built from the database in three queries (models, aliases, offers): slugs and aliases (exact and lower-cased), the
name index of catalog/name_index.py (model names, providers' own ids per provider, normalised spellings and tokens).
Each process holds (version, index) and compares the version with the catalogue's on every use:

- outside a transaction the version is the API cache's `catalogue` token (catalog/cache_tags.py), which every
  committed catalogue write bumps in every process' view; /api/resolve passes the token its own cache look-up read,
  so an exact, alias or normalised match needs no query at all;
- every catalogue row saved or deleted in this process, and every `catalogue_changed`, also bumps a process-local
  generation: a write is never followed by a stale answer here, even while the cache cannot be reached;
- inside a transaction (bulk writes there announce themselves only when it commits), and while the cache cannot
  vouch for versions, a fingerprint query of the rows (counts, newest ids, change times) is the version instead;
- with a cache only this process sees (LocMemCache, the embedded default) another process' write (a registry load
  from the command line) bumps nothing here: the fingerprint is then re-read at most every FINGERPRINT_SECONDS.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.db.models.signals import post_delete, post_save

from catalog import cache_tags
from catalog.models import Alias, Mapping, Model, Provider
from catalog.name_index import MODEL_FIELDS, NameIndex, name_index_from_rows
from catalog.signals import catalogue_changed
from modelgraph.api import cache as api_cache

__all__ = ["AliasName", "ResolutionIndex", "resolution_index", "resolution_index_build"]

# How stale another process' write may leave the index when the cache is this process' own (see above).
FINGERPRINT_SECONDS = 1.0


@dataclass(frozen=True)
class AliasName:
    """One alias as resolution reads it: the text as stored and its model."""

    alias: str
    model: Model


@dataclass
class ResolutionIndex:
    names: NameIndex
    # slug as stored → model
    slugs: dict[str, Model] = field(default_factory=dict)
    # lower-cased alias → the aliases spelled so (one: aliases are unique, but kept general)
    aliases: dict[str, tuple[AliasName, ...]] = field(default_factory=dict)

    def models_by_slug(self, names: set[str]) -> dict[str, Model]:
        """The models whose slug is exactly one of `names` (case matters)."""
        return {name: self.slugs[name] for name in names if name in self.slugs}

    def aliases_lowered(self, lowered: set[str]) -> list[AliasName]:
        """The aliases equal to one of `lowered` ignoring case, in alias order."""
        found = [alias for value in lowered for alias in self.aliases.get(value, ())]
        return sorted(found, key=lambda alias: alias.alias)


def resolution_index_build() -> ResolutionIndex:
    """The index of the catalogue as the database holds it now (three queries)."""
    models = {model.pk: model for model in Model.objects.only(*MODEL_FIELDS)}
    alias_rows = list(Alias.objects.values_list("alias", "model_id", "provider__slug"))
    offer_rows = list(Mapping.objects.values_list("provider_model_id", "model_id", "provider__slug"))
    index = ResolutionIndex(names=name_index_from_rows(models, alias_rows, offer_rows))
    index.slugs = {model.slug: model for model in models.values()}
    aliases: dict[str, list[AliasName]] = {}
    for alias, model_id, _ in alias_rows:
        if model_id in models:
            aliases.setdefault(alias.lower(), []).append(AliasName(alias, models[model_id]))
    index.aliases = {key: tuple(sorted(values, key=lambda a: a.alias)) for key, values in aliases.items()}
    return index


_lock = threading.Lock()
_held: tuple[tuple, ResolutionIndex] | None = None
_generation = 0


def _bump_generation(*args, **kwargs) -> None:
    global _generation
    with _lock:
        _generation += 1


def _fingerprint() -> tuple:
    """Changes whenever a model or alias is added, removed or saved, or an offer added."""
    parts = []
    for table in (Model._meta.db_table, Alias._meta.db_table):
        quoted = connection.ops.quote_name(table)
        parts += [f"(SELECT COUNT(*) FROM {quoted})", f"(SELECT MAX(id) FROM {quoted})"]
        parts.append(f"(SELECT MAX(updated_at) FROM {quoted})")
    parts.append(f"(SELECT MAX(id) FROM {connection.ops.quote_name(Mapping._meta.db_table)})")  # a wide table
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        row = cursor.fetchone()
    return ("rows", *(str(value) for value in row))


_recent: tuple[float, tuple] | None = None


def _recent_fingerprint() -> tuple:
    global _recent
    now = time.monotonic()
    recent = _recent
    if recent is None or now - recent[0] >= FINGERPRINT_SECONDS:
        recent = _recent = (now, _fingerprint())
    return recent[1]


def _catalogue_version(known: int | None) -> tuple:
    if connection.in_atomic_block:  # this transaction's bulk writes bump the cache only when it commits
        return _fingerprint()
    if known is None:
        tag_versions = api_cache.versions([cache_tags.CATALOGUE]) if api_cache.enabled() else None
        if tag_versions is None:  # no cache to vouch (disabled or down): another process's write shows within a
            return ("rows", _recent_fingerprint())  # second; this process's own writes bump `_generation` at once
        known = tag_versions[cache_tags.CATALOGUE]
    if isinstance(caches["default"], LocMemCache):  # no other process bumps this cache
        return ("cache", known, _recent_fingerprint())
    return ("cache", known)


def resolution_index(catalogue_version: int | None = None) -> ResolutionIndex:
    """The index for the catalogue as it is now, rebuilt when the catalogue changed since this process built it.

    `catalogue_version`: the API cache's current `catalogue` token when the caller has already read it (a request's
    cache look-up); otherwise it is read here (one cache round trip, or one fingerprint query without the cache).
    """
    global _held
    generation = _generation  # read before the rows: a write during the build leaves the index behind, not ahead
    version = (
        connection.alias,
        connection.settings_dict.get("NAME"),
        generation,
        _catalogue_version(catalogue_version),
    )
    held = _held
    if held is not None and held[0] == version:
        return held[1]
    index = resolution_index_build()
    with _lock:
        _held = (version, index)
    return index


for _row_class in (Provider, Model, Alias, Mapping):
    _uid = f"catalog.resolution_index.{_row_class.__name__}"
    post_save.connect(_bump_generation, sender=_row_class, weak=False, dispatch_uid=f"{_uid}.post_save")
    post_delete.connect(_bump_generation, sender=_row_class, weak=False, dispatch_uid=f"{_uid}.post_delete")
catalogue_changed.connect(_bump_generation, weak=False, dispatch_uid="catalog.resolution_index.catalogue_changed")
