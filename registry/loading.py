"""Loading a validated registry into the catalogue: one transaction, upserts on natural keys, writes only changes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from catalog import bulk
from catalog.models import PRICE_COLUMNS, Alias, Family, Mapping, Model, Provider
from catalog.signals import catalogue_changed
from ingestion.alias_pins import pinned_alias_names
from ingestion.prices.registry_load import offers_open_price_records
from ingestion.resolution import DATE_FIELDS, RESOLVED_FIELDS, resolve_fields
from ingestion.selectors import model_observation_candidates, model_pins
from registry.desired_rows import DesiredRows, iso_date
from registry.existing_rows import existing_rows
from registry.gcpause import gc_paused
from registry.identity_check import IdentityCheckInBackground
from registry.key_bindings import check_base_url_changes
from registry.offer_rows import offer_rows_resolve
from registry.refusals import DATABASE_ERRORS, RowRefused, database_error_text, upsert_naming_refused_row
from registry.validation import Problem, RegistryFile, ValidationReport, validate_registry

CHANGE_REASON = "registry load"

PROVIDER_FIELDS = ("name", "kind", "website", "docs_url", "api_base_url", "api_key_env", "openai_compatible")
FAMILY_FIELDS = ("name", "creator_id")
# Shown fields come from resolution (successor is linked separately); creator and family are the registry's alone.
MODEL_FIELDS = (
    *(f for f in RESOLVED_FIELDS if f != "successor"),
    "creator_id",
    "family_id",
    "registry_values",
    "provenance",
)
ALIAS_FIELDS = ("model_id", "provider_id", "status", "retirement_date")
MAPPING_FIELDS = (
    "model_id",
    *PRICE_COLUMNS,
    "price_tiers",
    "regional_uplift",
    "billing",
    "registry_values",
    "provenance",
    "context_window",
    "max_output",
    "quantization",
    "delivery_modes",
    "status",
    "retirement_date",
    "served_by",
    "variant",
    "source",
    "prices_checked",
)


class RegistryInvalid(Exception):
    def __init__(self, report: ValidationReport):
        super().__init__(f"{len(report.problems)} problem(s) in {report.root}")
        self.report = report


@dataclass
class EntityCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0  # marked as no longer in the registry
    changed_keys: set = field(default_factory=set)
    changed_pks: set = field(default_factory=set)
    # ids of rows that changed rows point at (before and after), e.g. the models of changed aliases
    touched: dict[str, set] = field(default_factory=lambda: defaultdict(set))

    @property
    def written(self) -> int:
        return self.added + self.updated + self.removed


@dataclass
class LoadResult:
    counts: dict[str, EntityCounts]
    warnings: list[Problem] = field(default_factory=list)  # the identity rules' warnings: listed, never fatal

    @property
    def rows_written(self) -> int:
        return sum(c.written for c in self.counts.values())

    def total(self, attribute: str) -> int:
        return sum(getattr(c, attribute) for c in self.counts.values())

    def touched_model_ids(self) -> set[int]:
        """Every model whose public answer may have changed: its row, its aliases or its mappings."""
        c = self.counts
        return c["models"].changed_pks | c["aliases"].touched["model_id"] | c["mappings"].touched["model_id"]

    def touched_provider_ids(self) -> set[int]:
        c = self.counts
        return c["providers"].changed_pks | c["mappings"].touched["provider_id"]


def _upsert(
    model_class,
    natural_key: tuple[str, ...],
    fields: tuple[str, ...],
    desired: dict,
    counts: EntityCounts,
    reason: str,
    uncompared: tuple[str, ...] = (),
    pinned: frozenset = frozenset(),
) -> dict:
    """Insert or update rows whose managed fields differ from `desired`; mark vanished ones out of the registry.

    desired maps natural-key tuples to {field: value} (FK fields as *_id). Returns natural key -> pk for all rows.
    """
    # registry_file alone differing (a row a curator created in the admin) is provenance, not a change of data.
    # `uncompared` fields are written with a changed row; on their own they make a change only while still empty.
    compared = tuple(name for name in fields if name not in uncompared) + ("in_registry",)
    written = fields + ("in_registry", "registry_file")
    references = [n for n in (*natural_key, *fields) if model_class._meta.get_field(n).is_relation]
    existing = existing_rows(model_class, natural_key, compared, uncompared)
    rows, new_rows, added_keys, updated_pks = [], [], [], []
    for key, values in desired.items():
        values = {**values, "in_registry": True}
        current = existing.get(key)
        if current is not None and key in pinned:  # a curator's row: the load leaves it as the curator made it
            counts.unchanged += 1
            continue
        if current is None:
            counts.added += 1
            added_keys.append(key)
        elif any(current[name] != values[name] for name in compared) or any(
            not current[name] and values[name] for name in uncompared
        ):
            counts.updated += 1
            updated_pks.append(current["pk"])
        else:
            counts.unchanged += 1
            continue
        counts.changed_keys.add(key)
        row = {**dict(zip(natural_key, key, strict=True)), **{name: values[name] for name in written}}
        for name in references:
            counts.touched[name].update(v for v in (row[name], current and current[name]) if v)
        (rows if current is not None else new_rows).append(row)
    pks = {key: row["pk"] for key, row in existing.items()}
    pks.update(upsert_naming_refused_row(model_class, natural_key, written, rows))
    pks.update(upsert_naming_refused_row(model_class, natural_key, written, new_rows, new=True))
    gone_keys = [
        key for key, row in existing.items() if row["in_registry"] and key not in desired and key not in pinned
    ]
    if gone_keys:
        counts.removed = len(gone_keys)
        counts.changed_keys.update(gone_keys)
        model_class.objects.filter(pk__in=[pks[key] for key in gone_keys]).update(in_registry=False)
    for key in gone_keys:
        for name in references:
            if existing[key][name]:
                counts.touched[name].add(existing[key][name])
    counts.changed_pks.update(pks[key] for key in counts.changed_keys)
    bulk.copy_to_history(model_class, [pks[key] for key in added_keys], "+", reason)
    bulk.copy_to_history(model_class, updated_pks + [pks[key] for key in gone_keys], "~", reason)
    return pks


def _resolve_shown_values(model_rows: dict, existing_pks: dict) -> None:
    """Fill each model's shown fields: pins, then what the registry states, then automated observations."""
    ids = [existing_pks[key] for key in model_rows if key in existing_pks]
    pins = model_pins(ids)
    observations = model_observation_candidates(ids)
    for key, row in model_rows.items():
        pk = existing_pks.get(key)
        values, provenance = resolve_fields(
            pins=pins.get(pk, {}),
            registry_values=row["registry_values"],
            observations=observations.get(pk, {}),
            creator=row["creator"],
        )
        row.update(shown_row_values(values))
        row["provenance"] = provenance


