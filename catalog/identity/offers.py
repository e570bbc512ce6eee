"""Offers on the wrong model (an id that contradicts its model, or spells another) and mixed models."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from itertools import combinations

from catalog.identity.facts import (
    CLUSTER_RATIO,
    ERROR,
    MISMATCH,
    MIXED,
    MODES,
    RELEASE_RATIO,
    WARNING,
    Finding,
    ModelFacts,
    OfferFacts,
    offer_finding,
)
from catalog.identity.tokens import Identity, identity, size_label, sizes_close


def _conflicts(offer: Identity, form: Identity) -> list[str]:
    """What an offer id states that a name of its model contradicts (both must state it to contradict)."""
    found = []
    if offer.sizes and form.sizes and not _same_sizes(offer.sizes, form.sizes):
        found.append(f"size {'/'.join(sorted(offer.sizes))} vs {'/'.join(sorted(form.sizes))}")
    if offer.active and form.active and not _same_sizes(_unactive(offer.active), _unactive(form.active)):
        found.append(f"active {'/'.join(sorted(offer.active))} vs {'/'.join(sorted(form.active))}")
    if offer.versions and form.versions and not _nested(_dotless(offer.versions), _dotless(form.versions)):
        found.append(f"version {'/'.join(sorted(offer.versions))} vs {'/'.join(sorted(form.versions))}")
    if offer.stamps and form.stamps and not _same_release(offer.stamps, form.stamps):
        found.append(f"date {'/'.join(sorted(offer.stamps))} vs {'/'.join(sorted(form.stamps))}")
    extra, missing = sorted(offer.strong - form.strong), sorted(form.strong - offer.strong - MODES)
    if extra or missing:
        found.append("variant " + ", ".join([*(f"+{w}" for w in extra), *(f"-{w}" for w in missing)]))
    return found


def _stamp_dates(stamp: str) -> set[tuple[str, str]]:
    """The (year, month) a stamp can mean, year "" if unknown: `2507` (YYMM) is (25, 07), `0725` (MMDD) ("", 07)."""
    if len(stamp) in (6, 8):
        return {(stamp[2:4], stamp[4:6])} if len(stamp) == 8 else {(stamp[2:4], stamp[4:6]), (stamp[:2], stamp[2:4])}
    readings = set()
    if len(stamp) == 4 and "23" <= stamp[:2] <= "35" and "01" <= stamp[2:] <= "12":
        readings.add((stamp[:2], stamp[2:]))
    if len(stamp) == 4 and "01" <= stamp[:2] <= "12":
        readings.add(("", stamp[:2]))
    return readings or {(stamp, "")}  # a revision (`001`): only equal to itself


def _same_release(left: frozenset[str], right: frozenset[str]) -> bool:
    """Whether two sets of date stamps can name one release (the same month, and year where both state it)."""
    return any(
        (ly == ry or not ly or not ry) and lm == rm
        for a in left
        for b in right
        for ly, lm in _stamp_dates(a)
        for ry, rm in _stamp_dates(b)
    )


def _nested(left: frozenset[str], right: frozenset[str]) -> bool:
    """`l3.3-euryale-70b-v2.3` names 3.3 and its own revision 2.3: one set holding the other is agreement."""
    return left <= right or right <= left


@lru_cache(maxsize=16384)
def _dotless(versions: frozenset[str]) -> frozenset[str]:
    """`gpt-52` and `qwen35` are how some providers spell 5.2 and 3.5."""
    return frozenset(v.replace(".", "") for v in versions)


def _unactive(active: frozenset[str]) -> frozenset[str]:
    return frozenset(a[1:] for a in active)


def _same_sizes(left: frozenset[str], right: frozenset[str]) -> bool:
    return all(any(sizes_close(x, y) for y in right) for x in left) and all(
        any(sizes_close(y, x) for x in left) for y in right
    )


def _with_parameters(m: ModelFacts, form: Identity) -> Identity:
    """A name that leaves the size out takes the size the model's parameter counts state."""
    if form.sizes or not m.parameters_total:
        return form
    active = form.active
    if not active and m.parameters_active:
        active = frozenset({f"a{size_label(m.parameters_active / 1e9)}"})
    sizes = frozenset({size_label(m.parameters_total / 1e9)})
    return Identity(form.words, sizes, active, form.versions, form.stamps, form.variants, form.serving)


