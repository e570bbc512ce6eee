"""ALIASES.md: what `import_aliases` added to the registry and why, and what it refused."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from registry.importers.aliases import AliasImport, Decision

RULES = {
    "weights": "the repository a source names for an open-weight model's weights (the only claimant, names agreeing)",
    "weights:exact": "several models claim the repository; the one whose tokens equal the repository's",
    "weights:org-renamed": "the same repository under the organisation's old name (CohereForAI, now CohereLabs)",
    "offer": "the provider's id of an offer we list (resolution reads aliases, not offer ids)",
    "known": "already an alias of the model the row names",
    "hint": "the source's own ids for the row (genai-prices match rule, OpenRouter canonical_slug, models.dev "
    "base_model) name one model exactly, and the id's tokens agree with it",
    "identity:exact": "the id's identity tokens equal those of one model's name (serving decorations aside)",
    "identity:undated": "equal once date stamps are set aside; the id's date is the model's",
    "identity:release": "equal once weak variants are set aside too (release words, or the model's own date)",
    "identity:provider": "among the provider's own models (any model when the source says the id reads images), the "
    "id leaves out a modality word (vision, vl); catalogue_check warns on these (`variant -vision`): Llama 3.2 "
    "11B/90B exist only as vision models",
    "+stamp": "several candidates, narrowed to the one the id's date stamp names",
    "ambiguous:*": "several models fit at the first tier that found any: refused",
    "conflict": "sources name different models for the same id: refused",
    "weights-conflict": "a repository claimed for one model whose name is another model's: refused",
    "hint-conflict": "the source's own ids name one model and the id's tokens another: refused",
}


def _cell(value: object) -> str:
    return str(value or "").replace("|", "\\|")


def _row(decision: Decision) -> str:
    cells = (decision.alias, decision.model, decision.provider, decision.source, decision.rule, decision.note)
    return "| " + " | ".join(f"`{_cell(c)}`" if i == 0 and c else _cell(c) for i, c in enumerate(cells)) + " |"


def render(result: AliasImport, command: str) -> str:
    decisions = result.decisions
    added = [d for d in decisions if d.state == "added"]
    refused = [d for d in decisions if d.state == "refused"]
    lines = [
        "# Aliases from the sources",
        "",
        "Written by:",
        "",
        f"    {command}",
        "",
        "(registry/importers/aliases.py). It adds aliases only, never moves one, and a second run adds nothing.",
        "Each `present` row was already in the registry (an offer id, an earlier import's alias). "
        "Identity rules: registry/importers/alias_identity.py (tokens from",
        "catalog/identity/tokens.py `identity()`); a name is filed on a model only when exactly one model fits.",
        "",
        f"**{len(added)}** aliases added to {len({d.model for d in added})} models; **{len(refused)}** refused;",
        f"{sum(d.state == 'present' for d in decisions)} already present.",
        "",
        "## Hugging Face repositories of open-weight models",
        "",
        "| | before | after |",
        "|---|---:|---:|",
        f"| open-weight models | {result.coverage_before['open_weight_models']} | "
        f"{result.coverage_after['open_weight_models']} |",
        f"| with a repository a source names (canonical_url, models.dev weights, OpenRouter hugging_face_id) | "
        f"{result.coverage_before['with_named_repository']} | {result.coverage_after['with_named_repository']} |",
        f"| carrying such a repository as an alias | {result.coverage_before['carrying']} | "
        f"{result.coverage_after['carrying']} |",
        f"| carrying any `Org/Repo` alias of a Hugging Face organisation | {result.coverage_before['carrying_any']} | "
        f"{result.coverage_after['carrying_any']} |",
        "",
        "Open-weight models with no repository in any source stay without one (nothing to copy):",
        ", ".join(f"`{slug}`" for slug in result.without_repository) or "none",
        "",
        "## Counts per source and rule",
        "",
        "| source | rule | added | present | refused |",
        "|---|---|---:|---:|---:|",
    ]
    counts = Counter((d.source, d.rule, d.state) for d in decisions)
    for source, rule in sorted({(s, r) for s, r, _ in counts}):
        cells = [counts[(source, rule, state)] for state in ("added", "present", "refused")]
        lines.append(f"| {source} | {rule} | " + " | ".join(map(str, cells)) + " |")
    lines += ["", "## Rules", ""] + [f"- `{rule}`: {text}" for rule, text in RULES.items()]
    header = ["| alias | model | provider | source | rule | note |", "|---|---|---|---|---|---|"]
    lines += ["", "## Added", "", "Provider empty: a plain alias (a repository, or an id several providers use).", ""]
    lines += header + [_row(d) for d in sorted(added, key=lambda d: (str(d.model), d.alias))]
    lines += ["", "## Refused", ""] + header + [_row(d) for d in sorted(refused, key=lambda d: (d.rule, d.alias))]
    return "\n".join(lines) + "\n"


def write_report(result: AliasImport, path: Path, command: str) -> None:
    Path(path).write_text(render(result, command), encoding="utf-8")
