"""The /v1/ gateway's operations for the OpenAPI document (it is plain Django, so drf-spectacular cannot see it).

OpenAI's shapes, kept loose where OpenAI's are open (extra members pass through to and from the upstreams).
Merged into the document by `modelgraph.api.openapi.add_gateway`.
"""

from __future__ import annotations

SECURITY = [{"gatewayKey": []}]
# What routing/chat_request.py accepts: `model` not blank and without control characters; each content part type
# with the field it carries.
_CONTROL = "\\x00-\\x1f\\x7f-\\x9f"
MODEL_PATTERN = f"^[^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"
PART_FIELDS = [
    ("text", "text", "string"),
    ("refusal", "refusal", "string"),
    ("image_url", "image_url", "object"),
    ("input_audio", "input_audio", "object"),
    ("file", "file", "object"),
]
TAGS = ["gateway"]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("GatewayError")}}}


COMMON_ERRORS = {
    "401": _error("No gateway key, or an unknown one (`invalid_api_key`, `gateway_key_not_configured`)."),
    "405": _error("Another method than the ones documented (`method_not_allowed`; Allow names them)."),
    "500": _error("The gateway itself failed (`internal_error`); nothing was charged twice."),
    "503": _error("The catalogue or the database is unavailable."),
}


def gateway_components() -> dict[str, dict]:
    return {
        "GatewayError": {
            "type": "object",
            "description": "OpenAI's error shape.",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["message", "type"],
                    "properties": {
                        "message": {"type": "string"},
                        "type": {"type": "string"},
                        "param": {"type": ["string", "null"]},
                        "code": {"type": ["string", "null"]},
                    },
                }
            },
        },
        "ChatMessage": {
            "description": "A message: `content` is required except on an assistant turn that only calls tools.",
            "anyOf": [
                {
                    "type": "object",
                    "required": ["role", "content"],
                    "properties": {
                        "role": {"type": "string", "enum": ["system", "developer", "user", "tool", "function"]},
                        "content": _ref("ChatContent"),
                        "name": {"type": "string"},
                    },
                },
                {
                    "type": "object",
                    "required": ["role"],
                    "properties": {
                        "role": {"type": "string", "enum": ["assistant"]},
                        "content": {"anyOf": [_ref("ChatContent"), {"type": "null"}]},
                        "name": {"type": "string"},
                    },
                },
            ],
        },
        "ChatContent": {
            "description": "Text, or a list of content parts.",
            "anyOf": [{"type": "string"}, {"type": "array", "items": _ref("ChatContentPart")}],
        },
        "ChatContentPart": {
            "description": "A part with its `type` and the field that type carries (`text`, `image_url`, "
            "`input_audio`, `file`, `refusal`); other types pass to the upstream as they are.",
            "anyOf": [
                *(
                    {
                        "type": "object",
                        "required": ["type", field],
                        "properties": {"type": {"type": "string", "enum": [kind]}, field: {"type": json_type}},
                    }
                    for kind, field, json_type in PART_FIELDS
                ),
                {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {
                            "type": "string",
                            "minLength": 1,
                            "not": {"enum": [kind for kind, _, _ in PART_FIELDS]},
                        }
                    },
                },
            ],
        },
        "ChatCompletionRequest": {
            "type": "object",
            "required": ["model", "messages"],
            "description": "OpenAI's chat request. Sampling parameters, tools and the rest are passed to the upstream "
            "as they are (it validates them).",
            "properties": {
                "model": {
                    "type": "string",
                    "pattern": MODEL_PATTERN,
                    "description": "A capability (`chat`, `reasoning`…, routed to the best offer), a model's slug or "
                    "alias, or `provider/model` to pin one offer.",
                },
                "messages": {"type": "array", "minItems": 1, "items": _ref("ChatMessage")},
                "stream": {"type": "boolean", "default": False, "description": "Answer as server-sent events."},
                "stream_options": {"type": ["object", "null"]},
            },
            "additionalProperties": True,
        },
        "ChatCompletion": {
            "type": "object",
            "description": "The upstream's completion as it answered it (OpenAI's shape), `model` included.",
            "properties": {
                "id": {"type": "string"},
                "object": {"type": "string"},
                "created": {"type": "integer"},
                "model": {"type": "string"},
                "choices": {"type": "array", "items": {"type": "object"}},
                "usage": {"type": ["object", "null"]},
            },
        },
        "GatewayModel": {
            "type": "object",
            "required": ["id", "object", "created", "owned_by"],
            "properties": {
                "id": {"type": "string", "description": "What to send as `model`."},
                "object": {"type": "string", "enum": ["model"]},
                "created": {"type": "integer"},
                "owned_by": {"type": "string"},
                "modelgraph": {
                    "type": "object",
                    "description": "What the catalogue knows: a capability (its pools) or a model (its providers).",
                },
            },
        },
        "GatewayModelList": {
            "type": "object",
            "required": ["object", "data"],
            "properties": {
                "object": {"type": "string", "enum": ["list"]},
                "data": {"type": "array", "items": _ref("GatewayModel")},
            },
        },
    }


def gateway_paths() -> dict[str, dict]:
    return {
        "/v1/chat/completions": {
            "post": {
                "operationId": "gateway_chat_completions",
                "summary": "A chat completion, routed to the best provider (OpenAI-compatible)",
                "description": "Send OpenAI's chat request; `model` may be a capability, and the gateway picks the "
                "offer (price, health, latency), retries another on a provider failure and answers with the "
                "upstream's completion. `stream: true` answers server-sent events ending with `data: [DONE]`.",
                "tags": TAGS,
                "security": SECURITY,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("ChatCompletionRequest")}},
                },
                "responses": {
                    "200": {
                        "description": "The completion (JSON), or its events (`stream: true`).",
                        "content": {
                            "application/json": {"schema": _ref("ChatCompletion")},
                            "text/event-stream": {"schema": {"type": "string"}},
                        },
                    },
                    "400": _error("The body is not a valid chat request (`param` names the field at fault)."),
                    "404": _error("No capability or model has that name (`model_not_found`)."),
                    "413": _error("The body is larger than ROUTING_MAX_BODY_BYTES (`request_too_large`)."),
                    "429": _error("Every provider tried is rate limiting; see Retry-After."),
                    "502": _error("Every attempt failed upstream (`upstream_error`)."),
                    "504": _error("The upstreams did not answer in time."),
                    **COMMON_ERRORS,
                    "503": _error("No provider can take the request now (`no_available_provider`); see Retry-After."),
                },
            }
        },
        "/v1/models": {
            "get": {
                "operationId": "gateway_models_list",
                "summary": "What `model` may name: capabilities and models (OpenAI-compatible)",
                "description": "Every capability the gateway routes and every model it can reach, in OpenAI's list "
                "shape; `modelgraph` says what each one is.",
                "tags": TAGS,
                "security": SECURITY,
                "responses": {
                    "200": {
                        "description": "The list.",
                        "content": {"application/json": {"schema": _ref("GatewayModelList")}},
                    },
                    **COMMON_ERRORS,
                },
            }
        },
        "/v1/models/{id}": {
            "get": {
                "operationId": "gateway_models_retrieve",
                "summary": "One capability or model by the name `model` may use",
                "description": "A capability's or a model's entry; any alias of a model finds it.",
                "tags": TAGS,
                "security": SECURITY,
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "A capability slug, a model slug or any alias.",
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The entry.",
                        "content": {"application/json": {"schema": _ref("GatewayModel")}},
                    },
                    "404": _error("No capability or model has that name (`model_not_found`)."),
                    **COMMON_ERRORS,
                },
            }
        },
    }
