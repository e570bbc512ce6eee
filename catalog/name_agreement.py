"""When a name may be answered with a model: it must agree on every token that tells models apart.

Family words (llama vs hermes), version numbers (4.1 vs 4.5), sizes (70b vs 8b, a22b active), strong variant words
(mini, lite, coder, vl, guard, thinking…) and date stamps (when both carry one) must agree; weak words (instruct,
preview, latest, chat…) and serving decorations may differ.
"""

from __future__ import annotations

import difflib

from catalog.identity.tokens import WEAK_VARIANTS, Identity, sizes_close

# Organisation and brand words a name may carry or leave out without naming another model (`meta-llama-3-70b`,
# "Opus 4.1" for claude-opus-4-1, Cohere's `c4ai-` repositories).
BRAND_WORDS = frozenset(
    {"claude", "anthropic", "openai", "meta", "google", "microsoft", "nvidia", "amazon", "c4ai", "ai", "cohereforai"}
)
# Serving and packaging words some platforms add to a model's name (fireworks `-basic`, together `-tput`, ollama
# `:120b-cloud`, quantisation and decoding add-ons): never another model.
SERVING_EXTRA = frozenset(
    {"basic", "tput", "cloud", "long", "specdec", "rope", "mtp", "mxfp", "dflash", "gguf", "pt", "dynamic"}
)
# Words that tell a preview or experiment from the release: compared with the model's own slug.
RELEASE_WORDS = frozenset({"preview", "exp"})
# Sizes this close are one size (70b and 70.6b); 30b and 32b are two models.
SIZE_TOLERANCE = 0.05
# A variant word a name may leave out when its size already names exactly one model (Llama 3.2 11B is the vision
# model; there is no other).
IMPLIED_VARIANTS = frozenset({"vision"})


def _close(left: str, right: str) -> bool:
    return sizes_close(left, right) and (
        left == right
        or abs(_billions(left) - _billions(right)) <= SIZE_TOLERANCE * max(_billions(left), _billions(right))
    )


def _billions(label: str) -> float:
    return float(label[:-1]) if label[:-1].replace(".", "", 1).isdigit() else 0.0


def _stamp_parts(stamp: str) -> tuple[int | None, int | None, int | None] | None:
    """(year, month, day) a stamp names, None where it does not say; None for revisions (`001`) and nonsense."""
    digits = len(stamp)
    if digits == 8:
        return int(stamp[:4]), int(stamp[4:6]), int(stamp[6:])
    if digits == 6:
        if stamp.startswith("20") and 1 <= int(stamp[4:]) <= 12:  # 202408 (cohere's 08-2024)
            return int(stamp[:4]), int(stamp[4:]), None
        return 2000 + int(stamp[:2]), int(stamp[2:4]), int(stamp[4:])
    if digits == 4:
        first, last = int(stamp[:2]), int(stamp[2:])
        if first >= 22 and 1 <= last <= 12:  # mistral / qwen `2507`: year and month
            return 2000 + first, last, None
        if 1 <= first <= 12:  # openai `0613`: month and day
            return None, first, last
    return None


def stamps_agree(left: str, right: str) -> bool:
    """Whether two date stamps may name the same snapshot (`20240620` and `0620`, `2507` and `20250721`)."""
    if left == right:
        return True
    a, b = _stamp_parts(left), _stamp_parts(right)
    if a is None or b is None:
        return a is None and b is None and (len(left) != 3 or len(right) != 3)
    return all(x is None or y is None or x == y for x, y in zip(a, b, strict=True))


def _dated(stamps: frozenset[str]) -> set[str]:
    return {s for s in stamps if len(s) != 3}  # `-001` is a revision, not a date


def _words_differ(query: set[str], other: set[str]) -> bool:
    """Words left on either side once typos of one word pair up (`instruc`, `lama`)."""
    if query == other:
        return False
    left, right = set(query) - SERVING_EXTRA, set(other) - SERVING_EXTRA
    left -= {w for w in left if len(w) >= 4 and any(v.startswith(w) for v in WEAK_VARIANTS)}
    for word in sorted(left - right):
        close = [w for w in right - left if len(w) >= 4 and difflib.SequenceMatcher(None, word, w).ratio() >= 0.88]
        if len(word) >= 4 and len(close) == 1:
            left.discard(word)
            right.discard(close[0])
    return left != right


