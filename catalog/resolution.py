"""Alias resolution: any name a model goes by → the canonical model, how it matched and how sure we are."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Q
from django.db.models.functions import Greatest, Lower, Upper

from catalog.models import Alias, Model
from catalog.spellings import NORMALISED_CONFIDENCE, fuzzy_key, name_variants

EXACT_SLUG, EXACT_ALIAS, NORMALISED, FUZZY = "exact_slug", "exact_alias", "normalised", "fuzzy"
# Fuzzy matches never claim to be as sure as a normalised one.
FUZZY_MAX_CONFIDENCE = 0.89
# A near name with other version numbers (claude-3-7-sonnet vs claude-3-5-sonnet) is another model: it stays a
# near match at a fraction of its similarity and is never taken as the answer.
OTHER_VERSION_FACTOR = 0.5
_NUMBERS = re.compile(r"\d+")


@dataclass(frozen=True)
class ModelMatch:
    model: Model
    confidence: float
    matched: str  # the slug, name or alias that came closest


@dataclass(frozen=True)
class Resolution:
    query: str
    model: Model | None
    match: str | None = None
    confidence: float = 0.0
    matched: str | None = None
    candidates: list[ModelMatch] = field(default_factory=list)


# What a resolution (and a ModelRef) reads of a model: fewer columns to compile, send and parse than whole rows.
MODEL_FIELDS = ("slug", "name", "status", "creator", "family", "successor")


def _slug_is_one_of(names: set[str]) -> Q:
    # OR of equalities, not `slug IN (...)`: PostgreSQL answers `= ANY` from the trigram index (milliseconds on
    # look-alike slugs) but each equality from the unique b-tree.
    return reduce(or_, (Q(slug=name) for name in names))


def _models_by_slug(names: set[str]) -> list[Model]:
    return list(Model.objects.only(*MODEL_FIELDS).filter(_slug_is_one_of(names)))


def _models_by_name(names: set[str]) -> list[Model]:
    """Models whose name is one of `names` ignoring case. (upper(name), not lower: the lower(name) trigram index
    would be chosen for the equality and be slower than reading every row; asked only when slugs and aliases
    said nothing.)"""
    models = Model.objects.only(*MODEL_FIELDS).annotate(name_upper=Upper("name"))
    return list(models.filter(name_upper__in={name.upper() for name in names}))


def _exact_aliases(lowered: set[str]) -> list[Alias]:
    """Aliases equal to one of `lowered` ignoring case: one look-up of the lower(alias) index (an exact alias is
    among them; an OR with `alias = name` would make PostgreSQL scan the whole table)."""
    aliases = Alias.objects.annotate(alias_lower=Lower("alias")).filter(alias_lower__in=lowered)
    return list(aliases.select_related("model").only("alias", "model", *(f"model__{f}" for f in MODEL_FIELDS)))


def model_lookup_exact(name: str) -> tuple[Model, str] | None:
    """The model whose slug or alias is `name`: exact first, then case-insensitive. None when there is none."""
    if not name:
        return None
    lowered = name.lower()
    models = {m.slug: m for m in Model.objects.only(*MODEL_FIELDS).filter(_slug_is_one_of({name, lowered}))}
    if name in models:
        return models[name], EXACT_SLUG
    aliases = _exact_aliases({lowered})
    for alias in aliases:
        if alias.alias == name:
            return alias.model, EXACT_ALIAS
    if lowered in models:
        return models[lowered], EXACT_SLUG
    if aliases:
        return min(aliases, key=lambda a: a.alias).model, EXACT_ALIAS
    return None


def model_resolve_name(name: str) -> Resolution:
    """Resolve `name` in stages: exact slug/alias, case-insensitive, normalised spellings (slugs and aliases, then
    model names), then fuzzy similarity.

    Indexed look-ups answer exact and normalised names (one query for a slug, two for an alias); model names add a
    scan of the models; fuzzy matching adds trigram queries.
    """
    name = name.strip()
    if not name:
        return Resolution(query=name, model=None)
    lowered = name.lower()
    variants = name_variants(name)
    spellings = {lowered, *(value for value, _ in variants)}

    def found(model, match, confidence, matched) -> Resolution:
        return Resolution(query=name, model=model, match=match, confidence=confidence, matched=matched)

    by_slug = {model.slug: model for model in _models_by_slug({name, *spellings})}
    if name in by_slug:  # the common case answers from one query
        return found(by_slug[name], EXACT_SLUG, 1.0, name)
    aliases = sorted(_exact_aliases(spellings), key=lambda a: a.alias)
    by_alias = {alias.alias: alias for alias in aliases}
    by_alias_lower = {}
    for alias in aliases:
        by_alias_lower.setdefault(alias.alias.lower(), alias)

    if name in by_alias:
        return found(by_alias[name].model, EXACT_ALIAS, 1.0, name)
    if lowered in by_slug:
        return found(by_slug[lowered], EXACT_SLUG, 1.0, lowered)
    if lowered in by_alias_lower:
        alias = by_alias_lower[lowered]
        return found(alias.model, EXACT_ALIAS, 1.0, alias.alias)
    for value, confidence in variants:
        if value in by_slug:
            return found(by_slug[value], NORMALISED, confidence, value)
        if value in by_alias_lower:
            alias = by_alias_lower[value]
            return found(alias.model, NORMALISED, confidence, alias.alias)
    by_name = {model.name.lower(): model for model in _models_by_name({name, *spellings})}
    for value, confidence in [(lowered, NORMALISED_CONFIDENCE), *variants]:
        if value in by_name:
            return found(by_name[value], NORMALISED, confidence, by_name[value].name)

    candidates = near_matches(name)
    if candidates and candidates[0].confidence >= settings.RESOLVE_FUZZY_THRESHOLD:
        best = candidates[0]
        return Resolution(
            query=name,
            model=best.model,
            match=FUZZY,
            confidence=best.confidence,
            matched=best.matched,
            candidates=candidates[1:],
        )
    return Resolution(query=name, model=None, candidates=candidates)


def near_matches(name: str, limit: int = 5, *, aliases: bool = True) -> list[ModelMatch]:
    """The models whose slug, name or (with `aliases`) an alias look most like `name`, best first, with a similarity
    in [0, 0.89] (halved when the version numbers differ)."""
    key = fuzzy_key(name)
    if not key.strip("-."):
        return []
    if connection.vendor != "postgresql":
        return _ranked(_similar_portable(key, limit), key, limit)
    # Slugs and names first (thousands of rows); the aliases (ten times as many) only when they say nothing sure.
    models = _similar_models(key, limit)
    candidates = _ranked(models, key, limit)
    if not aliases or (candidates and candidates[0].confidence >= settings.RESOLVE_FUZZY_THRESHOLD):
        return candidates
    return _ranked(models + _similar_aliases(key, name.strip().lower(), limit), key, limit)


def _ranked(scored: list[tuple[Model, float, str]], key: str, limit: int) -> list[ModelMatch]:
    wanted_numbers = set(_NUMBERS.findall(key))
    best: dict[int, ModelMatch] = {}
    for model, similarity, matched in scored:
        confidence = min(float(similarity), FUZZY_MAX_CONFIDENCE)
        if not wanted_numbers <= set(_NUMBERS.findall(matched.lower())):
            confidence *= OTHER_VERSION_FACTOR
        confidence = round(confidence, 3)
        if model.pk not in best or confidence > best[model.pk].confidence:
            best[model.pk] = ModelMatch(model=model, confidence=confidence, matched=matched)
    return sorted(best.values(), key=lambda c: (-c.confidence, c.model.slug))[:limit]


def _similar_models(key: str, limit: int) -> list[tuple[Model, float, str]]:
    # `%` (trigram_similar) on lower(name), slug and lower(alias) is what the GIN trigram indexes of 0002 serve.
    models = (
        Model.objects.only(*MODEL_FIELDS)
        .annotate(
            name_lower=Lower("name"),
            similarity=Greatest(TrigramSimilarity("slug", key), TrigramSimilarity(Lower("name"), key)),
        )
        .filter(Q(slug__trigram_similar=key) | Q(name_lower__trigram_similar=key))
        .order_by("-similarity", "slug")[:limit]
    )
    return [(m, m.similarity, m.slug) for m in models]


def _similar_aliases(key: str, lowered: str, limit: int) -> list[tuple[Model, float, str]]:
    aliases = (
        Alias.objects.annotate(
            alias_lower=Lower("alias"),
            similarity=Greatest(TrigramSimilarity(Lower("alias"), key), TrigramSimilarity(Lower("alias"), lowered)),
        )
        .filter(Q(alias_lower__trigram_similar=key) | Q(alias_lower__trigram_similar=lowered))
        .select_related("model")
        .only("alias", "model", *(f"model__{f}" for f in MODEL_FIELDS))
        .order_by("-similarity", "alias")[: limit * 2]
    )
    return [(a.model, a.similarity, a.alias) for a in aliases]


def _similar_portable(key: str, limit: int) -> list[tuple[Model, float, str]]:
    """difflib over every slug, name and alias: fine for the embedded catalogue's size."""
    names: dict[str, tuple[int, str]] = {}
    for pk, slug, model_name in Model.objects.values_list("pk", "slug", "name"):
        names.setdefault(slug, (pk, slug))
        names.setdefault(model_name.lower(), (pk, model_name))
    for pk, alias in Alias.objects.values_list("model_id", "alias"):
        names.setdefault(alias.lower(), (pk, alias))
    close = difflib.get_close_matches(key, list(names), n=limit * 3, cutoff=0.3)
    scored = {names[value]: difflib.SequenceMatcher(None, key, value).ratio() for value in close}
    models = Model.objects.in_bulk({pk for pk, _ in scored})
    return [(models[pk], ratio, matched) for (pk, matched), ratio in scored.items() if pk in models]
