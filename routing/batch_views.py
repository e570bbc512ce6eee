"""/v1/files and /v1/batches (OpenAI's Batch API) as plain Django views; the gateway lane (routing.asgi) hands these
paths to Django. Gateway-key auth and OpenAI-shaped errors like the rest of /v1/."""

from __future__ import annotations

import contextvars
import functools
import json
import logging

from asgiref.sync import async_to_sync
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from modelgraph.json_depth import nesting_exceeds
from routing import access, batches, errors, surface
from routing.conf import setting

logger = logging.getLogger(__name__)


def _batch_api(*methods: str):
    """Allow `methods`, authorize the gateway key, and answer every failure as OpenAI-shaped JSON."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                surface.allow(request.method, *methods)
                # In a copy of the context: `authorize` also leaves the grant in a context variable for the chat
                # gateway, which must not outlive this request in a reused thread.
                authorize = async_to_sync(access.authorize)
                grant = contextvars.copy_context().run(authorize, request.headers, request.META.get("REMOTE_ADDR"))
                # An issued key sees only its own files and batches; configured keys and loopback share theirs.
                return view(request, *args, key_id=grant.id if grant is not None else None, **kwargs)
            except errors.GatewayError as exc:
                return exc.response()
            except RequestDataTooBig:
                return errors.GatewayError(413, "The request is too large.", code="request_too_large").response()
            except MultiPartParserError as exc:
                return errors.GatewayError(
                    400, f"The multipart body is malformed: {exc}.", code="invalid_body"
                ).response()
            except Exception:
                logger.exception("routing: %s %s failed", request.method, request.path)
                return surface.internal_error().response()

        return csrf_exempt(wrapper)

    return decorate


def _json_body(request) -> dict:
    limit = setting("ROUTING_MAX_JSON_DEPTH")
    if nesting_exceeds(request.body, limit):
        raise errors.GatewayError(400, f"The body nests arrays or objects more than {limit} deep.", code="invalid_json")
    try:
        body = json.loads(request.body or b"null")
    except ValueError as exc:
        raise errors.GatewayError(400, f"The body is not valid JSON: {exc}.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise errors.GatewayError(400, "The body must be a JSON object.", code="invalid_json")
    return body


def _list(rows: list, more: bool, shape) -> JsonResponse:
    data = [shape(row) for row in rows]
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return JsonResponse({"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": more})


@_batch_api("GET", "POST")
def files_root(request, key_id: int | None):
    if request.method == "GET":
        page = batches.gateway_files_page(after=request.GET.get("after"), limit=request.GET.get("limit"), key_id=key_id)
        return _list(*page, batches.file_json)
    upload = request.FILES.get("file")
    if upload is None:
        raise errors.GatewayError(
            400, "file: a multipart `file` part (JSONL) is required.", param="file", code="missing_required_parameter"
        )
    purpose = request.POST.get("purpose", "")
    content = upload.read(setting("ROUTING_BATCH_MAX_FILE_BYTES") + 1)
    created = batches.gateway_file_create(filename=upload.name, purpose=purpose, content=content, key_id=key_id)
    return JsonResponse(batches.file_json(created))


@_batch_api("GET", "HEAD")
def file_detail(request, file_id: str, key_id: int | None):
    return JsonResponse(batches.file_json(batches.gateway_file_get(file_id, key_id=key_id)))


@_batch_api("GET", "HEAD")
def file_content(request, file_id: str, key_id: int | None):
    return HttpResponse(batches.gateway_file_content(file_id, key_id=key_id), content_type="application/jsonl")


@_batch_api("GET", "POST")
def batches_root(request, key_id: int | None):
    if request.method == "POST":
        body = _json_body(request)
        created = batches.batch_create(
            input_file_id=body.get("input_file_id"),
            endpoint=body.get("endpoint"),
            completion_window=body.get("completion_window"),
            metadata=body.get("metadata"),
            key_id=key_id,
        )
        return JsonResponse(batches.batch_json(batches.batch_get(created.pk, key_id=key_id)))
    page = batches.batches_page(after=request.GET.get("after"), limit=request.GET.get("limit"), key_id=key_id)
    return _list(*page, batches.batch_json)


@_batch_api("GET", "HEAD")
def batch_detail(request, batch_id: str, key_id: int | None):
    return JsonResponse(batches.batch_json(batches.batch_get(batch_id, key_id=key_id)))


@_batch_api("POST")
def batch_cancel(request, batch_id: str, key_id: int | None):
    return JsonResponse(batches.batch_json(batches.batch_cancel(batch_id, key_id=key_id)))
