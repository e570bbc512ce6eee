"""The registry's checks: YAML syntax, JSON Schema, referential integrity, duplicate ids and the identity rules."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import jsonschema_rs
from django.conf import settings
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from registry.gcpause import gc_paused
from registry.identifiers import check_look_alikes
from registry.identity_check import check_identity
from registry.key_bindings import check_key_references
from registry.lifecycle_check import check_lifecycle
from registry.parallel import parallel_worthwhile
from registry.schema_messages import path_text as _path_text
from registry.schema_messages import schema_message
from registry.values import PRICE_DECIMAL_PLACES, PRICE_QUANTUM, price_decimal, value_problems
from registry.writer import UNKNOWN_CREATOR_DIR
from registry.yamlsafe import ParsedDocument, RegistryFileError, parse_file

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
YAML_SUFFIXES = {".yaml", ".yml"}
KINDS = ("provider", "family", "model", "mapping")
CHUNK_SIZE = 500


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass
class RegistryFile:
    kind: str
    path: Path
    relative: str
    document: ParsedDocument | None = None
    valid: bool = False  # parsed and schema-valid

    @property
    def data(self) -> dict:
        return self.document.data if self.document else {}

    def line_of(self, *path) -> int | None:
        return self.document.line_of(path) if self.document else None


@dataclass
class ValidationReport:
    root: Path
    files: list[RegistryFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # listed for curators; they never fail a load

    @property
    def ok(self) -> bool:
        return not self.problems

    def of_kind(self, kind: str) -> list[RegistryFile]:
        return [f for f in self.files if f.kind == kind and f.valid]

    def sort(self) -> None:
        self.problems.sort(key=lambda p: (p.file, p.line or 0, p.message))
        self.warnings.sort(key=lambda p: (p.file, p.line or 0, p.message))

    def add(self, file: RegistryFile | str, line: int | None, message: str) -> None:
        name = file.relative if isinstance(file, RegistryFile) else file
        self.problems.append(Problem(name, line, message))

    def warn(self, file: RegistryFile | str, line: int | None, message: str) -> None:
        name = file.relative if isinstance(file, RegistryFile) else file
        self.warnings.append(Problem(name, line, message))


@cache
def fast_validators() -> dict[str, jsonschema_rs.Draft202012Validator]:
    """Rust validators for the common case (valid documents); errors are then explained by `schema_validators`."""
    schemas = [json.loads(p.read_text(encoding="utf-8")) for p in SCHEMA_DIR.glob("*.schema.json")]
    registry = jsonschema_rs.Registry([(schema["$id"], schema) for schema in schemas])
    by_name = {schema["$id"].rsplit("/", 1)[-1]: schema for schema in schemas}
    return {
        kind: jsonschema_rs.Draft202012Validator(by_name[f"{kind}.schema.json"], registry=registry) for kind in KINDS
    }


@cache
def schema_validators() -> dict[str, Draft202012Validator]:
    schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMA_DIR.glob("*.schema.json")}
    registry = (
        Registry()
        .with_resources((name, Resource.from_contents(contents)) for name, contents in schemas.items())
        .with_resources((contents["$id"], Resource.from_contents(contents)) for contents in schemas.values())
    )
    return {kind: Draft202012Validator(schemas[f"{kind}.schema.json"], registry=registry) for kind in KINDS}


def registry_files(root: Path) -> list[Path]:
    return _walk(root)[0]


def _walk(root: Path) -> tuple[list[Path], list[str]]:
    """The YAML names under root (each then read only if it is a regular file) and the linked directories skipped."""
    found, linked = [], []
    for directory, dirs, names in os.walk(root):  # never descends into a linked directory (followlinks=False)
        found.extend(os.path.join(directory, name) for name in names if os.path.splitext(name)[1] in YAML_SUFFIXES)
        linked.extend(path for path in (os.path.join(directory, name) for name in dirs) if os.path.islink(path))
    # sorting strings: Path comparisons cost 10x more
    return [Path(name) for name in sorted(found)], sorted(linked)


_KINDS_BY_TOP = {"providers": ("provider", 2), "models": ("model", 3), "mappings": ("mapping", 3)}


def discover(root: Path, report: ValidationReport) -> list[RegistryFile]:
    """Find the registry's files by their place in the layout; YAML anywhere else is reported."""
    found: list[RegistryFile] = []
    prefix = len(str(root).rstrip(os.sep)) + 1
    paths, linked_directories = _walk(root)
    for directory in linked_directories:
        report.add(
            directory[prefix:] + os.sep,
            None,
            "a symbolic link to a directory: refused and not read (the registry reads real directories only)",
        )
    for path in paths:
        relative = str(path)[prefix:]
        parts = relative.split(os.sep)
        kind = None
        if relative in ("families.yaml", "families.yml"):
            kind = "family"
        elif parts[0] in _KINDS_BY_TOP and len(parts) == _KINDS_BY_TOP[parts[0]][1]:
            kind = _KINDS_BY_TOP[parts[0]][0]
        if kind is None:
            report.add(
                relative,
                None,
                "YAML file outside the registry layout (providers/, models/<creator>/, "
                "mappings/<provider>/, families.yaml)",
            )
            continue
        found.append(RegistryFile(kind=kind, path=path, relative=relative))
    return found


