"""Ranked model search over names, slugs and aliases that reads model names: numbers, sizes and versions in the
query must match, exact and prefix token matches rank above similarity, and the number of offers breaks ties.

The database only proposes candidates (a substring of any query token in a name, slug or alias, the same on SQLite
and PostgreSQL); the ranking is decided here, in Python, so both databases answer alike. Three queries whatever the
term: the candidates, their aliases, and the ranked page itself (a queryset, so filters, counts and pages still
apply)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from catalog.identity.tokens import Identity, identity, sizes_close
from catalog.models import Alias, Mapping

MAX_TERM_LENGTH = 200
SIMILAR = 0.8  # difflib ratio from which a query word counts as a misspelling of a name word
EXACT, PREFIX = 3.0, 2.0  # word scores; a similar word scores its ratio (< 1), always below a prefix
_RAW_SPLIT = re.compile(r"[^a-z0-9.]+")
_GLUED = re.compile(r"^([a-z]+)(\d[\d.]*)$")


@dataclass(frozen=True)
class Query:
    text: str  # lowercased, separators unified
    ident: Identity
    words: frozenset[str]  # family and variant words to look for
    fragments: tuple[str, ...]  # what the database looks for (any of them)


def _normal(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.strip().lower())


def _raw_tokens(text: str) -> set[str]:
    tokens: set[str] = set()
    for token in _RAW_SPLIT.split(text.lower()):
        token = token.strip(".")
        if not token:
            continue
        tokens.add(token)
        glued = _GLUED.match(token)
        if glued:
            tokens.update(glued.groups())
    return tokens


def parse_query(term: str) -> Query:
    """The identity of the query (`llama 3.3 70b` → word llama, version 3.3, size 70b) and its database fragments."""
    text = term.strip()[:MAX_TERM_LENGTH]
    ident = identity(text)
    words = ident.words | ident.variants
    raw = sorted(_raw_tokens(text))
    fragments = {token for token in raw if len(token) >= 2} or set(raw) or {text.lower()}
    fragments |= {word[:3] for word in words if len(word) >= 5}  # a misspelt end still finds its candidates
    return Query(text=_normal(text), ident=ident, words=frozenset(words), fragments=tuple(sorted(fragments)))


def _version_match(wanted: str, versions: frozenset[str]) -> int:
    """2 exact, 1 a narrower version (`3` finds 3.3 and `4` finds 4o), 0 none."""
    if wanted in versions:
        return 2
    for version in versions:
        rest = version[len(wanted) :]
        if version.startswith(wanted) and rest and (rest[0] == "." or rest[0].isalpha()):
            return 1
    return 0


def _numbers_penalty(query: Identity, name: Identity) -> int | None:
    """How many of the query's numbers the name matches only loosely; None when one does not match at all."""
    loose = 0
    for size in query.sizes:
        if size in name.sizes or f"a{size}" in name.active:
            continue
        if not any(sizes_close(size, other) for other in name.sizes):
            return None
        loose += 1
    if not query.active <= name.active or not query.stamps <= name.stamps:
        return None
    for version in query.versions:
        found = _version_match(version, name.versions)
        if not found:
            return None
        loose += found == 1
    return loose


@lru_cache(maxsize=65536)
def _similarity(left: str, right: str) -> float:
    return SequenceMatcher(None, left, right).ratio()


def _word_score(word: str, tokens: set[str]) -> tuple[float, str | None]:
    if word in tokens:
        return EXACT, word
    prefixed = sorted(token for token in tokens if token.startswith(word))
    if prefixed:
        return PREFIX, prefixed[0]
    if len(word) < 4:
        return 0.0, None
    ratio, token = max(((_similarity(word, token), token) for token in tokens), default=(0.0, None))
    return (ratio, token) if ratio >= SIMILAR else (0.0, None)


def name_score(query: Query, name: str) -> tuple[int, float, int, int] | None:
    """(exact name, word score, -loose numbers, -extra words) of one name, higher is better; None: not a match."""
    ident = identity(name)
    loose = _numbers_penalty(query.ident, ident)
    if loose is None:
        return None
    own = set(ident.words | ident.variants)
    tokens = own | _raw_tokens(name)
    score, matched = 0.0, set()
    for word in sorted(query.words):
        points, token = _word_score(word, tokens)
        score += points
        matched.add(token)
    if query.words and not score:
        return None
    extra = len((ident.words | ident.strong) - matched - query.words)
    exact = int(_normal(name) == query.text)
    return exact, round(score, 6), -loose, -extra


def ranked_ids(
    query: Query, candidates: list[tuple[int, str, str, int]], aliases: dict[int, list[str]]
) -> list[tuple[int, int]]:
    """Candidate ids that match, best first: best name's score, then the most offers, then the slug."""
    ranked = []
    for pk, slug, name, offers in candidates:
        scores = [name_score(query, spelling) for spelling in (slug, name, *aliases.get(pk, ()))]
        best = max((score for score in scores if score is not None), default=None)
        if best is not None:
            ranked.append((best, offers, slug, pk))
    ranked.sort(key=lambda row: (tuple(-value for value in row[0]), -row[1], row[2]))
    return [(pk, index) for index, (_, _, _, pk) in enumerate(ranked)]


def model_search(queryset: QuerySet, term: str) -> QuerySet:
    """Models matching `term`, best first (annotated `search_rank`, 0 the best); always three queries."""
    if not term.strip():
        return queryset
    query = parse_query(term)
    matching = Q()
    for fragment in query.fragments:
        hit = Alias.objects.filter(model=OuterRef("pk"), alias__icontains=fragment)
        matching |= Q(name__icontains=fragment) | Q(slug__icontains=fragment) | Q(Exists(hit))
    counted = Mapping.objects.filter(model=OuterRef("pk")).order_by().values("model").annotate(n=Count("pk"))
    offers = Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), Value(0))
    proposed = queryset.filter(matching).order_by()
    candidates = list(proposed.annotate(search_offers=offers).values_list("pk", "slug", "name", "search_offers"))
    aliases: dict[int, list[str]] = {}
    spellings = Alias.objects.filter(model__in=proposed.values("pk")).order_by("alias")
    for model_id, alias in spellings.values_list("model_id", "alias"):
        aliases.setdefault(model_id, []).append(alias)
    order = ranked_ids(query, candidates, aliases)
    if not order:  # an empty answer that still runs its query (`pk__in=[]` would not): every search costs the same
        return queryset.filter(pk__isnull=True).annotate(search_rank=Value(0, output_field=IntegerField()))
    rank = Case(*(When(pk=pk, then=Value(index)) for pk, index in order), output_field=IntegerField())
    return queryset.filter(pk__in=[pk for pk, _ in order]).annotate(search_rank=rank).order_by("search_rank", "slug")
