"""The OpenAI-compatible surface under /v1/ as Django async views (served by modelgraph.asgi and the test client).

Dedicated gateway processes serve the same answers through `routing.asgi` (see there); both call `routing.surface`.
"""

from __future__ import annotations

import functools
import logging

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from routing import errors, gateway, surface

logger = logging.getLogger(__name__)


def _guarded(view):
    """Every answer under /v1/ is OpenAI-shaped JSON, our own failures included."""

    @functools.wraps(view)
    async def wrapper(request, *args, **kwargs):
        try:
            return await view(request, *args, **kwargs)
        except errors.GatewayError as exc:
            return exc.response()
        except Exception:
            logger.exception("routing: %s %s failed", request.method, request.path)
            return surface.internal_error().response()

    return csrf_exempt(wrapper)


def _read_body(request) -> bytes:
    surface.check_declared_length(request.META.get("CONTENT_LENGTH"))
    # read(), not .body: DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is too small for requests carrying images.
    body = request.read(surface.body_limit() + 1)
    if len(body) > surface.body_limit():
        raise surface.too_large()
    return body


@_guarded
async def chat_completions(request):
    surface.allow(request.method, "POST")
    await surface.authorize(request.headers, request.META.get("REMOTE_ADDR"))
    answer = await surface.chat(_read_body(request))
    if isinstance(answer, gateway.StreamAnswer):
        response = StreamingHttpResponse(answer.events, content_type="text/event-stream")
        for name, value in surface.STREAM_HEADERS.items():
            response[name] = value
    else:
        response = HttpResponse(answer.body, content_type=answer.content_type)
    for name, value in answer.headers.items():
        response[name] = value
    return response


@_guarded
async def embeddings(request):
    surface.allow(request.method, "POST")
    await surface.authorize(request.headers, request.META.get("REMOTE_ADDR"))
    answer = await surface.embed(_read_body(request))
    response = HttpResponse(answer.body, content_type=answer.content_type)
    for name, value in answer.headers.items():
        response[name] = value
    return response


@_guarded
async def models_list(request):
    surface.allow(request.method, "GET", "HEAD")
    await surface.authorize(request.headers, request.META.get("REMOTE_ADDR"))
    return JsonResponse(await surface.models_list())


@_guarded
async def model_detail(request, model_id: str):
    surface.allow(request.method, "GET", "HEAD")
    await surface.authorize(request.headers, request.META.get("REMOTE_ADDR"))
    return JsonResponse(await surface.model_detail(model_id))


@_guarded
async def not_found(request, path: str = ""):
    raise surface.not_found(request.method, request.path)
