"""Error bodies of the public API: one shape, `{"detail": ...}`, naming the parameter at fault on a 400."""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler


class ParameterError(exceptions.ValidationError):
    """A bad query or path parameter: 400 `{"detail": "...", "errors": {"param": ["message"]}}`."""

    def __init__(self, parameter: str, message: str):
        super().__init__({parameter: [message]})


class NotFound(exceptions.NotFound):
    """404 with extra members beside `detail` (e.g. `near_matches`), kept as they are (numbers stay numbers)."""

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.extra = extra


class Throttled(exceptions.Throttled):
    def __init__(self, wait: float | None, rate: str):
        seconds = max(1, math.ceil(wait or 1))
        super().__init__(wait=seconds)
        unit = "second" if seconds == 1 else "seconds"
        self.detail = exceptions.ErrorDetail(
            f"Too many requests: the limit is {rate} per client. Retry after {seconds} {unit}.", code=self.default_code
        )


def _messages(value) -> list[str]:
    return [str(message) for message in (value if isinstance(value, list) else [value])]


def _flatten(errors) -> dict[str, list[str]]:
    if isinstance(errors, dict):
        return {str(name): _messages(messages) for name, messages in errors.items()}
    return {"non_field_errors": _messages(errors)}


def api_exception_handler(exc, context):
    """DRF's handler, then reshape: validation errors name their parameter, 429s say when to retry."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        described = "; ".join(f"'{name}': {' '.join(messages)}" for name, messages in errors.items())
        noun = "parameter" if len(errors) == 1 else "parameters"
        response.data = {"detail": f"Invalid {noun} {described}", "errors": errors}
    elif isinstance(exc, exceptions.Throttled):
        response.data = {"detail": str(exc.detail), "retry_after": exc.wait}
    elif isinstance(exc, NotFound):
        response.data = {"detail": str(exc.detail), **exc.extra}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {**response.data, "detail": str(response.data["detail"])}
    return response


class ErrorSerializer(serializers.Serializer):
    """What every error answers (for the OpenAPI document)."""

    detail = serializers.CharField()


class ParameterErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ThrottledSerializer(ErrorSerializer):
    retry_after = serializers.IntegerField(help_text="Seconds to wait before the next request (also in Retry-After).")


NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such object, or a page beyond the last one.")}
# What any read of the public API may answer besides 200 (views override 404 when they say more, e.g. near matches).
ERROR_RESPONSES = {
    304: OpenApiResponse(description="Not modified: the `If-None-Match` / `If-Modified-Since` copy is current."),
    400: OpenApiResponse(ParameterErrorSerializer, description="A parameter is invalid; `errors` names it."),
    **NOT_FOUND,
    429: OpenApiResponse(ThrottledSerializer, description="Too many requests; see `retry_after` / Retry-After."),
}


API_PREFIXES = ("/api/", "/v1/")
GATEWAY_PREFIX = "/v1/"
# OpenAI's error types, for the gateway's fall-through answers (the gateway's own are routing/errors.py).
GATEWAY_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    429: "rate_limit_error",
    503: "service_unavailable",
}


def is_api_path(path: str) -> bool:
    """Every answer under these prefixes is JSON, errors included."""
    return path.startswith(API_PREFIXES) or path in ("/api", "/v1")


def json_error(request, status: int, detail: str, *, parameter: str | None = None, **extra) -> HttpResponse:
    """An error answer in the shape of its surface: `{"detail": ...}` under /api/, OpenAI's under /v1/."""
    if request.path.startswith(GATEWAY_PREFIX):
        error = {"message": detail, "type": GATEWAY_ERROR_TYPES.get(status, "server_error"), "param": parameter}
        body = {"error": {**error, "code": extra.pop("code", None)}}
    elif parameter is not None:
        body = {"detail": f"Invalid parameter '{parameter}': {detail}", "errors": {parameter: [detail]}, **extra}
    else:
        body = {"detail": detail, **extra}
    return JsonResponse(body, status=status)


def not_found(request, exception=None):
    """Project 404 handler: JSON under /api/ and /v1/ (every API answer is JSON), Django's page elsewhere."""
    if is_api_path(request.path):
        return json_error(request, 404, "Not found: no such API path.")
    return defaults.page_not_found(request, exception)


def bad_request(request, exception=None):
    if is_api_path(request.path):
        return json_error(request, 400, "Bad request.")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if is_api_path(request.path):
        return json_error(request, 403, "Forbidden.")
    return defaults.permission_denied(request, exception)


def server_error(request):
    """Project 500 handler: JSON under /api/ and /v1/ (the traceback is logged, never shown), a page elsewhere."""
    if is_api_path(request.path):
        return json_error(request, 500, "Server error: the request could not be answered; it has been logged.")
    return defaults.server_error(request)