def _core_forms(m: ModelFacts) -> list[Identity]:
    """The names a model is surely known by: its slug and display name, with the size its parameters state."""
    return [_with_parameters(m, identity(m.slug)), _with_parameters(m, identity(m.name))]


def offer_findings(models: list[ModelFacts], offers: list[OfferFacts]) -> list[Finding]:
    """Aliases and offers whose ids contradict their model; an error where another model is spelled so exactly."""
    findings: list[Finding] = []
    forms: dict[str, list[Identity]] = {}
    exact: dict[tuple, set[str]] = defaultdict(set)  # a name's key → models whose slug or trusted alias spells it
    loose: dict[tuple, set[str]] = defaultdict(set)  # the same without weak variant words and date stamps
    slug_keys: dict[tuple, set[str]] = defaultdict(set)
    for m in models:
        slug_keys[identity(m.slug).key].add(m.slug)
    stated: dict[str, set[tuple]] = defaultdict(set)  # every alias key a model's file states, trusted or not
    for m in models:
        core = _core_forms(m)
        forms[m.slug] = list(core)
        for name in (m.slug, *m.aliases):
            ident = identity(name)
            stated[m.slug].add(ident.key)
            if name != m.slug and all(_conflicts(ident, form) for form in core):
                findings.append(_alias_finding(m, name, ident, core, slug_keys.get(ident.key, set()) - {m.slug}))
                continue  # an alias that contradicts its model vouches for nothing
            forms[m.slug].append(_with_parameters(m, ident))
            exact[ident.key].add(m.slug)
            loose[ident.without(weak=True, stamps=True).key].add(m.slug)
    for o in offers:
        if o.model not in forms:
            continue
        ident = identity(o.provider_model_id)
        owners = exact.get(ident.key, set())
        if o.model not in owners and owners:
            # An undated, unsized name (`mistral-small`) is a moving pointer: a provider may still serve an older
            # release under it. When the id fits its own model too, that is a question for a curator, not an error.
            pointer = not (ident.sizes or ident.versions or ident.stamps) or "latest" in ident.variants
            unsure = pointer and not all(_conflicts(ident, form) for form in forms[o.model])
            message = f"on {o.model}, but {_names(owners)} is spelled exactly so"
            findings.append(offer_finding(o, WARNING if unsure else ERROR, MISMATCH, message))
        elif all(_conflicts(ident, form) for form in forms[o.model]):
            conflicts = [_conflicts(ident, form) for form in forms[o.model]]
            better = {
                other
                for other in loose.get(ident.without(weak=True, stamps=True).key, set()) - {o.model}
                if not all(_conflicts(ident, form) for form in forms[other])
            }
            if better:
                # Unsure where a curator named the id as the model's alias, or the id is a moving `-latest` pointer.
                unsure = ident.key in stated[o.model] or "latest" in ident.variants
                message = f"on {o.model}, but matches {_names(better)}"
                findings.append(offer_finding(o, WARNING if unsure else ERROR, MISMATCH, message))
            else:
                why = _fewest(conflicts)
                findings.append(offer_finding(o, WARNING, MISMATCH, f"its id contradicts its model {o.model} ({why})"))
    return findings


def _alias_finding(m: ModelFacts, alias: str, ident: Identity, core: list[Identity], others: set[str]) -> Finding:
    subject = f"alias {alias}"
    if others:
        message = f"an alias of {m.slug}, but {_names(others)} is spelled exactly so"
        return Finding(ERROR, MISMATCH, subject, message, model=m.slug, alias=alias)
    why = _fewest([_conflicts(ident, form) for form in core])
    return Finding(WARNING, MISMATCH, subject, f"contradicts its model {m.slug} ({why})", model=m.slug, alias=alias)


