"""Splitting OpenRouter responses into entities (models, endpoints, providers), stable fields apart from volatile ones.

List bodies are read one item at a time (a 10 MB list is never turned into one big Python structure).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from snapshots.models import EntityKind
from snapshots.storage import VOLATILE_KEYS

V1_MODELS = "v1_models"
FRONTEND_MODELS = "frontend_models"
PROVIDERS = "providers"
ENDPOINTS = "endpoints"
# `output_modalities=all`: without it the list holds text-output models only (414 of 549 on 2026-08-19: no image,
# embeddings, speech, transcription, video or rerank models).
LIST_PATHS = {
    V1_MODELS: "/api/v1/models?output_modalities=all",
    FRONTEND_MODELS: "/api/frontend/models",
    PROVIDERS: "/api/v1/providers",
}
CHUNK = 256 * 1024
_WHITESPACE = " \t\r\n,"


def endpoints_path(model_id: str) -> str:
    return f"/api/v1/models/{model_id}/endpoints"


@dataclass
class EntityObservation:
    """One entity as one response shows it."""

    kind: str
    key: str
    fields: dict
    source: str
    model_key: str = ""
    provider_key: str = ""
    volatile: dict | None = None
    orphaned: bool = False
    content_hash: str = field(init=False)

    def __post_init__(self):
        self.content_hash = content_hash(self.fields)


def content_hash(fields: dict) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: a lone surrogate (JavaScript cut a string inside an emoji, "\ud83d") is valid JSON and must
    # not make the whole list unreadable; every other text encodes exactly as plain UTF-8.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def split_fields(item: dict) -> tuple[dict, dict]:
    """(stable, volatile): volatile fields move every hour and must not make a new version."""
    stable = {k: v for k, v in item.items() if k not in VOLATILE_KEYS}
    volatile = {k: v for k, v in item.items() if k in VOLATILE_KEYS}
    return stable, volatile


def iter_list_items(body: bytes) -> Iterator[dict]:
    """The items of `{"data": [...]}` (or of a bare `[...]`), decoded one at a time from 256 KB of text at most."""
    start = body.find(b"[") if body.lstrip()[:1] == b"[" else body.find(b"[", body.find(b'"data"'))
    if start < 0:
        raise ValueError("no list in body")
    decoder = json.JSONDecoder()
    text = codecs.getincrementaldecoder("utf-8")()
    offset, pos, buffer = start + 1, 0, ""
    while True:
        while pos < len(buffer) and buffer[pos] in _WHITESPACE:
            pos += 1
        if pos < len(buffer) and buffer[pos] == "]":
            return
        try:
            if pos >= len(buffer):
                raise json.JSONDecodeError("need more", buffer, pos)
            item, pos = decoder.raw_decode(buffer, pos)
        except json.JSONDecodeError:
            if offset >= len(body):
                raise ValueError("list body is truncated or malformed") from None
            buffer = buffer[pos:] + text.decode(body[offset : offset + CHUNK], final=offset + CHUNK >= len(body))
            offset, pos = offset + CHUNK, 0
            continue
        yield item


def list_total_count(body: bytes) -> int | None:
    """`total_count` where the response announces one (newer `/api/v1/models` shapes)."""
    match = re.search(rb'"total_count"\s*:\s*(\d+)', body[-4096:])
    return int(match.group(1)) if match else None


def endpoint_key(model_id: str, endpoint: dict) -> tuple[str, str]:
    """(`<model id>@<tag>`, provider slug). Older shapes have no `tag`: it is derived like OpenRouter does."""
    tag = endpoint.get("tag")
    if not tag:
        slug = re.sub(r"[^a-z0-9]+", "-", str(endpoint.get("provider_name", "unknown")).lower()).strip("-")
        quant = endpoint.get("quantization")
        tag = slug if quant in (None, "unknown") else f"{slug}/{quant}"
    return f"{model_id}@{tag}", tag.split("/")[0]


def model_observations(body: bytes) -> Iterator[EntityObservation]:
    for item in iter_list_items(body):
        stable, _ = split_fields(item)
        yield EntityObservation(EntityKind.MODEL, item["id"], stable, V1_MODELS, model_key=item["id"])


def provider_observations(body: bytes) -> Iterator[EntityObservation]:
    for item in iter_list_items(body):
        yield EntityObservation(EntityKind.PROVIDER, item["slug"], item, PROVIDERS, provider_key=item["slug"])


def endpoint_observations(body: bytes) -> tuple[str, list[EntityObservation]]:
    """(the model id the response is about, its endpoints)."""
    data = json.loads(body)["data"]
    model_id = data["id"]
    observations, seen = [], set()
    for endpoint in data.get("endpoints") or []:
        key, provider = endpoint_key(model_id, endpoint)
        while key in seen:  # two endpoints with one tag: keep both, apart
            key += "+"
        seen.add(key)
        stable, volatile = split_fields(endpoint)
        observations.append(
            EntityObservation(
                EntityKind.ENDPOINT,
                key,
                stable,
                ENDPOINTS,
                model_key=model_id,
                provider_key=provider,
                volatile=volatile,
            )
        )
    return model_id, observations


@dataclass
class FrontendScan:
    """What the frontend list says beyond `/api/v1/models`: orphaned models and how it relates to the list."""

    entries: int = 0
    # slug -> the orphan's stable fields as compact JSON: a 10x frontend list has ~2,000 orphans, whose fields held
    # as decoded objects took ~5 MB (and pinned more in half-empty allocator pools) for the rest of the sync
    orphans: dict[str, bytes] = field(default_factory=dict)
    unlisted_with_endpoints: list = field(default_factory=list)
    # (permaslug, variant, model variant slug) of every entry with an endpoint: what the frontend stats are asked by
    variants: list = field(default_factory=list)

    def orphan_observations(self) -> Iterator[EntityObservation]:
        for slug, fields in self.orphans.items():
            yield EntityObservation(
                EntityKind.MODEL, slug, json.loads(fields), FRONTEND_MODELS, model_key=slug, orphaned=True
            )


def frontend_scan(body: bytes, listed_ids: Collection[str]) -> FrontendScan:
    """Orphans are models the frontend lists with no endpoint at all, and that `/api/v1/models` omits."""
    scan = FrontendScan()
    with_endpoint: set[str] = set()
    candidates: dict[str, bytes] = {}
    for item in iter_list_items(body):
        scan.entries += 1
        endpoint = item.get("endpoint")
        if endpoint:
            with_endpoint.add(item["slug"])
            variant = endpoint.get("model_variant_slug") or item["slug"]
            permaslug = item.get("permaslug") or item["slug"]
            scan.variants.append((permaslug, endpoint.get("variant") or "standard", variant))
            if listed_ids and variant not in listed_ids:
                scan.unlisted_with_endpoints.append(variant)
        else:
            stable, _ = split_fields({k: v for k, v in item.items() if k != "endpoint"})
            candidates[item["slug"]] = json.dumps(stable, separators=(",", ":")).encode()  # ASCII: any str round-trips
    scan.orphans = {s: f for s, f in candidates.items() if s not in with_endpoint and s not in listed_ids}
    return scan