def check_syntax_and_schema(kind: str, path: Path, max_bytes: int) -> tuple[object, bool, list[tuple]]:
    """Parse and schema-check one file: (data or None, schema-valid, [(line, message), ...])."""
    try:
        document = parse_file(path, max_bytes)
    except RegistryFileError as exc:
        return None, False, [(exc.line, exc.message)]
    if fast_validators()[kind].is_valid(document.data):
        found = value_problems(kind, document.data)
        return document.data, not found, [(document.line_of(list(p)), f"{_path_text(p)}: {m}") for p, m in found]
    errors = sorted(schema_validators()[kind].iter_errors(document.data), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:  # the two validators disagree: never let a file drop out of the load without a word
        return document.data, False, [(1, "(document): does not satisfy the registry schema")]
    return document.data, False, [(document.line_of(list(e.absolute_path)), schema_message(e)) for e in errors]


def _check_chunk(jobs: list[tuple[str, Path]], max_bytes: int) -> list[tuple]:
    with gc_paused():
        return [check_syntax_and_schema(kind, path, max_bytes) for kind, path in jobs]


def _check_files(files: list[RegistryFile], max_bytes: int):
    """Yield each file's check result in order; large registries are parsed on every core."""
    jobs = [(f.kind, f.path) for f in files]
    workers = min(os.cpu_count() or 1, 8)
    if not parallel_worthwhile(len(jobs)):
        for kind, path in jobs:
            yield check_syntax_and_schema(kind, path, max_bytes)
        return
    chunks = [jobs[i : i + CHUNK_SIZE] for i in range(0, len(jobs), CHUNK_SIZE)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for results in pool.map(_check_chunk, chunks, [max_bytes] * len(chunks)):
            yield from results


def check_layout(report: ValidationReport) -> None:
    """File names carry the natural key, so a key and its file can never disagree."""
    for file in report.of_kind("provider"):
        if file.path.stem != file.data["slug"]:
            report.add(file, file.line_of("slug"), f"slug {file.data['slug']!r} does not match the file name")
    for file in report.of_kind("model"):
        if file.path.stem != file.data["slug"]:
            report.add(file, file.line_of("slug"), f"slug {file.data['slug']!r} does not match the file name")
        expected_dir = file.data.get("creator") or UNKNOWN_CREATOR_DIR
        if file.path.parent.name != expected_dir:
            report.add(file, file.line_of("creator"), f"model files live in models/{expected_dir}/ (its creator)")
    for file in report.of_kind("mapping"):
        if file.path.stem != file.data["model"]:
            report.add(file, file.line_of("model"), f"model {file.data['model']!r} does not match the file name")


def _first_seen(report: ValidationReport, seen: dict, key, file: RegistryFile, path: tuple, what: str) -> None:
    """Record where a natural key is defined; report a second definition (lines are looked up only then)."""
    if key not in seen:
        seen[key] = (file, path)
        return
    other_file, other_path = seen[key]
    other_line = other_file.line_of(*other_path)
    where = f"{other_file.relative}:{other_line}" if other_line else other_file.relative
    report.add(file, file.line_of(*path), f"duplicate {what} {key!r} (already defined at {where})")


def check_duplicates(report: ValidationReport) -> None:
    providers: dict = {}
    for file in report.of_kind("provider"):
        _first_seen(report, providers, file.data["slug"], file, ("slug",), "provider slug")
    families: dict = {}
    for file in report.of_kind("family"):
        for index, family in enumerate(file.data["families"]):
            _first_seen(report, families, family["slug"], file, ("families", index, "slug"), "family slug")
    models: dict = {}
    for file in report.of_kind("model"):
        _first_seen(report, models, file.data["slug"], file, ("slug",), "model slug")
    aliases: dict = {}
    for file in report.of_kind("model"):
        for index, entry in enumerate(file.data.get("aliases", [])):
            alias = entry if isinstance(entry, str) else entry["alias"]
            if alias in models:
                owner = models[alias][0]
                message = (
                    f"alias {alias!r} is the slug of another model ({owner.relative})"
                    if owner is not file
                    else f"alias {alias!r} repeats the model's own slug"
                )
                report.add(file, file.line_of("aliases", index), message)
                continue
            _first_seen(report, aliases, alias, file, ("aliases", index), "alias")
    offers: dict = {}
    for file in report.of_kind("mapping"):
        provider = file.path.parent.name
        for index, offer in enumerate(file.data["offers"]):
            _first_seen(
                report,
                offers.setdefault(provider, {}),
                offer["provider_model_id"],
                file,
                ("offers", index, "provider_model_id"),
                f"provider_model_id (provider {provider})",
            )


def check_model_consistency(file: RegistryFile, report: ValidationReport) -> None:
    """Relations between a model's own fields that JSON Schema cannot express."""
    data = file.data
    total, active = data.get("parameters_total"), data.get("parameters_active")
    if total and active and active > total:
        report.add(
            file,
            file.line_of("parameters_active"),
            f"parameters_active: {active} is more than parameters_total {total}",
        )
    deprecation, sunset = data.get("deprecation_date"), data.get("sunset_date")
    if deprecation and sunset and sunset < deprecation:
        report.add(file, file.line_of("sunset_date"), f"sunset_date: {sunset} is before deprecation_date {deprecation}")


def check_references(report: ValidationReport) -> None:
    providers = {f.data["slug"] for f in report.of_kind("provider")}
    families = {fam["slug"] for f in report.of_kind("family") for fam in f.data["families"]}
    models = {f.data["slug"] for f in report.of_kind("model")}

    def need(file, value, known, what, *path):
        if value is not None and value not in known:
            report.add(file, file.line_of(*path), f"{_path_text(path)}: unknown {what} {value!r}")

    for file in report.of_kind("family"):
        for index, family in enumerate(file.data["families"]):
            need(file, family.get("creator"), providers, "provider", "families", index, "creator")
    for file in report.of_kind("model"):
        data = file.data
        need(file, data.get("creator"), providers, "provider", "creator")
        need(file, data.get("family"), families, "family", "family")
        need(file, data.get("successor"), models, "model", "successor")
        if data.get("successor") == data["slug"]:
            report.add(file, file.line_of("successor"), "successor: a model cannot succeed itself")
        check_model_consistency(file, report)
        for index, entry in enumerate(data.get("aliases", [])):
            if isinstance(entry, dict):
                need(file, entry.get("provider"), providers, "provider", "aliases", index, "provider")
    check_successor_cycles(report)
    for file in report.of_kind("mapping"):
        provider = file.path.parent.name
        if provider not in providers:
            report.add(
                file, None, f"mappings/{provider}/: unknown provider {provider!r} (no providers/{provider}.yaml)"
            )
        need(file, file.data["model"], models, "model", "model")


UPLIFT_QUANTUM = Decimal("0.001")  # catalog.Mapping.regional_uplift is numeric(6, 3)


def check_offer_prices(report: ValidationReport) -> None:
    """Long-context tiers ascend by threshold, and tier prices and uplifts fit the columns that keep them."""
    for file in report.of_kind("mapping"):
        for index, offer in enumerate(file.data["offers"]):
            previous = None
            for position, tier in enumerate(offer.get("tiers", [])):
                path = ("offers", index, "tiers", position)
                if previous is not None and tier["above"] <= previous:
                    report.add(
                        file,
                        file.line_of(*path, "above"),
                        f"{_path_text((*path, 'above'))}: {tier['above']} does not ascend (the tier before starts "
                        f"above {previous}); list tiers from the smallest threshold up",
                    )
                previous = tier["above"]
                for key in ("input", "output", "cached_input"):
                    if key in tier and price_decimal(tier[key]).quantize(PRICE_QUANTUM) != price_decimal(tier[key]):
                        report.add(
                            file,
                            file.line_of(*path, key),
                            f"{_path_text((*path, key))}: {tier[key]!r} has more than {PRICE_DECIMAL_PLACES} decimal "
                            "places; round it in the file",
                        )
            uplift = offer.get("regional_uplift")
            if uplift is not None and price_decimal(uplift).quantize(UPLIFT_QUANTUM) != price_decimal(uplift):
                report.add(
                    file,
                    file.line_of("offers", index, "regional_uplift"),
                    f"{_path_text(('offers', index, 'regional_uplift'))}: {uplift!r} has more than 3 decimal places",
                )


def check_successor_cycles(report: ValidationReport) -> None:
    """A successor chain must end: A → B → A is reported at every link of the loop (a self-successor above)."""
    files = {f.data["slug"]: f for f in report.of_kind("model")}
    successor = {slug: f.data["successor"] for slug, f in files.items() if f.data.get("successor") not in (None, slug)}
    done: set[str] = set()
    for start in successor:
        chain: list[str] = []
        slug = start
        while slug in successor and slug not in done and slug not in chain:
            chain.append(slug)
            slug = successor[slug]
        if slug in chain:  # walked into this walk's own path: a loop
            loop = chain[chain.index(slug) :]
            for position, member in enumerate(loop):
                text = " → ".join([*loop[position:], *loop[: position + 1]])  # read from this file's model
                file = files[member]
                report.add(file, file.line_of("successor"), f"successor: {successor[member]!r} closes a loop ({text})")
        done.update(chain)


def validate_registry(
    root: Path | str | None = None,
    *,
    progress=None,
    identity_rules: bool = True,
    on_valid_file: Callable[[RegistryFile], None] | None = None,
) -> ValidationReport:
    """Run every check over the registry at root and collect every problem, not just the first.

    identity_rules=False leaves out `check_identity` (a load runs it alongside its writes); every other check runs.
    `on_valid_file` is given each parsed, schema-valid file as its result arrives, in the registry's order (while
    later files are still being parsed), before any cross-file check has run."""
    with gc_paused():
        return _validate(root, progress, identity_rules, on_valid_file)


def _validate(root: Path | str | None, progress, identity_rules: bool, on_valid_file=None) -> ValidationReport:
    root = Path(root or settings.REGISTRY_DIR)
    report = ValidationReport(root=root)
    if not root.is_dir():
        report.add(str(root), None, "registry directory does not exist")
        return report
    report.files = discover(root, report)
    for file, (data, valid, problems) in zip(
        report.files, _check_files(report.files, settings.REGISTRY_MAX_FILE_BYTES), strict=True
    ):
        if data is not None:
            file.document = ParsedDocument(data=data, path=file.path, max_bytes=settings.REGISTRY_MAX_FILE_BYTES)
        file.valid = valid
        for line, message in problems:
            report.add(file, line, message)
        if valid and on_valid_file:
            on_valid_file(file)
        if progress:
            progress(1)
    check_layout(report)
    check_duplicates(report)
    check_look_alikes(report)
    check_references(report)
    check_offer_prices(report)
    check_key_references(report)
    if identity_rules:
        check_identity(report)
    check_lifecycle(report)
    report.sort()
    return report
