"""Look-alike ids: two names that read the same to a person must not lead to two different things.

The schemas already keep every id printable ASCII (no Cyrillic look-alikes, invisible or bidirectional characters);
what is left are ASCII look-alikes and case. An id's skeleton is its NFKC form, casefolded, with the ASCII rows of
Unicode's confusables (UTS #39: `1`, `|`, `I` → `l`; `0` → `O`; `m` → `rn`) applied after casefolding, so `i` joins
`l` (an upper-case `I` casefolds to it). Ids that share a skeleton are fine when they name the same thing
(`Qwen/Qwen3-8B` and `qwen/qwen3-8b`, aliases of one model) and an error when they name different things.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from registry.validation import RegistryFile, ValidationReport

# The ASCII rows of Unicode's confusables.txt whose target is also ASCII, in casefolded form (prototype on the right).
_ASCII_CONFUSABLES = str.maketrans({"i": "l", "1": "l", "|": "l", "0": "o", "m": "rn"})


def id_skeleton(value: str) -> str:
    """What an id looks like: equal skeletons read the same (NFKC, casefold, ASCII confusables)."""
    if value.isascii():  # ASCII is its own NFKC form and casefolds as it lowercases (the schemas allow only ASCII)
        return value.lower().translate(_ASCII_CONFUSABLES)
    return unicodedata.normalize("NFKC", value).casefold().translate(_ASCII_CONFUSABLES)


class _LookAlikes:
    """Remembers the first id seen per skeleton and reports a later one that names something else."""

    def __init__(self, report: ValidationReport, what: str):
        self.report, self.what = report, what
        self.seen: dict[str, tuple[str, object, RegistryFile, tuple]] = {}

    def add(self, value: str, owner: object, file: RegistryFile, path: tuple, what: str | None = None) -> None:
        skeleton = id_skeleton(value)
        first = self.seen.setdefault(skeleton, (value, owner, file, path))
        first_value, first_owner, first_file, first_path = first
        if first_owner == owner or first_value == value:  # same thing, or an exact duplicate reported elsewhere
            return
        line = first_file.line_of(*first_path)
        where = f"{first_file.relative}:{line}" if line else first_file.relative
        self.report.add(
            file,
            file.line_of(*path),
            f"{what or self.what} {value!r} looks like {first_value!r} ({where}), which names {first_owner!r}: "
            "ids that differ only by case or look-alike characters must name the same thing",
        )


def check_look_alikes(report: ValidationReport) -> None:
    """Provider and family slugs, model slugs with aliases, and each provider's model ids: no confusable pairs."""
    providers = _LookAlikes(report, "provider slug")
    for file in report.of_kind("provider"):
        providers.add(file.data["slug"], file.data["slug"], file, ("slug",))
    families = _LookAlikes(report, "family slug")
    for file in report.of_kind("family"):
        for index, family in enumerate(file.data["families"]):
            families.add(family["slug"], family["slug"], file, ("families", index, "slug"))
    names = _LookAlikes(report, "model slug")  # slugs and aliases resolve from one namespace
    models = report.of_kind("model")
    for file in models:
        names.add(file.data["slug"], file.data["slug"], file, ("slug",))
    for file in models:
        for index, entry in enumerate(file.data.get("aliases", [])):
            alias = entry if isinstance(entry, str) else entry["alias"]
            names.add(alias, file.data["slug"], file, ("aliases", index), "alias")
    offers: dict[str, _LookAlikes] = {}
    for file in report.of_kind("mapping"):
        provider = file.path.parent.name
        ids = offers.setdefault(provider, _LookAlikes(report, f"provider_model_id (provider {provider})"))
        for index, offer in enumerate(file.data["offers"]):
            ids.add(offer["provider_model_id"], file.data["model"], file, ("offers", index, "provider_model_id"))
