"""Alias resolution: any name a model goes by → the canonical model, how it matched and how sure we are.

Every stage answers from the in-process resolution index (catalog/resolution_index.py, held per catalogue version):
exact slugs and aliases (case-insensitive) and normalised spellings are dictionary look-ups, and anything weaker is
decided in Python over its name index (catalog/name_index.py), identically on SQLite and PostgreSQL:
platform spellings (LiteLLM `provider/…`, Bedrock, Vertex, Groq, Fireworks, Hugging Face) are parsed and looked up,
and a near name is an answer only when it agrees on every distinguishing token (catalog/name_agreement.py).
"""

from __future__ import annotations

import difflib
import heapq
import unicodedata
from dataclasses import dataclass, field, replace
from functools import reduce
from operator import or_

from django.db.models import Q
from django.db.models.functions import Lower

from catalog.identity.tokens import Identity, identity, size_label
from catalog.models import Alias, Model
from catalog.name_agreement import (
    IMPLIED_VARIANTS,
    disagreement,
    slug_disagreement,
    stamp_known,
    stamp_named,
    stamps_agree,
)
from catalog.name_index import MODEL_FIELDS, NameIndex, tokens_of
from catalog.resolution_index import AliasName, ResolutionIndex, resolution_index
from catalog.spellings import NORMALISED_CONFIDENCE, fuzzy_key, name_variants, normalise_name, platform_forms

EXACT_SLUG, EXACT_ALIAS, NORMALISED, FUZZY = "exact_slug", "exact_alias", "normalised", "fuzzy"
# Fuzzy matches never claim to be as sure as a normalised one, nor less sure than the threshold they passed.
FUZZY_MAX_CONFIDENCE = 0.89
FUZZY_MIN_CONFIDENCE = 0.5
# A near name that disagrees on a distinguishing token is only a suggestion, at a fraction of its similarity.
OTHER_MODEL_FACTOR = 0.5
SUGGESTION_MIN_SIMILARITY = 0.3
AMBIGUOUS = "fits, but so does another model: which one is not ours to guess"
LESS_CLOSE = "fits, less closely than the answer"
# Entries compared per query at most (the ones sharing the most tokens with it).
POOL_SIZE = 200
# Models whose closest name is compared in full (difflib) per query.
SIMILARITY_COMPARED = 24

__all__ = [
    "MODEL_FIELDS",
    "ModelMatch",
    "Resolution",
    "model_lookup_exact",
    "model_resolve_known",
    "model_resolve_name",
    "near_matches",
]


@dataclass(frozen=True)
class ModelMatch:
    model: Model
    confidence: float
    matched: str  # the slug, name or alias that came closest
    reason: str = ""  # why it was not taken as the answer ("other version 4.5 vs 4.1"); empty for the answer


@dataclass(frozen=True)
class Resolution:
    query: str
    model: Model | None
    match: str | None = None
    confidence: float = 0.0
    matched: str | None = None
    candidates: list[ModelMatch] = field(default_factory=list)


def _slug_is_one_of(names: set[str]) -> Q:
    # OR of equalities, not `slug IN (...)`: PostgreSQL answers `= ANY` from the trigram index (milliseconds on
    # look-alike slugs) but each equality from the unique b-tree.
    return reduce(or_, (Q(slug=name) for name in names))


def _models_by_slug(names: set[str]) -> list[Model]:
    return list(Model.objects.only(*MODEL_FIELDS).filter(_slug_is_one_of(names)))


def _exact_aliases(lowered: set[str]) -> list[Alias]:
    """Aliases equal to one of `lowered` ignoring case: look-ups of the lower(alias) b-tree (an exact alias is among
    them). An OR of equalities, not `IN (...)`: PostgreSQL answers `= ANY` from the trigram GIN index (14 ms on the
    bundled catalogue) but each equality from the b-tree (0.3 ms); an OR with `alias = name` would scan the table."""
    if not lowered:
        return []
    matches = reduce(or_, (Q(alias_lower=value) for value in lowered))
    aliases = Alias.objects.annotate(alias_lower=Lower("alias")).filter(matches)
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


def _dated(ident: Identity) -> set[str]:
    return {s for s in ident.stamps if len(s) != 3}  # `-001` is a revision, not a date


def _other_snapshot(query: Identity, model: Model) -> bool:
    """The query names a dated snapshot and the model is another date's (mistral-large-2402 vs mistral-large-2512)."""
    mine = {s for s in query.stamps if len(s) != 3}
    theirs = {s for s in identity(model.slug).stamps if len(s) != 3}
    return bool(mine and theirs) and not any(stamps_agree(a, b) for a in mine for b in theirs)


