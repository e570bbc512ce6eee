"""Shared HTTP fetch for source adapters: per-request timeouts, bounded retries, JSON decoding, key redaction."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from ingestion.sources.base import SourceError, SourceErrorKind
from modelgraph.outbound import (
    BodyTooLarge,
    BodyTooSlow,
    FailureKind,
    RetryPolicy,
    classify_exception,
    classify_status,
    read_capped,
    retry_after_seconds,
    sync_client,
)
from modelgraph.secrets import redact as secrets_redact

logger = logging.getLogger(__name__)


def make_client(*, timeout: float = 30.0) -> httpx.Client:
    """The client adapters expect (modelgraph.outbound): no redirects (keys must not follow them), our user agent."""
    return sync_client("ingestion", timeout=timeout)


def redact(message: str, secrets: Iterable[str]) -> str:
    """The one redaction (modelgraph.secrets): every key this process handed out, and `secrets`."""
    return secrets_redact(message, *secrets)


def looks_truncated(document: str) -> bool:
    """True when a JSON text stops inside a string or with brackets still open: a body cut short."""
    depth, in_string, escaped = 0, False, False
    for char in document:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
    return in_string or depth > 0


class SourceHttp:
    """GETs for one source run. Every error is a SourceError whose message names the source and the URL path only
    (never the query string, never a key), and every message passes through `redact` as a second guard."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        source: str,
        base_url: str,
        secrets: Iterable[str] = (),
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        max_bytes: int | None = None,
    ) -> None:
        self.client = client
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.secrets = [secret for secret in secrets if secret]
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.max_bytes = max_bytes if max_bytes is not None else settings.INGESTION_MAX_RESPONSE_BYTES
        origin = urlsplit(self.base_url)
        self._origin = (origin.scheme, origin.netloc)

    # --- addressing -----------------------------------------------------------------------------------------------
    def url(self, target: str) -> str:
        if not target.startswith(("http://", "https://")):
            return f"{self.base_url}/{target.lstrip('/')}"
        parts = urlsplit(target)
        if (parts.scheme, parts.netloc) != self._origin:
            # A next-page link must stay on the host we were configured for: our key is sent with it.
            raise SourceError(
                SourceErrorKind.SCHEMA, self.say(f"refusing to follow a link to another host ({parts.netloc})")
            )
        return target

    def describe(self, target: str) -> str:
        """'GET /path' for messages and logs: the path only, so no query-string secret can leak."""
        url = target if target.startswith(("http://", "https://")) else f"{self.base_url}/{target.lstrip('/')}"
        return f"GET {urlsplit(url).path}"

    def say(self, message: str) -> str:
        return redact(f"{self.source}: {message}", self.secrets)

    # --- requests -------------------------------------------------------------------------------------------------
    def get_json(self, target: str, *, params: Any = None, headers: dict | None = None) -> tuple[Any, httpx.Response]:
        response = self.get(target, params=params, headers=headers)
        return self.decode(response, target), response

    def get(self, target: str, *, params: Any = None, headers: dict | None = None) -> httpx.Response:
        url, where = self.url(target), self.describe(target)
        attempts = max(1, self.retry.attempts)
        for attempt in range(1, attempts + 1):
            outcome = self._attempt(url, where, params, headers, attempt)
            if isinstance(outcome, httpx.Response):
                return outcome
            failure, wait = outcome
            if attempt == attempts:
                suffix = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
                raise SourceError(failure.kind, failure.message + suffix, status_code=failure.status_code)
            logger.info("%s: %s; retrying in %.2fs (attempt %d of %d)", self.source, failure, wait, attempt, attempts)
            self.retry.sleep(wait)
        raise AssertionError("unreachable")

    def _attempt(self, url, where, params, headers, attempt) -> httpx.Response | tuple[SourceError, float]:
        """One try: the response, or (a retryable error, seconds to wait first); raises what a retry cannot fix."""
        started = time.monotonic()
        try:
            # Never follow redirects: x-api-key / x-goog-api-key would travel to whatever host they point at.
            with self.client.stream(
                "GET", url, params=params, headers=headers, timeout=self.timeout, follow_redirects=False
            ) as response:
                # The whole body within the attempt's deadline and the byte cap: a body trickled a byte at a
                # time, one that never ends, or a small gzip that inflates to gigabytes is this source's error,
                # never a run that hangs or a worker out of memory.
                read_capped(response, self.max_bytes, deadline=started + self.timeout)
        except (httpx.TransportError, httpx.DecodingError) as exc:
            error = self._transport_error(exc, where)
            if not self.retry.retries_exception(exc):
                raise error from None
            return error, self.retry.wait(attempt)
        except BodyTooLarge as large:
            limit = f"{self.max_bytes:,} bytes (INGESTION_MAX_RESPONSE_BYTES)"
            message = f"{where}: response body is larger than {limit}: {large.detail}"
            raise self._error(SourceErrorKind.MALFORMED, message) from None
        except BodyTooSlow as slow:
            error = self._error(
                SourceErrorKind.TIMEOUT,
                f"{where}: no complete response within {self.timeout:g}s ({slow}; a body trickled this slowly "
                "never ends the run)",
            )
            if not self.retry.retries(FailureKind.TIMEOUT):
                raise error from None
            return error, self.retry.wait(attempt)
        status = response.status_code
        logger.debug("%s: %s -> %d in %.3fs", self.source, where, status, time.monotonic() - started)
        kind = classify_status(status)
        if kind is None:
            return response
        if kind is FailureKind.AUTH:
            # The body of an auth error often echoes (part of) the key: never quote it.
            message = f"{where}: HTTP {status}, the API key was refused"
            raise self._error(SourceErrorKind.AUTH, message, status_code=status)
        if kind is FailureKind.REDIRECT:
            raise self._error(SourceErrorKind.HTTP, f"{where}: unexpected redirect (HTTP {status})", status_code=status)
        if not self.retry.retries_status(status):
            message = f"{where}: HTTP {status}{self._snippet(response)}"
            raise self._error(SourceErrorKind.HTTP, message, status_code=status)
        error_kind = SourceErrorKind.RATE_LIMITED if kind is FailureKind.RATE_LIMITED else SourceErrorKind.HTTP
        asked = retry_after_seconds(response.headers.get("Retry-After")) if status in (429, 503) else None
        detail = f", Retry-After {asked:g}s" if asked is not None else ""
        error = self._error(error_kind, f"{where}: HTTP {status}{detail}{self._snippet(response)}", status_code=status)
        # Retry-After is honoured, but never for longer than the policy's cap.
        return error, self.retry.wait(attempt, asked)

    def _transport_error(self, exc: httpx.RequestError, where: str) -> SourceError:
        kind = classify_exception(exc)
        if kind is FailureKind.TIMEOUT:
            return self._error(SourceErrorKind.TIMEOUT, f"{where}: no response within {self.timeout:g}s")
        if kind is FailureKind.TRUNCATED:
            message = f"{where}: connection closed before the body was complete (truncated response)"
            return self._error(SourceErrorKind.MALFORMED, message)
        if kind is FailureKind.DECODE:
            return self._error(SourceErrorKind.MALFORMED, f"{where}: response body could not be decoded")
        return self._error(SourceErrorKind.HTTP, f"{where}: connection failed ({type(exc).__name__})")

    def _error(self, kind: SourceErrorKind, message: str, *, status_code: int | None = None) -> SourceError:
        return SourceError(kind, self.say(message), status_code=status_code)

    def _snippet(self, response: httpx.Response, limit: int = 160) -> str:
        try:
            body = response.text.strip().replace("\n", " ")
        except (UnicodeDecodeError, LookupError):  # a body we cannot even read adds nothing to the message
            return ""
        body = redact(body, self.secrets)  # before cutting, so no part of a key survives the cut
        if not body:
            return ""
        return f": {body[:limit]}{'…' if len(body) > limit else ''}"

    def decode(self, response: httpx.Response, target: str) -> Any:
        where = self.describe(target)
        content = response.content
        content_type = response.headers.get("Content-Type", "unknown content type")
        if not content.strip():
            raise self._error(SourceErrorKind.MALFORMED, f"{where}: empty response body ({content_type})")
        try:
            document = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise self._error(SourceErrorKind.MALFORMED, f"{where}: response body is not UTF-8 text") from None
        try:
            return json.loads(document)
        except json.JSONDecodeError as exc:
            if looks_truncated(document):
                message = f"{where}: response body is truncated ({len(content)} bytes; the JSON ends mid-document)"
            else:
                message = (
                    f"{where}: response is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}; "
                    f"{content_type})"
                )
            raise self._error(SourceErrorKind.MALFORMED, message) from None
