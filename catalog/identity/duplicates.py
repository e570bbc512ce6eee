"""Duplicate suspects: two models whose names agree once noise is removed, equal names, pointers kept as models."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from itertools import combinations

from catalog.identity.facts import DUPLICATE, ERROR, NOISE_WEAK, WARNING, Finding, ModelFacts, model_finding
from catalog.identity.tokens import Identity, identity


def _stamp_month(stamp: str) -> tuple[int, int] | None:
    """`2506` (YYMM) or `20250514` → (2025, 6); other stamps (MMDD `0613`, revisions `001`) → None."""
    if len(stamp) == 8 and stamp.startswith("20"):
        year, month = int(stamp[:4]), int(stamp[4:6])
    elif len(stamp) == 4 and 23 <= int(stamp[:2]) <= 35:
        year, month = 2000 + int(stamp[:2]), int(stamp[2:])
    else:
        return None
    return (year, month) if 1 <= month <= 12 else None


def _months_apart(stamp: str, date: dt.date | None) -> int | None:
    month = _stamp_month(stamp)
    return None if month is None or date is None else abs((month[0] - date.year) * 12 + month[1] - date.month)


def _noise_between(a: ModelFacts, ia: Identity, b: ModelFacts, ib: Identity) -> tuple[str, str] | None:
    """(severity, why) when a and b look like one model whose names differ only by noise; None when they differ."""
    if ia.words != ib.words or ia.strong != ib.strong:
        return None
    weak_a, weak_b = ia.variants - ia.strong - NOISE_WEAK, ib.variants - ib.strong - NOISE_WEAK
    if weak_a != weak_b or "latest" in weak_a:
        return None
    reasons: list[str] = []
    shared_stamp = bool(ia.stamps) and ia.stamps == ib.stamps
    by_date = _version_vs_date(a, ia, b, ib)
    if by_date:
        reasons.append("one is named by version, the other by a date stamp of its release month")
    if ia.versions != ib.versions:
        if ia.versions and ib.versions or not (shared_stamp or by_date):
            return None
        reasons.append("version omitted in one name")
    if ia.sizes != ib.sizes:
        if ia.sizes and ib.sizes or not (shared_stamp or by_date or ia.versions):
            return None
        reasons.append("size omitted in one name")
    if ia.active != ib.active:
        if ia.active and ib.active:
            return None
        reasons.append("active parameters named in one only")
    if ia.stamps != ib.stamps and not by_date:
        if ia.stamps and ib.stamps:
            return None
        reasons.append("a date stamp in one only (a dated snapshot is an offer or an alias unless a new version)")
    if (ia.variants ^ ib.variants) & NOISE_WEAK:
        reasons.append("'instruct' in one only")
    if not reasons:
        return ERROR, "the same name up to punctuation, case or order"
    unambiguous = all(r.startswith("active parameters") for r in reasons)
    return (ERROR if unambiguous else WARNING), "; ".join(reasons)


def _version_vs_date(a: ModelFacts, ia: Identity, b: ModelFacts, ib: Identity) -> bool:
    """`mistral-large-3-675b` (a version, released 2025-12) and `mistral-large-2512` (a YYMM stamp) likely agree."""
    for versioned, iv, idd in ((a, ia, ib), (b, ib, ia)):
        if iv.versions and not iv.stamps and idd.stamps and not idd.versions:
            apart = [_months_apart(s, versioned.release_date) for s in idd.stamps]
            if any(m is not None and m <= 1 for m in apart):
                return True
    return False


def model_identity(m: ModelFacts) -> Identity:
    """The slug's identity, with what the slug leaves out (size, version, stamp) taken from the display name."""
    slug, name = identity(m.slug), identity(m.name)
    if name.words != slug.words or name.strong != slug.strong:
        return slug
    return Identity(
        slug.words,
        slug.sizes or name.sizes,
        slug.active or name.active,
        slug.versions or name.versions,
        slug.stamps or name.stamps,
        slug.variants,
        slug.serving,
    )


def _is_pointer(m: ModelFacts) -> bool:
    names = (name for name in (m.slug, *m.aliases) if "latest" in name.lower())
    return any("latest" in identity(name).variants for name in names)


def duplicate_findings(models: list[ModelFacts]) -> list[Finding]:
    findings: list[Finding] = []
    by_name: dict[str, list[ModelFacts]] = defaultdict(list)
    for m in models:
        by_name[" ".join(m.name.casefold().split())].append(m)
    for group in by_name.values():
        first, *others = sorted(group, key=lambda m: m.slug)
        for m in others:
            findings.append(
                model_finding(m, ERROR, DUPLICATE, f"display name {m.name!r} is also {first.slug}'s", "name")
            )
    slugs = {m.slug: identity(m.slug) for m in models}
    idents = {m.slug: model_identity(m) for m in models}
    buckets: dict[tuple, list[ModelFacts]] = defaultdict(list)
    for m in models:
        buckets[(slugs[m.slug].words, slugs[m.slug].strong)].append(m)
    for group in buckets.values():
        pointers = {m.slug for m in group if _is_pointer(m)}
        targets: dict[str, list[str]] = defaultdict(list)
        for a, b in combinations(sorted(group, key=lambda m: m.slug), 2):
            pointer = _pointer_target(a, slugs[a.slug], b, slugs[b.slug], pointers)
            if pointer:
                targets[pointer[0].slug].append(pointer[1].slug)
                continue
            ia, ib = idents[a.slug], idents[b.slug]
            noise = _noise_between(a, ia, b, ib)
            if noise:
                severity, why = noise
                findings.append(model_finding(b, severity, DUPLICATE, f"duplicate suspect of {a.slug}: {why}", "slug"))
        for m in group:
            if m.slug in targets:
                message = (
                    f"a '-latest' pointer kept as a model beside its dated target(s) {', '.join(targets[m.slug])}: "
                    "a pointer is an alias of its current target"
                )
                findings.append(model_finding(m, ERROR, DUPLICATE, message, "aliases"))
    return findings


def _pointer_target(
    a: ModelFacts, ia: Identity, b: ModelFacts, ib: Identity, pointers: set[str]
) -> tuple[ModelFacts, ModelFacts] | None:
    """(pointer, target) when one is a `-latest` model and the other its dated target."""
    for p, ip, t, it in ((a, ia, b, ib), (b, ib, a, ia)):
        if p.slug in pointers and t.slug not in pointers and it.stamps and not ip.stamps:
            base, dated = ip.without(weak=False, stamps=True), it.without(stamps=True)
            if base.key[:4] == dated.key[:4] and (base.variants - {"latest"}) <= dated.variants:
                return p, t
    return None