# Dashes a name copied from a web page or a document may carry in place of the hyphen-minus.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63", "-"))


def plain_spelling(name: str) -> str:
    """The name as typed on a keyboard: compatibility forms folded (NFKC: full-width `ｇｐｔ－４ｏ`, no-break
    spaces), typographic dashes as `-`. Only the typography changes, never a letter or a digit."""
    if name.isascii():
        return name
    return unicodedata.normalize("NFKC", name).translate(_DASHES).strip()


def model_resolve_name(name: str, *, catalogue_version: int | None = None) -> Resolution:
    """Resolve `name` in stages: exact slug/alias, case-insensitive, normalised spellings (slugs and aliases, then
    model names), parsed platform spellings, then a near name that agrees on every distinguishing token.

    Every stage reads the in-process resolution index: no query while the catalogue is unchanged (its version is
    `catalogue_version`, the API cache's `catalogue` token, when the caller has read it; see resolution_index()).
    """
    asked = name.strip()
    name = plain_spelling(asked)
    if not name:
        return Resolution(query=asked, model=None)
    resolver = resolution_index(catalogue_version)
    known = _resolve_by_index(name, resolver)
    result = known if known is not None else _decide(name, resolver.names, platform_forms(name)[1])
    return result if name == asked else replace(result, query=asked)


def model_resolve_known(name: str, *, catalogue_version: int | None = None) -> Resolution | None:
    """`model_resolve_name`'s answer when an exact, alias or normalised stage finds it (dictionary look-ups in the
    in-process index); None when only the near-name search could tell (a fuzzy answer, or no match)."""
    asked = name.strip()
    name = plain_spelling(asked)
    if not name:
        return None
    known = _resolve_by_index(name, resolution_index(catalogue_version))
    return known if known is None or name == asked else replace(known, query=asked)


def _resolve_by_index(name: str, resolver: ResolutionIndex) -> Resolution | None:
    """The exact, alias and normalised stages of `model_resolve_name`, in its order; None when none answers."""
    lowered = name.lower()
    variants = name_variants(name)
    spellings = {lowered, *(value for value, _ in variants)}
    query_identity = identity(name)
    index = resolver.names

    def found(model, match, confidence, matched) -> Resolution:
        return Resolution(query=name, model=model, match=match, confidence=confidence, matched=matched)

    by_slug = resolver.models_by_slug({name, *spellings})
    if name in by_slug:  # the common case
        return found(by_slug[name], EXACT_SLUG, 1.0, name)
    aliases = resolver.aliases_lowered(spellings)
    by_alias = {alias.alias: alias for alias in aliases}
    by_alias_lower: dict[str, AliasName] = {}
    for alias in aliases:
        by_alias_lower.setdefault(alias.alias.lower(), alias)

    if name in by_alias:
        return found(by_alias[name].model, EXACT_ALIAS, 1.0, name)
    if lowered in by_slug:
        return found(by_slug[lowered], EXACT_SLUG, 1.0, lowered)
    if lowered in by_alias_lower:
        alias = by_alias_lower[lowered]
        return found(alias.model, EXACT_ALIAS, 1.0, alias.alias)
    providers, forms = platform_forms(name)
    if providers:  # a provider's own id first: `groq/llama3-70b-8192` is what groq calls it
        at_provider = _at_provider(index, providers, forms)
        if at_provider:
            return found(index.models[at_provider[0]], NORMALISED, NORMALISED_CONFIDENCE, at_provider[1])
    for value, confidence in variants:
        hit = by_slug.get(value) or (by_alias_lower[value].model if value in by_alias_lower else None)
        if hit is None or _other_snapshot(query_identity, hit):
            continue
        if confidence < NORMALISED_CONFIDENCE or not query_identity.stamps:  # a dropped suffix, an undated name
            if not _normalised_is_sure(index, query_identity, hit.pk, lossy=confidence < NORMALISED_CONFIDENCE):
                continue
        matched = value if value in by_slug else by_alias_lower[value].alias
        return found(hit, NORMALISED, confidence, matched)
    for value, confidence in [(lowered, NORMALISED_CONFIDENCE), *variants]:
        model_id = index.by_name.get(value)
        if model_id is None or _other_snapshot(query_identity, index.models[model_id]):
            continue
        if _normalised_is_sure(index, query_identity, model_id):
            model = index.models[model_id]
            return found(model, NORMALISED, confidence, model.name)
    for form in forms[:1]:  # `anyscale/mistralai/Mixtral-8x22B-Instruct-v0.1`: an alias behind a route prefix
        model_ids = index.by_text.get(form, set())
        if len(model_ids) == 1 and form != lowered and _normalised_is_sure(index, query_identity, min(model_ids)):
            return found(index.models[min(model_ids)], NORMALISED, NORMALISED_CONFIDENCE, form)
    for form in forms:  # a provider's id, whichever provider: when every provider means the same model
        model_ids = index.offer_ids.get(form, set())
        if len(model_ids) == 1 and _pins_a_release(identity(form)):
            return found(index.models[next(iter(model_ids))], NORMALISED, NORMALISED_CONFIDENCE, form)
    return None


