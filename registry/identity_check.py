"""The identity rules (catalog.identity) over the registry's documents: errors fail validation, warnings are listed."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import TYPE_CHECKING

from catalog.identity import ERROR, Finding, ModelFacts, OfferFacts, catalogue_findings
from registry.parallel import parallel_worthwhile

if TYPE_CHECKING:  # registry.validation runs these checks: imported for types only
    from registry.validation import RegistryFile, ValidationReport

# Successor loops and sunset-before-deprecation are already reported by check_references and
# check_model_consistency: not said twice.
_ALREADY_CHECKED = frozenset({"successor", "sunset_date"})


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value) if isinstance(value, str) and value else None


def _alias(entry: object) -> str:
    return entry if isinstance(entry, str) else str(entry["alias"])  # type: ignore[index]


def registry_facts(report: ValidationReport) -> tuple[list[ModelFacts], list[OfferFacts]]:
    """The facts the rules read, from the report's schema-valid model and mapping files."""
    models = []
    for file in report.of_kind("model"):
        d = file.data
        models.append(
            ModelFacts(
                slug=d["slug"],
                name=d["name"],
                creator=d.get("creator"),
                family=d.get("family"),
                release_date=_date(d.get("release_date")),
                status=d.get("status", "active"),
                deprecation_date=_date(d.get("deprecation_date")),
                sunset_date=_date(d.get("sunset_date")),
                successor=d.get("successor"),
                aliases=tuple(_alias(entry) for entry in d.get("aliases", [])),
                parameters_total=d.get("parameters_total"),
                parameters_active=d.get("parameters_active"),
            )
        )
    offers = []
    for file in report.of_kind("mapping"):
        for offer in file.data["offers"]:
            pricing = offer.get("pricing", {})
            offers.append(
                OfferFacts(
                    provider=file.path.parent.name,
                    provider_model_id=offer["provider_model_id"],
                    model=file.data["model"],
                    status=offer.get("status", "active"),
                    retirement_date=_date(offer.get("retirement_date")),
                    price_input=pricing.get("input"),
                    price_output=pricing.get("output"),
                    context_window=offer.get("context_window"),
                )
            )
    return models, offers


def registry_findings(report: ValidationReport, *, today: dt.date | None = None) -> list[Finding]:
    models, offers = registry_facts(report)
    return catalogue_findings(models, offers, today=today or dt.date.today())


def check_identity(report: ValidationReport, *, today: dt.date | None = None) -> None:
    """Errors join the report's problems (the load fails); warnings go to report.warnings, each at FILE:LINE."""
    report_findings(report, registry_findings(report, today=today))


# The report a forked identity process reads: set just before the fork, so the child has it without pickling.
_forked_report: ValidationReport | None = None


def _findings_of_forked_report(today: dt.date | None) -> list[Finding]:
    assert _forked_report is not None, "set before the fork"
    return registry_findings(_forked_report, today=today)


class IdentityCheckInBackground:
    """`check_identity` with the findings computed in the background, started now and reported by `finish`.

    A registry load starts it once the other checks pass and writes meanwhile: the rules are pure Python over the
    parsed documents, so they run while the load works on the database. `finish` reports exactly what
    `check_identity` would have (the load then fails, and rolls back, if it added an error).

    A large registry (REGISTRY_PARALLEL_THRESHOLD files or more, as for the parse) is checked in a forked process:
    on a thread, the rules held the interpreter lock against the load's own Python, which waited for it after every
    database round trip (a 2,000-model first load lost 0.2-0.6 s so). The child has the parsed documents by the fork
    and sends back only the findings. A small one is checked on a thread, where a fork would cost more than it saves.
    """

    def __init__(self, report: ValidationReport, *, today: dt.date | None = None):
        global _forked_report
        self.report = report
        self._clean = True
        self._executor: Executor
        if parallel_worthwhile(len(report.files)):
            _forked_report = report
            try:
                self._executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
                self._future: Future[list[Finding]] | None = self._executor.submit(_findings_of_forked_report, today)
            finally:
                _forked_report = None  # the child took its copy at the fork (submit starts it)
        else:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="registry-identity")
            self._future = self._executor.submit(registry_findings, report, today=today)

    def finish(self) -> bool:
        """Add the findings to the report (the first call only); True when they hold no error."""
        if self._future is not None:
            future, self._future = self._future, None
            try:
                findings = future.result()
            finally:
                self._executor.shutdown()
            before = len(self.report.problems)
            report_findings(self.report, findings)
            self._clean = len(self.report.problems) == before
        return self._clean


def report_findings(report: ValidationReport, findings: list[Finding]) -> None:
    """Each finding at its FILE:LINE: errors as problems, warnings as warnings."""
    model_files = {f.data["slug"]: f for f in report.of_kind("model")}
    mapping_files = {(f.path.parent.name, f.data["model"]): f for f in report.of_kind("mapping")}
    for finding in findings:
        if finding.severity == ERROR and finding.field in _ALREADY_CHECKED:
            continue
        file, line = _location(finding, model_files, mapping_files)
        message = f"{finding.kind}: {finding.subject}: {finding.message}"
        record = report.add if finding.severity == ERROR else report.warn
        record(file or str(report.root), line, message)


def _location(
    finding: Finding, model_files: dict[str, RegistryFile], mapping_files: dict[tuple[str, str], RegistryFile]
) -> tuple[RegistryFile | None, int | None]:
    if finding.offer:
        file = mapping_files.get((finding.provider, finding.model))
        if file is None:
            return None, None
        for index, offer in enumerate(file.data["offers"]):
            if offer["provider_model_id"] == finding.offer:
                return file, file.line_of("offers", index, "provider_model_id")
        return file, None
    file = model_files.get(finding.model)
    if file is None:
        return None, None
    if finding.alias:
        for index, entry in enumerate(file.data.get("aliases", [])):
            if _alias(entry) == finding.alias:
                return file, file.line_of("aliases", index)
    return file, file.line_of(finding.field) if finding.field in file.data else file.line_of("slug")
