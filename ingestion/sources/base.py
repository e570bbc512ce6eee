"""What every outside source adapter returns and raises: observations in catalogue terms and typed errors."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import httpx

from modelgraph.outbound import RetryPolicy

if TYPE_CHECKING:  # http.py imports this module for SourceError; import it lazily at run time
    from ingestion.sources.http import SourceHttp

logger = logging.getLogger(__name__)

MODALITIES = frozenset({"text", "image", "audio", "video", "pdf"})
CAPABILITIES = frozenset(
    {"tools", "reasoning", "vision", "structured_output", "attachments", "temperature", "embeddings", "audio"}
)


@dataclass(frozen=True)
class SourceRecord:
    """One model as one source states it; `fields` holds only what the source states, in catalogue terms."""

    source: str
    external_id: str
    provider: str | None
    fields: dict
    aliases: tuple[str, ...] = ()


class SourceErrorKind(StrEnum):
    NOT_CONFIGURED = "not_configured"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    AUTH = "auth"
    HTTP = "http"
    MALFORMED = "malformed"
    SCHEMA = "schema"


class SourceError(Exception):
    """A source could not be read (fully). `partial` carries the observations of the pages read before it failed."""

    def __init__(
        self,
        kind: SourceErrorKind,
        message: str,
        *,
        partial: list[SourceRecord] | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = SourceErrorKind(kind)
        self.message = message
        self.partial: list[SourceRecord] = list(partial or [])
        self.status_code = status_code

    def __str__(self) -> str:
        return f"[{self.kind}] {self.message}"


@runtime_checkable
class SourceAdapter(Protocol):
    name: str
    tier: int
    provider: str | None
    key_env: str | None
    default_base_url: str

    def __init__(self, *, retry: RetryPolicy | None = None, timeout: float = 30.0) -> None: ...

    def fetch(
        self,
        *,
        client: httpx.Client,
        base_url: str | None = None,
        api_key: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[SourceRecord]: ...


class SchemaMismatch(ValueError):
    """Raised by `parse` when the documented top-level keys or types are missing."""


@dataclass(frozen=True)
class Page:
    """One parsed page: its observations and what to ask for next (None when it was the last one)."""

    observations: list[SourceRecord]
    next: Any = None


class ListingAdapter:
    """Shared fetch loop for paginated listings: key check, page loop, de-duplication, partial results on failure.

    Subclasses give `request(listing, cursor)` (the path and params of the page to read) and
    `parse(body, response, listing)` (a `Page`); `cursors()` names the listings to walk (one, or one per author).
    A page whose top-level shape is not the documented one raises SCHEMA for the whole page: nothing of it is kept,
    while the pages read before it travel on the error as `partial`. `progress(n)` is called after every page with
    the number of distinct models read so far. `base_url` is the origin (plus any proxy prefix), without the API
    version: adapters append `/v1/models`, `/v1beta/models`, `/api/models`.
    """

    name: ClassVar[str]
    tier: ClassVar[int] = 1
    provider: ClassVar[str | None] = None
    key_env: ClassVar[str | None] = None
    key_required: ClassVar[bool] = True
    default_base_url: ClassVar[str]
    max_pages: ClassVar[int] = 200

    def __init__(self, *, retry: RetryPolicy | None = None, timeout: float = 30.0) -> None:
        self.retry = retry or RetryPolicy()
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    # --- to override -------------------------------------------------------------------------------------------
    def headers(self, api_key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def cursors(self) -> Iterator[Any]:
        """The listings to walk; most sources have one (None), Hugging Face has one per author."""
        yield None

    def request(self, listing: Any, cursor: Any) -> tuple[str, Any]:
        raise NotImplementedError

    def parse(self, body: Any, response: httpx.Response, listing: Any) -> Page:
        raise NotImplementedError

    # --- the loop ----------------------------------------------------------------------------------------------
    def fetch(
        self,
        *,
        client: httpx.Client,
        base_url: str | None = None,
        api_key: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[SourceRecord]:
        http = self.open(client, base_url, api_key)
        observations: dict[tuple[str | None, str], SourceRecord] = {}
        try:
            for listing in self.cursors():
                self._walk(http, listing, api_key, observations, progress)
        except SourceError as exc:
            exc.partial = list(observations.values())
            raise
        return list(observations.values())

    def open(self, client: httpx.Client, base_url: str | None, api_key: str | None) -> SourceHttp:
        """Check the key (before any request) and return the HTTP helper for one run."""
        from ingestion.sources.http import SourceHttp

        if self.key_required and not api_key:
            raise SourceError(
                SourceErrorKind.NOT_CONFIGURED, f"{self.name}: no API key configured (secret reference {self.key_env})"
            )
        return SourceHttp(
            client,
            source=self.name,
            base_url=base_url or self.default_base_url,
            secrets=[api_key] if api_key else [],
            retry=self.retry,
            timeout=self.timeout,
        )

    def read(
        self,
        http: SourceHttp,
        path: str,
        params: Any,
        api_key: str | None,
        parse: Callable[[Any, httpx.Response], Page],
        page_number: int = 1,
    ) -> Page:
        """GET one page and parse it; a parse that finds the wrong shape becomes a SCHEMA error for the page."""
        body, response = http.get_json(path, params=params, headers=self.headers(api_key))
        try:
            return parse(body, response)
        except (SchemaMismatch, TypeError, AttributeError, KeyError, ValueError) as exc:
            # Outside data in a shape the parser did not foresee is a schema change, never a crash.
            detail = str(exc) if isinstance(exc, SchemaMismatch) else f"{type(exc).__name__}: {exc}"
            where = f"{http.describe(path)} (page {page_number})"
            raise SourceError(
                SourceErrorKind.SCHEMA, http.say(f"{where}: unexpected response shape: {detail}")
            ) from None

    def _walk(self, http: SourceHttp, listing: Any, api_key: str | None, observations: dict, progress) -> None:
        cursor, seen_cursors = None, set()
        for page_number in range(1, self.max_pages + 1):
            path, params = self.request(listing, cursor)
            page = self.read(
                http, path, params, api_key, lambda body, response: self.parse(body, response, listing), page_number
            )
            for observation in page.observations:
                # A listing may repeat an id across pages (cursor drift); the first statement wins.
                observations.setdefault((observation.provider, observation.external_id), observation)
            if progress:
                progress(len(observations))
            if not page.next:
                return
            if repr(page.next) in seen_cursors:
                raise SourceError(
                    SourceErrorKind.SCHEMA, f"{self.name}: pagination loops at {http.describe(path)} (cursor repeated)"
                )
            seen_cursors.add(repr(page.next))
            cursor = page.next
        raise SourceError(SourceErrorKind.SCHEMA, f"{self.name}: more than {self.max_pages} pages; giving up")


# --- helpers for parse() ------------------------------------------------------------------------------------------
def expect(body: Any, key: str, kind: type | tuple[type, ...]) -> Any:
    """`body[key]`, checked to be a dict entry of the given type; a SchemaMismatch names what is wrong."""
    if not isinstance(body, dict):
        raise SchemaMismatch(f"expected a JSON object at the top level, got {type(body).__name__}")
    if key not in body:
        raise SchemaMismatch(f"missing key {key!r} (keys: {', '.join(sorted(map(str, body))[:8]) or 'none'})")
    value = body[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise SchemaMismatch(f"{key!r} should be {names}, got {type(value).__name__}")
    return value


def entries(items: list, id_key: str, source: str) -> Iterator[tuple[str, dict]]:
    """Yield (id, item) for well-formed items; odd items are skipped, but a page of nothing but odd items is a
    schema change."""
    valid = 0
    for index, item in enumerate(items):
        ident = item.get(id_key) if isinstance(item, dict) else None
        if not isinstance(ident, str) or not ident.strip():
            logger.warning("%s: skipping item %d without a string %r", source, index, id_key)
            continue
        valid += 1
        yield ident.strip(), item
    if items and not valid:
        raise SchemaMismatch(f"none of the {len(items)} items has a string {id_key!r}")


def positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and value > 0 else None


def text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


# Sources put the Unix epoch (or near it) where a date is unknown: no model dates from before this.
EARLIEST = date(1990, 1, 1)


def _plausible(day: date) -> str | None:
    return day.isoformat() if day >= EARLIEST else None


def date_from_epoch(value: Any) -> str | None:
    """Epoch seconds → YYYY-MM-DD (UTC); None for missing, zero or placeholder values."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    try:
        return _plausible(datetime.fromtimestamp(value, tz=UTC).date())
    except (OverflowError, OSError, ValueError):
        return None