def shown_row_values(values: dict) -> dict:
    """Resolved values in registry terms (ISO dates) → row values (dates); successor stays a slug."""
    return {field: iso_date(value) if field in DATE_FIELDS else value for field, value in values.items()}


def _resolve(rows: dict, references: dict[str, dict]) -> dict:
    """Replace natural-key references ({"creator": "openai"}) with ids ({"creator_id": 7})."""
    resolved = {}
    for key, values in rows.items():
        values = dict(values)
        for name, pks in references.items():
            ref = values.pop(name)
            values[f"{name}_id"] = pks[(ref,)] if ref is not None else None
        resolved[key] = values
    return resolved


def registry_load(*, path: Path | str | None = None, progress=None, reason: str = CHANGE_REASON) -> LoadResult:
    """Validate the registry, then upsert all of it in one transaction: all or nothing, only changed rows written."""
    with gc_paused():
        return _load(path, progress, reason)


def _load(path: Path | str | None, progress, reason: str) -> LoadResult:
    # Each file's rows are built as its parse arrives, while the parse of the files after it goes on.
    desired = DesiredRows()
    report = validate_registry(
        path or settings.REGISTRY_DIR, progress=progress, identity_rules=False, on_valid_file=desired.add
    )
    # The identity rules (pure Python over the parsed files) run on a thread while the load waits on the database.
    # The load fails exactly as before when they find an error: before writing if anything else failed, else by
    # rolling its writes back; base URL changes are reported only when every check (identity too) passed.
    identity = IdentityCheckInBackground(report)
    if not report.ok:
        _identity_clean(identity, report)
        raise RegistryInvalid(report)
    check_base_url_changes(report)
    if not report.ok:
        base_url_problems, report.problems = report.problems, []
        if _identity_clean(identity, report):
            report.problems = base_url_problems
        raise RegistryInvalid(report)
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # All or nothing still holds; only the wait for this one commit's WAL flush is skipped (a load is
                # idempotent and re-runnable, so losing it in a power cut costs a re-run, never consistency).
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            result = _write(desired.rows, reason)
            if not _identity_clean(identity, report):
                raise RegistryInvalid(report)  # rolls the writes back
            result.warnings = report.warnings
            return result
    except RowRefused as refused:  # the transaction is rolled back: nothing was written
        if _identity_clean(identity, report):  # else the identity errors fail the load, as they did before writing
            report.add(*_row_location(report, refused.model_class, refused.row), refused.message)
        raise RegistryInvalid(report) from None
    except DATABASE_ERRORS as error:
        if _identity_clean(identity, report):
            report.add(str(report.root), None, f"the database refused the load: {database_error_text(error)}")
        raise RegistryInvalid(report) from None


def _identity_clean(identity: IdentityCheckInBackground, report: ValidationReport) -> bool:
    clean = identity.finish()
    report.sort()
    return clean


