"""What /v1/ answers, independent of the server adapter that carries it (Django views or the lean ASGI lane).

Each function takes plain values (a header, a body) and returns an answer or raises GatewayError; the adapters only
translate HTTP.
"""

from __future__ import annotations

from routing import access, embeddings, errors, gateway
from routing.chat_request import has_control_characters
from routing.conf import setting
from routing.router import CAPABILITY, UnknownTarget, get_router
from routing.table import RoutingTable

CHAT_PATHS = frozenset({"/v1/chat/completions", "/v1/chat/completions/"})
MODELS_PATHS = frozenset({"/v1/models", "/v1/models/"})
EMBEDDINGS_PATHS = frozenset({"/v1/embeddings", "/v1/embeddings/"})


def allow(method: str, *methods: str) -> None:
    if method not in methods:
        raise errors.GatewayError(
            405,
            f"{method} is not allowed here; use {' or '.join(methods)}.",
            code="method_not_allowed",
            headers={"Allow": ", ".join(methods)},
        )


async def authorize(headers: dict[str, str], client: str | None) -> None:
    """A gateway key, or a loopback client while none is configured (routing.access); else a 401."""
    await access.authorize(headers, client)


def body_limit() -> int:
    return setting("ROUTING_MAX_BODY_BYTES")


def too_large() -> errors.GatewayError:
    return errors.GatewayError(413, f"The body is larger than {body_limit()} bytes.", code="request_too_large")


def check_declared_length(declared: str | None) -> None:
    if declared and declared.isdigit() and int(declared) > body_limit():
        raise too_large()


async def chat(body: bytes) -> gateway.Answer | gateway.StreamAnswer:
    request = gateway.chat_request_parse(body)
    router = get_router()
    if request.stream:
        return await gateway.stream(router, request)
    return await gateway.complete(router, request)


async def embed(body: bytes) -> gateway.Answer:
    return await gateway.embed(get_router(), embeddings.embeddings_request_parse(body))


STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # proxies must not buffer the stream


def _entries(table: RoutingTable) -> dict[str, dict]:
    """The /v1/models entries of a table (computed once per table)."""
    cached = getattr(table, "_v1_models", None)
    if cached is not None:
        return cached
    slugs_by_id = {node.id: slug for slug, node in table.capabilities.items()}
    entries = {}
    for slug, node in table.capabilities.items():
        pools = table.pools.get(slug, [])
        members = {c.model_id for entry in pools for c in entry.candidates}
        entries[slug] = {
            "id": slug,
            "object": "model",
            "created": 0,
            "owned_by": "modelgraph",
            "modelgraph": {
                "type": CAPABILITY,
                "name": node.name,
                "description": node.description,
                "endpoint": node.endpoint,
                "parent": slugs_by_id.get(node.parent_id),
                "models": len(members),
                "pools": [entry.spec.slug for entry in pools],
            },
        }
    for model_id, info in sorted(table.models.items(), key=lambda item: item[1].slug):
        providers = sorted({c.provider_slug for c in table.by_model.get(model_id, [])})
        entries.setdefault(
            info.slug,
            {
                "id": info.slug,
                "object": "model",
                "created": 0,
                "owned_by": info.owned_by or "modelgraph",
                "modelgraph": {
                    "type": "model",
                    "name": info.name,
                    "providers": providers,
                    "capabilities": sorted(info.capabilities),
                },
            },
        )
    table._v1_models = entries
    return entries


async def models_list() -> dict:
    table = await get_router().get_table()
    return {"object": "list", "data": list(_entries(table).values())}


async def model_detail(model_id: str) -> dict:
    router = get_router()
    table = await router.get_table()
    entries = _entries(table)
    if model_id in entries:
        return entries[model_id]
    try:
        # No name holds a control character: never worth a look-up (PostgreSQL refuses NUL in a query).
        target = None if has_control_characters(model_id) else await router.resolve(model_id)
    except UnknownTarget:
        target = None
    info = table.models.get(target.model_id) if target and target.model_id else None
    if info is None or target.provider_slug:
        raise errors.GatewayError(
            404,
            f"No capability or model is called {model_id[:200]!r}.",
            type=errors.NOT_FOUND,
            code="model_not_found",
            param="model",
        )
    return entries[info.slug]


def not_found(method: str, path: str) -> errors.GatewayError:
    return errors.GatewayError(404, f"Unknown path: {method} {path[:200]}.", type=errors.NOT_FOUND, code="unknown_url")


def internal_error() -> errors.GatewayError:
    return errors.GatewayError(
        500, "The gateway failed to handle this request.", type=errors.SERVER, code="internal_error"
    )