def _pins_a_release(ident: Identity) -> bool:
    """An id that names one release (a version, a size or a date), not a moving pointer such as `mistral-large`
    or `mistral-small` that one provider maps to this year's model and another to last year's."""
    return bool(ident.versions or ident.sizes or ident.stamps)


def _normalised_is_sure(index: NameIndex, query: Identity, model_id: int, *, lossy: bool = False) -> bool:
    """A spelling that dropped something still names this model: a dropped date stamp is one the model is known
    under, and an undated name of a dated model has no other-dated sibling (mistral-large-2411 or -2512?)."""
    stamps = index.model_stamps.get(model_id, frozenset())
    if not (stamp_named(query, stamps) if lossy and _dated(query) else stamp_known(query, stamps)):
        return False  # a dropped `-2312` is a snapshot we must know the model under
    return bool(query.stamps) or not _dated(identity(index.models[model_id].slug))


def _at_provider(index: NameIndex, providers: tuple[str, ...], forms: list[str]) -> tuple[int, str] | None:
    for form in forms:
        for provider in providers:
            model_ids = index.at_provider.get((provider, form), set())
            if len(model_ids) == 1:
                return next(iter(model_ids)), form
    return None


@dataclass
class _Near:
    model_id: int
    similarity: float
    matched: str
    reason: str | None
    exact: bool = False
    implied_reason: str | None = None  # the reason when a size-implied variant (Llama 3.2 11B → vision) may be left out
    key: str = ""


def _with_parameters(ident: Identity, model: Model, query: Identity) -> Identity:
    """A name without a size stands for the model's own parameter count when the catalogue knows it (compared only
    with a query that states a size)."""
    if not query.sizes or ident.sizes or not model.parameters_total:
        return ident
    return replace(ident, sizes=frozenset({size_label(model.parameters_total / 1e9)}))


def _pool(index: NameIndex, query: Identity) -> list[tuple[int, int]]:
    """(entry position, tokens shared with the query) of the entries sharing the most identity tokens with it."""
    counts: dict[int, int] = {}
    for token in tokens_of(query):
        for position in index.by_token.get(token, ()):
            counts[position] = counts.get(position, 0) + 1
    return heapq.nsmallest(POOL_SIZE, counts.items(), key=lambda item: (-item[1], item[0]))


def _reason(index: NameIndex, query: Identity, ident: Identity, model_id: int, implied=frozenset()) -> str | None:
    model = index.models[model_id]
    reason = disagreement(query, _with_parameters(ident, model, query), implied=implied)
    if reason is None:
        reason = slug_disagreement(query, identity(model.slug), implied=implied)
    if reason is None and not stamp_known(query, index.model_stamps.get(model_id, frozenset())):
        reason = f"no snapshot {'/'.join(sorted(query.stamps))} known"
    if reason is None and _other_snapshot(query, model):
        reason = f"other date {model.slug}"
    return reason


def _near(index: NameIndex, name: str, forms: list[str]) -> list[_Near]:
    """The models near `name`, each with its closest entry and why it is not the answer (None: it agrees)."""
    form = forms[-1] if forms else name.lower()
    query = identity(form)
    exact_key = normalise_name(form)
    best: dict[int, _Near] = {}
    matcher = difflib.SequenceMatcher(None, b=fuzzy_key(form))
    reasons: dict[tuple[Identity, int], tuple[str | None, str | None]] = {}
    wanted = len(fuzzy_key(form))
    for position, shared in _pool(index, query):
        entry = index.entries[position]
        ident = entry.identity
        if (ident, entry.model_id) not in reasons:
            reason = _reason(index, query, ident, entry.model_id)
            implied = reason
            if reason is not None and query.sizes and ident.strong & IMPLIED_VARIANTS:
                implied = _reason(index, query, ident, entry.model_id, IMPLIED_VARIANTS)
            reasons[ident, entry.model_id] = (reason, implied)
        reason, implied = reasons[ident, entry.model_id]
        current = best.get(entry.model_id)
        exact = entry.normal == exact_key
        # until compared in full, similarity orders by shared tokens, then by closeness in length
        near = _Near(entry.model_id, shared - abs(len(entry.key) - wanted) / 100, entry.text, reason, exact, implied)
        near.key = entry.key
        if current is None or _rank(near) < _rank(current):
            best[entry.model_id] = near
    # The closest entry of each model; the true similarity for the ones shown.
    ranked = sorted(best.values(), key=_rank)
    for near in ranked[:SIMILARITY_COMPARED]:
        matcher.set_seq1(near.key)
        near.similarity = matcher.ratio()
    return sorted(ranked[:SIMILARITY_COMPARED], key=lambda n: (*_rank(n), index.models[n.model_id].slug))