def _listed(values, separator: str = "/", empty: str = "none") -> str:
    return separator.join(sorted(values)) or empty


def disagreement(query: Identity, other: Identity, *, implied: frozenset[str] = frozenset()) -> str | None:
    """Why `other` is not the model `query` names (None when they agree on every distinguishing token)."""
    words, other_words = query.words - BRAND_WORDS, other.words - BRAND_WORDS
    if _words_differ(set(words), set(other_words)):
        return f"other name {_listed(other_words - words, ' ', '-')} vs {_listed(words - other_words, ' ', '-')}"
    if query.versions != other.versions:
        return f"other version {_listed(other.versions)} vs {_listed(query.versions)}"
    reason = _size_disagreement(query, other)
    if reason:
        return reason
    strong, other_strong = query.strong, other.strong - (implied & other.strong if query.sizes else frozenset())
    if strong != other_strong:
        return f"other variant {' '.join(sorted(other_strong ^ strong))}"
    mine, theirs = _dated(query.stamps), _dated(other.stamps)
    if mine and theirs and not any(stamps_agree(a, b) for a in mine for b in theirs):
        return f"other date {'/'.join(sorted(theirs))} vs {'/'.join(sorted(mine))}"
    return None


def _size_disagreement(query: Identity, other: Identity) -> str | None:
    if query.sizes or other.sizes:
        matched = all(any(_close(a, b) for b in other.sizes) for a in query.sizes) and all(
            any(_close(a, b) for b in query.sizes) for a in other.sizes
        )
        if not matched:
            return f"other size {'/'.join(sorted(other.sizes)) or 'none'} vs {'/'.join(sorted(query.sizes)) or 'none'}"
    if query.active and other.active and query.active != other.active:
        return f"other active parameters {'/'.join(sorted(other.active))} vs {'/'.join(sorted(query.active))}"
    return None


def stamp_known(query: Identity, stamps: frozenset[str]) -> bool:
    """A dated query names a snapshot of the model: one it is known under (some name of the model carries an
    agreeing stamp), or any when the catalogue knows the model under no date at all. A model known under other
    dates only (gpt-4 as 0314) is not a date's model we do not have."""
    mine, known = _dated(query.stamps), _dated(stamps)
    return not mine or not known or any(stamps_agree(a, b) for a in mine for b in known)


def stamp_named(query: Identity, stamps: frozenset[str]) -> bool:
    """Some name of the model carries the query's date stamp."""
    mine = _dated(query.stamps)
    return bool(mine) and any(stamps_agree(a, b) for a in mine for b in _dated(stamps))


def slug_disagreement(query: Identity, slug: Identity, *, implied: frozenset[str] = frozenset()) -> str | None:
    """Why the model's own slug is not what `query` names, on what an alias may not drop: family words, versions,
    strong variants and preview/experimental (sizes and dates are the aliases' to state)."""
    words, slug_words = query.words - BRAND_WORDS, slug.words - BRAND_WORDS
    if _words_differ(set(words), set(slug_words)):
        return (
            f"other name {' '.join(sorted(slug_words - words)) or '-'} vs {' '.join(sorted(words - slug_words)) or '-'}"
        )
    if not slug.versions <= query.versions:  # a slug may leave a version out (mistral-large-2512 is Large 3)
        return (
            f"other version {'/'.join(sorted(slug.versions)) or 'none'} vs {'/'.join(sorted(query.versions)) or 'none'}"
        )
    strong = slug.strong - (implied & slug.strong if query.sizes else frozenset())
    if query.strong != strong:
        return f"other variant {' '.join(sorted(strong ^ query.strong))}"
    release, slug_release = query.variants & RELEASE_WORDS, slug.variants & RELEASE_WORDS
    if bool(release) != bool(slug_release):
        return f"{'a preview' if slug_release else 'not a preview'}"
    return None
