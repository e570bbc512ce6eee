"""The Batch API (OpenAI's shape): JSONL input files, batches over them, and their output and error files.

An input file is checked line by line when it is uploaded (a 400 names the line and the field); a batch is queued to
a django-q2 worker (`routing.batch_tasks.batch_run`), which sends each request through the router like a
/v1/ request — so any pool takes batch work, whether or not its providers have a batch API of their own.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from routing import errors
from routing.batch_models import FINISHED, BatchStatus, FilePurpose, GatewayBatch, GatewayFile
from routing.conf import setting

ENDPOINTS = ("/v1/chat/completions", "/v1/embeddings")
COMPLETION_WINDOWS = {"24h": timedelta(hours=24)}
MAX_CUSTOM_ID = 512
MAX_METADATA_KEYS, MAX_METADATA_KEY, MAX_METADATA_VALUE = 16, 64, 512
PAGE_MAX = 100


def _invalid(message: str, param: str | None, code: str = "invalid_value") -> errors.GatewayError:
    return errors.GatewayError(400, message, param=param, code=code)


def _not_found(what: str, ident: str) -> errors.GatewayError:
    return errors.GatewayError(
        404, f"No {what} is called {ident[:100]!r}.", type=errors.NOT_FOUND, code=f"{what}_not_found"
    )


# Input files.
def batch_lines_parse(content: bytes) -> list[dict]:
    """The requests of a batch input file, each `{custom_id, method, url, body}`; a 400 naming the first bad line."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise _invalid(f"line {line}: the file is not UTF-8 text.", "file", "invalid_file") from None
    requests: list[dict] = []
    seen: dict[str, int] = {}
    endpoint = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        request = _line_check(number, raw)
        if request["custom_id"] in seen:
            raise _invalid(
                f"line {number}: custom_id: {request['custom_id'][:100]!r} is used twice (first on line "
                f"{seen[request['custom_id']]}); each request needs its own.",
                "file",
                "duplicate_custom_id",
            )
        seen[request["custom_id"]] = number
        endpoint = endpoint or request["url"]
        if request["url"] != endpoint:
            raise _invalid(
                f"line {number}: url: {request['url']!r} differs from the file's first request ({endpoint!r}); "
                "a batch file holds requests for one endpoint.",
                "file",
                "mixed_endpoints",
            )
        requests.append(request)
        if len(requests) > setting("ROUTING_BATCH_MAX_REQUESTS"):
            raise _invalid(
                f"line {number}: the file holds more than {setting('ROUTING_BATCH_MAX_REQUESTS')} requests.", "file"
            )
    if not requests:
        raise _invalid("The file holds no request (one JSON object per line).", "file", "empty_file")
    return requests


