"""OpenAI-style errors: `{"error": {"message", "type", "param", "code"}}` with the matching status, never HTML."""

from __future__ import annotations

import json

from django.http import HttpResponse

INVALID_REQUEST, NOT_FOUND, AUTHENTICATION = "invalid_request_error", "not_found_error", "authentication_error"
RATE_LIMIT, UPSTREAM, UNAVAILABLE, SERVER = "rate_limit_error", "upstream_error", "service_unavailable", "server_error"


class GatewayError(Exception):
    """An answer the gateway gives instead of a completion."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = INVALID_REQUEST,
        code: str | None = None,
        param: str | None = None,
        headers: dict | None = None,
        body: bytes | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type, code, param
        self.headers = headers or {}
        self.body = body  # an upstream error relayed as it was (already redacted)

    def payload(self) -> dict:
        return error_payload(self.message, type=self.type, code=self.code, param=self.param)

    def content(self) -> bytes:
        return self.body if self.body is not None else json.dumps(self.payload()).encode()

    def response(self) -> HttpResponse:
        response = HttpResponse(self.content(), status=self.status, content_type="application/json")
        for name, value in self.headers.items():
            response[name] = value
        return response


def error_payload(message: str, *, type: str, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def sse_error(message: str, *, code: str, type: str = UPSTREAM) -> bytes:
    """The last event of a stream that failed after its first chunk (no `[DONE]` follows it)."""
    return b"data: " + json.dumps(error_payload(message, type=type, code=code)).encode() + b"\n\n"


def relayed_client_error(status: int, body: bytes, message: str) -> GatewayError:
    """An upstream 4xx about the request itself, passed on: its own body when it is OpenAI-shaped."""
    try:
        shaped = isinstance(json.loads(body).get("error"), dict)
    except (ValueError, AttributeError):
        shaped = False
    return GatewayError(
        status,
        message or f"upstream answered {status}",
        type=INVALID_REQUEST,
        code="upstream_rejected",
        body=body if shaped else None,
    )
