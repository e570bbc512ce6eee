"""How drf-spectacular describes our API: the admin key scheme, the statuses every operation shares, descriptions
written for users (never an inherited docstring), and the post-processing hooks (paths without trailing slashes, the
/v1/ gateway merged in). Served by modelgraph/api/schema.py.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_doc
from drf_spectacular.utils import OpenApiResponse

from modelgraph.api.errors import ErrorSerializer, ThrottledSerializer
from modelgraph.api.schema_gateway import gateway_components, gateway_paths

ADMIN_KEY_SCHEME = "adminKey"
NO_NUL = "^[^\\x00]*$"
AUTH_RESPONSES = {
    "401": OpenApiResponse(ErrorSerializer, description="No key, a malformed header or an unknown key."),
    "403": OpenApiResponse(ErrorSerializer, description="The key has been revoked (or the session is not staff)."),
    "429": OpenApiResponse(ThrottledSerializer, description="Too many failed keys from this address: retry later."),
}
THROTTLED = OpenApiResponse(ThrottledSerializer, description="Too many requests; see `retry_after` / Retry-After.")
UNAVAILABLE = OpenApiResponse(ErrorSerializer, description="The database is unavailable and no cached answer is kept.")


class BearerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "modelgraph.api.bearer.BearerKeyAuthentication"
    name = ADMIN_KEY_SCHEME

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An admin API key, issued once in the Django admin (Ingestion › API keys).",
        }


class APIAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with the statuses every operation shares and no inherited docstrings."""

    def get_description(self) -> str:
        """The handler's own docstring at most: a base class's docstring describes our code, not the operation."""
        handler = getattr(self.view, getattr(self.view, "action", None) or self.method.lower(), None)
        own = handler is not None and getattr(handler, "__qualname__", "").startswith(type(self.view).__name__ + ".")
        return get_doc(handler) if own else ""

    def _get_response_bodies(self, direction="response"):
        # Not at import: DRF imports this module for its settings.
        from modelgraph.api.bearer import BearerKeyAuthentication
        from modelgraph.api.throttling import ClientRateThrottle

        responses = super()._get_response_bodies(direction)
        view = self.view
        authentication = getattr(view, "authentication_classes", [])
        needs_key = any(issubclass(auth, BearerKeyAuthentication) for auth in authentication)
        extra = dict(AUTH_RESPONSES) if needs_key else {}
        if any(issubclass(throttle, ClientRateThrottle) for throttle in getattr(view, "throttle_classes", [])):
            extra.setdefault("429", THROTTLED)
        extra.setdefault("503", UNAVAILABLE)
        for code, response in extra.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return dict(sorted(responses.items()))


# Hooks (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]).
def strip_trailing_slashes(result, generator, request, public):
    """Paths as the API documents them (`/api/models/{id}`): the optional trailing slash is not part of the name."""
    result["paths"] = {(path.rstrip("/") or "/"): operations for path, operations in result.get("paths", {}).items()}
    return result


def forbid_nul_in_strings(result, generator, request, public):
    """Free-text parameters say what the API enforces (modelgraph/api/viewsets.py): no NUL character (PostgreSQL cannot
    store or compare one), so a client learns it from the document rather than from a 400."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if schema.get("type") == "string" and not {"enum", "pattern", "format"} & set(schema):
                    schema["pattern"] = NO_NUL
    return result


def add_gateway(result, generator, request, public):
    """The OpenAI-compatible gateway under /v1/ is plain Django (not DRF): its operations come from a fragment."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {}).update(gateway_components())
    components.setdefault("securitySchemes", {})["gatewayKey"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A gateway key (issued in the admin or by `manage.py gateway_key`, or ROUTING_GATEWAY_KEYS).",
    }
    result["paths"].update(gateway_paths())
    return result