def _line_check(number: int, raw: str) -> dict:
    def bad(field: str, message: str) -> errors.GatewayError:
        return _invalid(f"line {number}: {field}: {message}", "file", "invalid_batch_line")

    try:
        request = json.loads(raw)
    except ValueError as exc:
        raise _invalid(f"line {number}: not valid JSON: {exc}.", "file", "invalid_json_line") from None
    if not isinstance(request, dict):
        raise bad("(line)", "each line must be a JSON object {custom_id, method, url, body}.")
    unknown = sorted(set(request) - {"custom_id", "method", "url", "body"})
    if unknown:
        raise bad(unknown[0], "unknown field (a line holds custom_id, method, url and body).")
    custom_id = request.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id or len(custom_id) > MAX_CUSTOM_ID:
        raise bad("custom_id", f"a non-empty string of at most {MAX_CUSTOM_ID} characters is required.")
    if request.get("method") != "POST":
        raise bad("method", 'must be "POST".')
    if request.get("url") not in ENDPOINTS:
        raise bad("url", f"must be one of {', '.join(ENDPOINTS)}.")
    body = request.get("body")
    if not isinstance(body, dict):
        raise bad("body", "a JSON object (the request's body) is required.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise bad("body.model", "a capability or model name is required.")
    if body.get("stream"):
        raise bad("body.stream", "batch requests cannot stream.")
    return request


def gateway_file_create(*, filename: str, purpose: str, content: bytes, key_id: int | None = None) -> GatewayFile:
    """Store an uploaded batch input file once every line checks out; `key_id`: the issued key that owns it."""
    if purpose != FilePurpose.BATCH:
        raise _invalid(
            f"purpose: {purpose[:50]!r} is not accepted here; upload batch input with purpose=batch.", "purpose"
        )
    if len(content) > setting("ROUTING_BATCH_MAX_FILE_BYTES"):
        raise errors.GatewayError(
            413, f"The file is larger than {setting('ROUTING_BATCH_MAX_FILE_BYTES')} bytes.", code="file_too_large"
        )
    requests = batch_lines_parse(content)
    return GatewayFile.objects.create(
        purpose=purpose,
        filename=(filename or "batch.jsonl")[:255],
        content=content,
        bytes=len(content),
        lines=len(requests),
        endpoint=requests[0]["url"],
        key_id=key_id,
    )


# Every read is scoped to the key asking: another key's files and batches are as absent as unknown ones.
def gateway_file_get(file_id: str, *, key_id: int | None = None) -> GatewayFile:
    found = GatewayFile.objects.defer("content").filter(pk=file_id, key_id=key_id).first()
    if found is None:
        raise _not_found("file", file_id)
    return found


def gateway_file_content(file_id: str, *, key_id: int | None = None) -> bytes:
    content = GatewayFile.objects.filter(pk=file_id, key_id=key_id).values_list("content", flat=True).first()
    if content is None:
        raise _not_found("file", file_id)
    return bytes(content)


def gateway_files_page(*, after: str | None, limit: object, key_id: int | None = None) -> tuple[list, bool]:
    """The key's files, newest first, `limit` (1–100) after the file `after`; and whether more follow."""
    return _page(GatewayFile.objects.defer("content").filter(key_id=key_id), after, limit, "file")


def _page(rows, after: str | None, limit: object, what: str) -> tuple[list, bool]:
    try:
        size = int(limit) if limit not in (None, "") else 20  # type: ignore[call-overload]
    except (TypeError, ValueError):
        size = 0
    if not 1 <= size <= PAGE_MAX:
        raise _invalid(f"limit: a whole number from 1 to {PAGE_MAX}.", "limit")
    rows = rows.order_by("-created_at", "-id")
    if after:
        anchor = rows.filter(pk=after).values_list("created_at", flat=True).first()
        if anchor is None:
            raise _invalid(f"after: no {what} is called {after[:100]!r}.", "after")
        rows = rows.filter(created_at__lte=anchor).exclude(created_at=anchor, id__gte=after)
    found = list(rows[: size + 1])
    return found[:size], len(found) > size


def _epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def file_json(file: GatewayFile) -> dict[str, Any]:
    return {
        "id": file.id,
        "object": "file",
        "bytes": file.bytes,
        "created_at": _epoch(file.created_at),
        "filename": file.filename,
        "purpose": file.purpose,
        "status": "processed",
        "status_details": None,
    }


# Batches.
def _metadata_check(metadata: object) -> dict | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or len(metadata) > MAX_METADATA_KEYS:
        raise _invalid(f"metadata: an object of at most {MAX_METADATA_KEYS} string pairs.", "metadata")
    for key, value in metadata.items():
        if len(key) > MAX_METADATA_KEY or not isinstance(value, str) or len(value) > MAX_METADATA_VALUE:
            raise _invalid(
                f"metadata.{key[:64]}: keys of at most {MAX_METADATA_KEY} characters, string values of at most "
                f"{MAX_METADATA_VALUE}.",
                "metadata",
            )
    return metadata


def batch_create(
    *,
    input_file_id: object,
    endpoint: object,
    completion_window: object,
    metadata: object = None,
    key_id: int | None = None,
) -> GatewayBatch:
    """Create a batch over an uploaded input file and queue it for a worker (once the row is committed)."""
    if not isinstance(input_file_id, str) or not input_file_id:
        raise _invalid("input_file_id: the id of an uploaded batch file is required.", "input_file_id", "missing")
    if endpoint not in ENDPOINTS:
        raise _invalid(f"endpoint: must be one of {', '.join(ENDPOINTS)}.", "endpoint")
    if completion_window not in COMPLETION_WINDOWS:
        raise _invalid('completion_window: must be "24h".', "completion_window")
    metadata = _metadata_check(metadata)
    file = GatewayFile.objects.defer("content").filter(pk=input_file_id, key_id=key_id).first()
    if file is None or file.purpose != FilePurpose.BATCH:
        raise _invalid(f"input_file_id: no batch input file is called {input_file_id[:100]!r}.", "input_file_id")
    if file.endpoint != endpoint:
        raise _invalid(f"endpoint: the file's requests are for {file.endpoint}, not {endpoint}.", "endpoint")
    now = timezone.now()
    with transaction.atomic():
        batch = GatewayBatch.objects.create(
            endpoint=endpoint,
            input_file=file,
            completion_window=completion_window,
            metadata=metadata,
            total=file.lines,
            key_id=key_id,
            created_at=now,
            expires_at=now + COMPLETION_WINDOWS[completion_window],
        )
        transaction.on_commit(lambda: batch_queue(batch.pk))
    return batch


def batch_queue(batch_id: str) -> None:
    """Hand a batch to a django-q2 worker (with Q_CLUSTER["sync"], as in tests, it runs here and now)."""
    from django_q.tasks import async_task

    # A batch may outlast the cluster's task timeout (Q_TIMEOUT): its own is the completion window. Should the
    # broker hand the task out again meanwhile, the second run finds the batch taken and leaves it alone.
    async_task("routing.batch_tasks.batch_run", batch_id, timeout=int(COMPLETION_WINDOWS["24h"].total_seconds()))


def batch_get(batch_id: str, *, key_id: int | None = None) -> GatewayBatch:
    found = GatewayBatch.objects.filter(pk=batch_id, key_id=key_id).first()
    if found is None:
        raise _not_found("batch", batch_id)
    return found


@transaction.atomic
def batch_cancel(batch_id: str, *, key_id: int | None = None, any_key: bool = False) -> GatewayBatch:
    """Stop a batch: one not started yet is cancelled at once; a running one stops before its next request.
    `any_key`: an operator's cancel (the admin), whoever owns it."""
    rows = GatewayBatch.objects.select_for_update()
    batch = (rows if any_key else rows.filter(key_id=key_id)).filter(pk=batch_id).first()
    if batch is None:
        raise _not_found("batch", batch_id)
    now = timezone.now()
    if batch.status == BatchStatus.VALIDATING:
        batch.status, batch.cancelling_at, batch.cancelled_at = BatchStatus.CANCELLED, now, now
    elif batch.status in (BatchStatus.IN_PROGRESS, BatchStatus.FINALIZING):
        batch.status, batch.cancelling_at = BatchStatus.CANCELLING, now
    elif batch.status in FINISHED and batch.status != BatchStatus.CANCELLED:
        raise errors.GatewayError(
            409, f"Batch {batch.pk} is {batch.status}: it cannot be cancelled.", code="batch_not_cancellable"
        )
    else:
        return batch  # cancelling or cancelled already
    batch.save(update_fields=["status", "cancelling_at", "cancelled_at"])
    return batch


def batches_page(*, after: str | None, limit: object, key_id: int | None = None) -> tuple[list[GatewayBatch], bool]:
    """The key's batches, newest first, `limit` (1–100) after the batch `after`; and whether more follow."""
    return _page(GatewayBatch.objects.filter(key_id=key_id), after, limit, "batch")


def batch_json(batch: GatewayBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "object": "batch",
        "endpoint": batch.endpoint,
        "errors": batch.errors,
        "input_file_id": batch.input_file_id,
        "completion_window": batch.completion_window,
        "status": batch.status,
        "output_file_id": batch.output_file_id,
        "error_file_id": batch.error_file_id,
        "created_at": _epoch(batch.created_at),
        "in_progress_at": _epoch(batch.in_progress_at),
        "expires_at": _epoch(batch.expires_at),
        "finalizing_at": _epoch(batch.finalizing_at),
        "completed_at": _epoch(batch.completed_at),
        "failed_at": _epoch(batch.failed_at),
        "expired_at": None,
        "cancelling_at": _epoch(batch.cancelling_at),
        "cancelled_at": _epoch(batch.cancelled_at),
        "request_counts": {"total": batch.total, "completed": batch.completed, "failed": batch.failed},
        "metadata": batch.metadata,
    }