def _fewest(conflicts: list[list[str]]) -> str:
    """The closest name's contradictions, as one line."""
    closest: list[str] = min(conflicts, key=len)
    return "; ".join(closest)


def _names(slugs: set[str]) -> str:
    return ", ".join(sorted(slugs))


def _clusters(offers: list[OfferFacts], value, ratio: float) -> list[list[OfferFacts]]:
    """Offers with a positive value, sorted and split wherever the next is `ratio` times the previous or more."""
    clusters: list[list[OfferFacts]] = []
    for o in sorted((o for o in offers if (value(o) or 0) > 0), key=value):
        if clusters and value(o) < value(clusters[-1][-1]) * ratio:
            clusters[-1].append(o)
        else:
            clusters.append([o])
    return clusters


def _release(o: OfferFacts) -> tuple[frozenset[str], ...]:
    """What in an offer id names a release (date stamps, version, size), not a way of serving it."""
    ident = identity(o.provider_model_id)
    return ident.stamps, _dotless(ident.versions), ident.sizes


_PRICES = (("output price", lambda o: o.price_output), ("input price", lambda o: o.price_input))
# Releases side by side: prices twice apart, or context windows three times apart (gpt-3.5-turbo-0301's 4k).
_RELEASE_MEASURES = (
    *((label, value, RELEASE_RATIO) for label, value in _PRICES),
    ("context window", lambda o: o.context_window, CLUSTER_RATIO),
)


def mixed_model_findings(models: list[ModelFacts], offers: list[OfferFacts]) -> list[Finding]:
    """Offers of one model far apart: other providers against the creator's own price, or releases at one provider."""
    creators = {m.slug: m.creator for m in models}
    findings = []
    by_place: dict[tuple[str, str], list[OfferFacts]] = defaultdict(list)
    for o in offers:
        if o.status != "retired":
            by_place[(o.model, o.provider)].append(o)
    by_model: dict[str, list[OfferFacts]] = defaultdict(list)
    for (model, _provider), group in by_place.items():
        by_model[model].extend(group)
    for model, group in sorted(by_model.items()):
        own = [o for o in group if o.provider == creators.get(model)]
        if own:
            findings.extend(_far_from_creator(model, own, [o for o in group if o.provider != creators.get(model)]))
    for (model, provider), group in sorted(by_place.items()):
        if len({_release(o) for o in group}) < 2:
            continue
        for label, value, ratio in _RELEASE_MEASURES:
            clusters = _clusters(group, value, ratio)
            releases = [{_release(o) for o in cluster} for cluster in clusters]
            if len(clusters) > 1 and all(a.isdisjoint(b) for a, b in combinations(releases, 2)):
                spread = " vs ".join(
                    ", ".join(f"{o.provider_model_id} {value(o):g}" for o in cluster) for cluster in clusters
                )
                message = f"releases at {provider} far apart on {label} ({spread}): separate models or offers?"
                findings.append(Finding(WARNING, MIXED, f"model {model}", message, model=model))
                break
    return findings


def _far_from_creator(model: str, own: list[OfferFacts], others: list[OfferFacts]) -> list[Finding]:
    """Other providers' offers in a price cluster of their own, CLUSTER_RATIO or more from the creator's price."""
    mine_ids = {id(o) for o in own}
    for label, value in _PRICES:
        clusters = _clusters(own + others, value, CLUSTER_RATIO)
        if len(clusters) < 2 or not any(value(o) for o in own):
            continue
        far = [o for cluster in clusters if not any(id(o) in mine_ids for o in cluster) for o in cluster]
        if len({o.provider for o in far}) >= 2:
            mine = ", ".join(sorted({f"{value(o):g}" for o in own if value(o)}))
            theirs = ", ".join(sorted({f"{o.provider} {value(o):g}" for o in far}))
            message = f"{label} {mine} at its creator, but {theirs}: another model under this one's name?"
            return [Finding(WARNING, MIXED, f"model {model}", message, model=model)]
    return []
