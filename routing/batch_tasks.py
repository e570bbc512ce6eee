"""The django-q2 task that runs a batch: each request through the router (retries, rotation, request log) with at
most ROUTING_BATCH_CONCURRENCY in flight, then the output and error files. Tests run this same function (the
`sync` cluster setting runs it where it is queued)."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time

from asgiref.sync import async_to_sync
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from modelgraph.request_id import REQUEST_ID
from routing import errors, gateway, surface
from routing.access import key_grant
from routing.batch_models import BatchStatus, FilePurpose, GatewayBatch, GatewayFile
from routing.batches import batch_lines_parse
from routing.conf import setting
from routing.key_counters import utc_day
from routing.key_limits import KeyGrant, current_grant
from routing.key_usage import gateway_keys_with_usage
from routing.orm import db
from routing.router import get_router

logger = logging.getLogger(__name__)


def batch_run(batch_id: str) -> str:
    """Run a queued batch to its end; returns its final status. A batch already taken or cancelled is left alone."""
    with transaction.atomic():
        batch = GatewayBatch.objects.select_for_update().select_related("input_file").filter(pk=batch_id).first()
        if batch is None or batch.status != BatchStatus.VALIDATING:
            return batch.status if batch else "missing"
        try:
            requests = batch_lines_parse(bytes(batch.input_file.content))
        except errors.GatewayError as exc:
            batch.status, batch.failed_at = BatchStatus.FAILED, timezone.now()
            batch.errors = {"object": "list", "data": [{"code": exc.code, "message": exc.message, "param": exc.param}]}
            batch.save(update_fields=["status", "failed_at", "errors"])
            return batch.status
        grant = _owner_grant(batch)
        if batch.key_id is not None and grant is None:
            batch.status, batch.failed_at = BatchStatus.FAILED, timezone.now()
            message = "The gateway key that created this batch was revoked before it ran."
            batch.errors = {"object": "list", "data": [{"code": "key_revoked", "message": message, "param": None}]}
            batch.save(update_fields=["status", "failed_at", "errors"])
            return batch.status
        batch.status, batch.in_progress_at, batch.total = BatchStatus.IN_PROGRESS, timezone.now(), len(requests)
        batch.save(update_fields=["status", "in_progress_at", "total"])
    concurrency = max(1, int(setting("ROUTING_BATCH_CONCURRENCY")))
    results = async_to_sync(_execute)(batch_id, requests, concurrency, grant)
    return _finish(batch_id, results)


def _owner_grant(batch: GatewayBatch) -> KeyGrant | None:
    """The scopes, limits and usage so far of the issued key that created the batch (None: none, or revoked)."""
    if batch.key_id is None:
        return None
    key = gateway_keys_with_usage().filter(pk=batch.key_id, revoked_at__isnull=True).first()
    return key_grant(key, utc_day(time.time())[0]) if key is not None else None


async def _execute(
    batch_id: str, requests: list[dict], concurrency: int, grant: KeyGrant | None = None
) -> list[dict | None]:
    """Each request's result line in input order (None: not sent, the batch was cancelled first). Every request
    runs under `grant` like a /v1/ request made with that key: its scopes, limits, budget and usage."""
    results: list[dict | None] = [None] * len(requests)
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, request: dict) -> None:
        async with gate:
            if await db(_cancelling, batch_id=batch_id):
                return
            results[index] = line = await _send(request)
            await db(_count, batch_id=batch_id, ok=line["error"] is None)

    # Each request's task starts from a copy of this context, grant included; the grant is taken back after, so
    # it never outlives the batch in the worker (the next task there may be another key's batch).
    token = current_grant.set(grant)
    try:
        await asyncio.gather(*(one(index, request) for index, request in enumerate(requests)))
    finally:
        current_grant.reset(token)
    await get_router().drain()
    return results


def _cancelling(*, batch_id: str) -> bool:
    return GatewayBatch.objects.filter(pk=batch_id, status=BatchStatus.CANCELLING).exists()


def _count(*, batch_id: str, ok: bool) -> None:
    field = "completed" if ok else "failed"
    GatewayBatch.objects.filter(pk=batch_id).update(**{field: F(field) + 1})


async def _send(request: dict) -> dict:
    """One request through the gateway, as a result line `{id, custom_id, response, error}`."""
    request_id = f"req_{secrets.token_hex(12)}"
    REQUEST_ID.set(request_id)
    body = json.dumps(request["body"]).encode()
    line: dict = {"id": f"batch_req_{secrets.token_hex(12)}", "custom_id": request["custom_id"]}
    try:
        answer = await (surface.embed(body) if request["url"] == "/v1/embeddings" else surface.chat(body))
        if not isinstance(answer, gateway.Answer):  # a stream: the line check refuses `stream`, so never expected
            raise errors.GatewayError(400, "batch requests cannot stream", param="stream")
        response = {"status_code": 200, "request_id": request_id, "body": json.loads(answer.body)}
        return {**line, "response": response, "error": None}
    except errors.GatewayError as exc:
        response = {"status_code": exc.status, "request_id": request_id, "body": json.loads(exc.content())}
        return {**line, "response": response, "error": {"code": exc.code or exc.type, "message": exc.message}}
    except Exception:
        logger.exception("routing: a batch request failed inside the gateway")
        error = {"code": "internal_error", "message": "The gateway failed to handle this request."}
        return {**line, "response": None, "error": error}


def _jsonl(lines: list[dict]) -> bytes:
    return b"".join(json.dumps(line, separators=(",", ":")).encode() + b"\n" for line in lines)


@transaction.atomic
def _finish(batch_id: str, results: list[dict | None]) -> str:
    """Write the output and error files and settle the status (cancelled when a cancel arrived meanwhile)."""
    batch = GatewayBatch.objects.select_for_update().get(pk=batch_id)
    now = timezone.now()
    batch.finalizing_at = now
    done = [line for line in results if line is not None]
    succeeded = [line for line in done if line["error"] is None]
    failed = [line for line in done if line["error"] is not None]
    for lines, kind, attribute in ((succeeded, "output", "output_file"), (failed, "error", "error_file")):
        if lines:
            content = _jsonl(lines)
            written = GatewayFile.objects.create(
                purpose=FilePurpose.BATCH_OUTPUT,
                filename=f"{batch_id}_{kind}.jsonl",
                content=content,
                bytes=len(content),
                lines=len(lines),
            )
            setattr(batch, attribute, written)
    batch.completed, batch.failed = len(succeeded), len(failed)
    if batch.status == BatchStatus.CANCELLING:
        batch.status, batch.cancelled_at = BatchStatus.CANCELLED, now
    else:
        batch.status, batch.completed_at = BatchStatus.COMPLETED, now
    batch.save()
    return batch.status