_MONTHS = {
    month: number
    for number, month in enumerate(
        "january february march april may june july august september october november december".split(), start=1
    )
}
_WORDY_DATE = re.compile(r"^([A-Za-z]+)\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")


def date_from_text(value: Any) -> str | None:
    """RFC 3339 / ISO dates (UTC) and 'January 15, 2025 (…)' → YYYY-MM-DD; None when it is not a date."""
    if not isinstance(value, str) or not value.strip():
        return None
    raw = value.strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}$", raw):
        try:
            return _plausible(date.fromisoformat(raw))
        except ValueError:
            return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        match = _WORDY_DATE.match(raw)
        if not match or match.group(1).lower() not in _MONTHS:
            return None
        try:
            return _plausible(date(int(match.group(3)), _MONTHS[match.group(1).lower()], int(match.group(2))))
        except ValueError:
            return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return _plausible(parsed.date())


def compact(fields: dict) -> dict:
    """Drop keys whose value the source did not state (None, empty lists)."""
    return {key: value for key, value in fields.items() if value is not None and value != [] and value != ()}


def ordered(values, allowed: frozenset[str]) -> list[str] | None:
    """A sorted, de-duplicated list restricted to the catalogue vocabulary; None when nothing is left."""
    kept = sorted({value for value in values if value in allowed})
    return kept or None


__all__ = [
    "CAPABILITIES",
    "MODALITIES",
    "ListingAdapter",
    "SourceRecord",
    "Page",
    "SchemaMismatch",
    "SourceAdapter",
    "SourceError",
    "SourceErrorKind",
    "compact",
    "date_from_epoch",
    "date_from_text",
    "entries",
    "expect",
    "ordered",
    "positive_int",
    "text",
]