def _rank_of(reason: str | None, exact: bool, similarity: float) -> tuple:
    return (reason is not None, not exact, -similarity)


def _rank(near: _Near) -> tuple:
    return _rank_of(near.reason, near.exact, near.similarity)


def _decide(name: str, index: NameIndex, forms: list[str]) -> Resolution:
    nears = _near(index, name, forms)
    agreeing = [n for n in nears if n.reason is None]
    query = identity(forms[-1] if forms else name)
    if not agreeing:
        implied = [n for n in nears if n.implied_reason is None]
        agreeing = implied if len(implied) == 1 else []
    answer = _choose(index, query, agreeing)
    if answer is not None and _sibling_fits_better(index, query, answer, nears):
        answer = None
    others = [n for n in nears if answer is None or n.model_id != answer.model_id]
    fits = AMBIGUOUS if answer is None else LESS_CLOSE
    suggestions = [_match(index, n, fits) for n in others if n.similarity >= SUGGESTION_MIN_SIMILARITY][:5]
    if answer is None:
        return Resolution(query=name, model=None, candidates=suggestions)
    model = index.models[answer.model_id]
    if answer.exact:
        return Resolution(name, model, NORMALISED, NORMALISED_CONFIDENCE, answer.matched, suggestions)
    confidence = round(min(max(answer.similarity, FUZZY_MIN_CONFIDENCE), FUZZY_MAX_CONFIDENCE), 3)
    return Resolution(name, model, FUZZY, confidence, answer.matched, suggestions)


def _choose(index: NameIndex, query: Identity, agreeing: list[_Near]) -> _Near | None:
    """The agreeing model, or None when the agreeing models are other snapshots of one another (ambiguous)."""
    if len(agreeing) <= 1:
        return agreeing[0] if agreeing else None
    dated = {n.model_id: {s for s in identity(index.models[n.model_id].slug).stamps if len(s) != 3} for n in agreeing}
    if not query.stamps:
        undated = [n for n in agreeing if not dated[n.model_id]]
        if undated:
            return undated[0]
        return None  # mistral-large-2411 or mistral-large-2512: which one is not ours to guess
    # a date stamp that names a distinct model wins over the undated one (qwen3-235b-a22b-2507)
    named = [n for n in agreeing if stamp_named(query, index.model_stamps.get(n.model_id, frozenset()))]
    return (named or agreeing)[0]


def _sibling_fits_better(index: NameIndex, query: Identity, answer: _Near, nears: list[_Near]) -> bool:
    """The answer's slug adds weak words the query does not say (`instruct`, `turbo`), and a model the query was
    refused for is that model without them (qwen3-vl-8b: instruct or thinking? gpt-4-0613: gpt-4, not gpt-4-turbo)."""
    slug = identity(index.models[answer.model_id].slug)
    extra = slug.variants - slug.strong - query.variants
    if not extra:
        return False
    key = _family_key(slug)
    for near in nears:
        other = identity(index.models[near.model_id].slug)
        if near.reason is not None and _family_key(other) == key and not extra <= other.variants:
            return True
    return False


def _family_key(ident: Identity) -> tuple:
    bare = ident.without(weak=True, stamps=True)
    return replace(bare, variants=bare.variants - {"thinking", "reasoning"}).key


def _match(index: NameIndex, near: _Near, fits: str = "") -> ModelMatch:
    """`fits`: the reason an agreeing model was not taken (another fits as well, or better)."""
    confidence = min(near.similarity, FUZZY_MAX_CONFIDENCE)
    if near.reason is not None:
        confidence *= OTHER_MODEL_FACTOR
    model, reason = index.models[near.model_id], near.reason or fits
    return ModelMatch(model=model, confidence=round(max(confidence, 0.001), 3), matched=near.matched, reason=reason)


def near_matches(name: str, limit: int = 5, *, aliases: bool = True) -> list[ModelMatch]:
    """The models whose names look most like `name`, best first: those that agree with it on every distinguishing
    token first, then the others at half their similarity, each saying why it is not `name`."""
    index = resolution_index().names
    _, forms = platform_forms(name)
    nears = _near(index, name, forms)
    return [_match(index, n) for n in nears if n.similarity >= SUGGESTION_MIN_SIMILARITY][:limit]