def _row_location(report: ValidationReport, model_class, row: dict | None) -> tuple[RegistryFile | str, int | None]:
    """The file and line that stated a row, found by its natural key."""
    relative = row.get("registry_file") if row else None
    file = next((f for f in report.files if f.relative == relative), None) if relative else None
    if file is None:
        return relative or str(report.root), None
    listed = {Family: ("families", "slug"), Alias: ("aliases", "alias"), Mapping: ("offers", "provider_model_id")}
    if model_class not in listed:  # one provider or model per file
        return file, file.line_of("slug")
    items, key = listed[model_class]
    for index, item in enumerate(file.data.get(items, [])):
        if (item if isinstance(item, str) else item[key]) == row[key]:
            return file, file.line_of(items, index)
    return file, None


_TABLES = {"providers": Provider, "families": Family, "models": Model, "aliases": Alias, "mappings": Mapping}


def analyze_grown_tables(counts: dict[str, EntityCounts]) -> None:
    """ANALYZE, inside the load's transaction, each table the load changed by more than autovacuum's own threshold
    (50 rows + 10%). A first load fills empty tables whose statistics still say "empty": until autovacuum got to
    them, every query after it (the price records, the list rows' refresh, the API's reads) was planned for empty
    tables — sequential scans of 10,000 offers once per model. Coarse statistics (a 3,000-row sample, not 30,000)
    are enough to plan those for full tables, and cost a third; autovacuum's own ANALYZE refines them later."""
    if connection.vendor != "postgresql":
        return
    grown = [
        model_class._meta.db_table
        for name, model_class in _TABLES.items()
        if counts[name].written > 50 + 0.1 * (counts[name].updated + counts[name].unchanged + counts[name].removed)
    ]
    if grown:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL default_statistics_target TO 10")
            cursor.execute(f"ANALYZE {', '.join(map(connection.ops.quote_name, grown))}")
            cursor.execute("SET LOCAL default_statistics_target TO DEFAULT")


def _write(rows: dict[str, dict], reason: str) -> LoadResult:
    counts = {name: EntityCounts() for name in ("providers", "families", "models", "aliases", "mappings")}

    provider_pks = _upsert(Provider, ("slug",), PROVIDER_FIELDS, rows["providers"], counts["providers"], reason)
    family_rows = _resolve(rows["families"], {"creator": provider_pks})
    family_pks = _upsert(Family, ("slug",), FAMILY_FIELDS, family_rows, counts["families"], reason)

    # Successors point at models that may not exist yet: resolve what exists now, fix up new ones after the insert.
    existing_model_pks = dict(((slug,), pk) for pk, slug in Model.objects.values_list("pk", "slug"))
    _resolve_shown_values(rows["models"], existing_model_pks)
    successors = {key: values.pop("successor") for key, values in rows["models"].items()}
    model_rows = _resolve(rows["models"], {"creator": provider_pks, "family": family_pks})
    for key, values in model_rows.items():
        target = successors[key]
        values["successor_id"] = existing_model_pks.get((target,)) if target else None
    model_pks = _upsert(Model, ("slug",), (*MODEL_FIELDS, "successor_id"), model_rows, counts["models"], reason)
    late = [
        Model(pk=model_pks[key], successor_id=model_pks[(target,)])
        for key, target in successors.items()
        if target and (target,) not in existing_model_pks
    ]
    if late:
        Model.objects.bulk_update(late, ["successor"], batch_size=bulk.BATCH_SIZE)

    alias_rows = _resolve(rows["aliases"], {"model": model_pks, "provider": provider_pks})
    pinned_aliases = frozenset((name,) for name in pinned_alias_names())
    _upsert(Alias, ("alias",), ALIAS_FIELDS, alias_rows, counts["aliases"], reason, pinned=pinned_aliases)

    mapping_rows = {}
    for (provider, provider_model_id), values in _resolve(rows["mappings"], {"model": model_pks}).items():
        mapping_rows[(provider_pks[(provider,)], provider_model_id)] = values
    offer_rows_resolve(mapping_rows)
    mapping_pks = _upsert(
        Mapping,
        ("provider_id", "provider_model_id"),
        MAPPING_FIELDS,
        mapping_rows,
        counts["mappings"],
        reason,
        # What the file states restates the columns: an offer whose columns already hold it (a curator's edit,
        # exported and loaded back) is unchanged, so loading an export still writes nothing.
        uncompared=("registry_values", "provenance"),
    )
    analyze_grown_tables(counts)
    # Date what the load changed: provenance says the registry set it, and the offer's price history moves on.
    # The offers' values as just written, so that they are not read back (offers marked gone are).
    written = {mapping_pks[key]: mapping_rows[key] for key in counts["mappings"].changed_keys if key in mapping_rows}
    offers_open_price_records(mapping_ids=counts["mappings"].changed_pks, written=written)
    result = LoadResult(counts=counts)
    if result.rows_written:
        model_ids, provider_ids = result.touched_model_ids(), result.touched_provider_ids()
        family_ids = set(counts["families"].changed_pks)
        transaction.on_commit(
            lambda: catalogue_changed.send(
                sender=registry_load, model_ids=model_ids, provider_ids=provider_ids, family_ids=family_ids
            )
        )
    return result
