"""The whole public catalogue in one download: `catalog.json` and the CSV exports of models and offers.

Each body is built from a handful of plain-row queries (no model objects), once per catalogue version: the version
token of the `catalogue` cache tag (catalog/cache_tags.py), which every catalogue write, registry load, ingestion run
and admin save replaces (catalog/invalidation.py). The built body, its gzip and their strong ETags are kept in the
cache (Redis in production and tests, local memory on the embedded default) under that token, so a new version is a
miss by construction and nothing stale is ever served. Without a cache that can vouch for the version (disabled, or
its circuit breaker open) every request builds the body from the database.

Shown like the public list: models a curator has not reviewed yet (`needs_review`, the `review` filter's default)
are left out, with their offers; every other model comes with its aliases and every current offer (pay-per-use
first, then free tiers and plans, each with its `billing`).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache

from catalog import cache_tags
from catalog.models import PAY_PER_USE, PRICE_COLUMNS, Alias, Mapping, Model, Provider
from modelgraph.api import cache as api_cache

FORMAT_VERSION = 1
# `pricing` keys: the column without "price_" (as in the offer bodies of /api/models/{id}/providers).
PRICING_KEYS = tuple(column.removeprefix("price_") for column in PRICE_COLUMNS)
CACHE_PREFIX = "api:download:"
CACHE_SECONDS = 24 * 3600  # a version's body is replaced by the next version's long before this
GZIP_LEVEL = 6

MODEL_COLUMNS = (
    *("pk", "slug", "name", "creator__slug", "family__slug", "status", "release_date", "deprecation_date"),
    *("sunset_date", "successor__slug", "context_window", "max_output", "input_modalities", "output_modalities"),
    *("capabilities", "open_weights", "parameters_total", "parameters_active", "license", "knowledge_cutoff"),
    *("canonical_url", "in_registry"),
)
OFFER_COLUMNS = (
    *("model_id", "provider__slug", "provider_model_id", "billing", *PRICE_COLUMNS, "price_tiers", "regional_uplift"),
    *("context_window", "max_output", "quantization", "served_by", "variant", "delivery_modes", "status"),
    *("retirement_date", "in_registry", "needs_review", "prices_checked", "provenance"),
)
PROVIDER_COLUMNS = ("slug", "name", "kind", "website", "docs_url", "api_base_url", "openai_compatible")


def _number(value: Decimal | str | int | float | None) -> float | None:
    return None if value is None else float(value)


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


def disputed_fields(provenance: dict | None) -> list[str]:
    """The price fields of an offer some source states another value for (the shown one is not settled)."""
    return sorted(
        name for name, entry in (provenance or {}).items() if isinstance(entry, dict) and entry.get("disputed")
    )


@dataclass
class CatalogueRows:
    """The public catalogue as plain rows: four queries, whatever its size."""

    models: list[dict]
    aliases: dict[int, list[dict]]  # model pk → its aliases, by name
    offers: dict[int, list[dict]]  # model pk → its offers, pay-per-use first, then cheapest (blended) first
    providers: list[dict]


def _offer_order(offer: dict) -> tuple:
    price_input, price_output = offer["price_input"], offer["price_output"]
    blended = None if price_input is None or price_output is None else (price_input * 3 + price_output) / 4
    paid = offer["billing"] in PAY_PER_USE
    return (not paid, blended is None, blended or 0, offer["provider__slug"], offer["provider_model_id"])


def catalogue_rows() -> CatalogueRows:
    models = list(Model.objects.filter(needs_review=False).order_by("slug").values(*MODEL_COLUMNS))
    aliases: dict[int, list[dict]] = {row["pk"]: [] for row in models}
    offers: dict[int, list[dict]] = {row["pk"]: [] for row in models}
    alias_rows = Alias.objects.filter(model__needs_review=False).order_by("alias")
    for alias in alias_rows.values("model_id", "alias", "provider__slug"):
        aliases[alias["model_id"]].append({"alias": alias["alias"], "provider": alias["provider__slug"]})
    for offer in Mapping.objects.filter(model__needs_review=False).values(*OFFER_COLUMNS):
        offers[offer["model_id"]].append(offer)
    for model_offers in offers.values():
        model_offers.sort(key=_offer_order)
    providers = list(Provider.objects.order_by("slug").values(*PROVIDER_COLUMNS))
    return CatalogueRows(models, aliases, offers, providers)


def offer_body(offer: dict) -> dict:
    """An offer as catalog.json shows it: every stated price by dimension, tiers, uplift, billing and limits."""
    pricing = {
        key: float(offer[column])
        for key, column in zip(PRICING_KEYS, PRICE_COLUMNS, strict=True)
        if offer[column] is not None
    }
    tiers = [
        {
            "above": tier["above"],
            **{key: _number(tier[key]) for key in ("input", "output", "cached_input") if key in tier},
        }
        for tier in offer["price_tiers"] or []
    ]
    return {
        "provider": offer["provider__slug"],
        "provider_model_id": offer["provider_model_id"],
        "billing": offer["billing"],
        "pricing": pricing,
        "price_tiers": tiers,
        "regional_uplift": _number(offer["regional_uplift"]),
        "prices_checked": _iso(offer["prices_checked"]),
        "disputed": disputed_fields(offer["provenance"]),
        "context_window": offer["context_window"],
        "max_output": offer["max_output"],
        "quantization": offer["quantization"],
        "served_by": offer["served_by"],
        "variant": offer["variant"],
        "delivery_modes": offer["delivery_modes"],
        "status": offer["status"],
        "retirement_date": _iso(offer["retirement_date"]),
        "in_registry": offer["in_registry"],
        "needs_review": offer["needs_review"],
    }


def model_body(model: dict, rows: CatalogueRows) -> dict:
    return {
        "slug": model["slug"],
        "name": model["name"],
        "creator": model["creator__slug"],
        "family": model["family__slug"],
        "status": model["status"],
        "release_date": _iso(model["release_date"]),
        "deprecation_date": _iso(model["deprecation_date"]),
        "sunset_date": _iso(model["sunset_date"]),
        "successor": model["successor__slug"],
        "context_window": model["context_window"],
        "max_output": model["max_output"],
        "input_modalities": model["input_modalities"],
        "output_modalities": model["output_modalities"],
        "capabilities": model["capabilities"],
        "open_weights": model["open_weights"],
        "parameters_total": model["parameters_total"],
        "parameters_active": model["parameters_active"],
        "license": model["license"],
        "knowledge_cutoff": model["knowledge_cutoff"],
        "canonical_url": model["canonical_url"],
        "in_registry": model["in_registry"],
        "aliases": rows.aliases[model["pk"]],
        "offers": [offer_body(offer) for offer in rows.offers[model["pk"]]],
    }


def catalog_json(rows: CatalogueRows) -> bytes:
    body = {
        "format_version": FORMAT_VERSION,
        "models_count": len(rows.models),
        "offers_count": sum(len(offers) for offers in rows.offers.values()),
        "providers": rows.providers,
        "models": [model_body(model, rows) for model in rows.models],
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# Spreadsheets run a cell that starts like a formula: such text cells get a leading apostrophe (OWASP's advice).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, list):
        value = ";".join(str(item) for item in value)
    elif not isinstance(value, str):
        value = value.isoformat()
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _csv(header: list[str], lines: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in line] for line in lines)
    return out.getvalue().encode()


MODEL_CSV_FIELDS = [
    *("slug", "name", "creator", "family", "status", "release_date", "deprecation_date", "sunset_date", "successor"),
    *("context_window", "max_output", "input_modalities", "output_modalities", "capabilities", "open_weights"),
    *("parameters_total", "parameters_active", "license", "knowledge_cutoff", "canonical_url", "in_registry"),
    *("aliases", "offers_count"),
]
# models.csv: the cheapest pay-per-use offer's price in every dimension (each dimension on its own).
MODEL_CSV_PRICES = [f"min_{column}" for column in PRICE_COLUMNS]
OFFER_CSV_FIELDS = [
    *("model", "provider", "provider_model_id", "billing", *PRICE_COLUMNS, "price_tiers", "regional_uplift"),
    *("prices_checked", "disputed", "context_window", "max_output", "quantization", "served_by", "variant"),
    *("delivery_modes", "status", "retirement_date", "in_registry", "needs_review"),
]


def models_csv(rows: CatalogueRows) -> bytes:
    lines = []
    for model in rows.models:
        body = model_body(model, rows)
        offers = [offer for offer in rows.offers[model["pk"]] if offer["billing"] in PAY_PER_USE]
        cheapest = []
        for column in PRICE_COLUMNS:
            prices = [offer[column] for offer in offers if offer[column] is not None]
            cheapest.append(min(prices) if prices else None)
        aliases = [alias["alias"] for alias in body["aliases"]]
        fixed = [body[field] for field in MODEL_CSV_FIELDS[:-2]]
        lines.append([*fixed, aliases, len(body["offers"]), *cheapest])
    return _csv([*MODEL_CSV_FIELDS, *MODEL_CSV_PRICES], lines)


def offers_csv(rows: CatalogueRows) -> bytes:
    lines = []
    for model in rows.models:
        for offer in rows.offers[model["pk"]]:
            tiers = json.dumps(offer["price_tiers"], separators=(",", ":")) if offer["price_tiers"] else ""
            values = {**offer, "model": model["slug"], "provider": offer["provider__slug"], "price_tiers": tiers}
            values["disputed"] = " ".join(disputed_fields(offer["provenance"]))
            lines.append([values[field] for field in OFFER_CSV_FIELDS])
    return _csv(OFFER_CSV_FIELDS, lines)


@dataclass(frozen=True)
class Kind:
    build: Callable[[CatalogueRows], bytes]
    content_type: str
    filename: str


KINDS = {
    "catalog.json": Kind(catalog_json, "application/json", "catalog.json"),
    "models.csv": Kind(models_csv, "text/csv; charset=utf-8", "models.csv"),
    "offers.csv": Kind(offers_csv, "text/csv; charset=utf-8", "offers.csv"),
}


@dataclass(frozen=True)
class Meta:
    """What a 304 needs, and which build's bodies to read: kept apart from the bodies (small, read every time)."""

    build_id: str
    etag: str
    gzip_etag: str  # the gzip body is another representation: another strong validator
    content_type: str
    filename: str
    last_modified: int | None  # seconds since the epoch: when the catalogue version it shows began


@dataclass(frozen=True)
class Download:
    meta: Meta
    body: bytes
    gzipped: bytes


def build(name: str, last_modified: int | None = None) -> Download:
    kind = KINDS[name]
    body = kind.build(catalogue_rows())
    gzipped = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)  # mtime 0: the same body, the same bytes
    etag = api_cache.strong_etag(body)
    meta = Meta(uuid.uuid4().hex, etag, etag[:-1] + '-gzip"', kind.content_type, kind.filename, last_modified)
    return Download(meta, body, gzipped)


# Per process: the last body of each kind this process built or read, reused while the cache's Meta for the current
# version names the same build (a new version, or an emptied cache, names another: never stale, never reused).
_last: dict[str, Download] = {}


def _from_cache(name: str, key: str) -> Download | None:
    meta = api_cache.guarded_call(lambda: cache.get(key))
    if not isinstance(meta, Meta):
        return None
    local = _last.get(name)
    if local is not None and local.meta == meta:
        return local
    keys = [f"{key}:{meta.build_id}:raw", f"{key}:{meta.build_id}:gzip"]
    bodies = api_cache.guarded_call(lambda: cache.get_many(keys), {})
    if not all(isinstance(bodies.get(k), bytes) for k in keys):
        return None
    found = _last[name] = Download(meta, bodies[keys[0]], bodies[keys[1]])
    return found


def download(name: str) -> tuple[Download, bool]:
    """The body of `name` for the current catalogue version, and whether it was built before (cache hit).

    Built at most once per version (per cache): the version is read before the rows, so a write that commits while
    the body is built bumps past it and the next request builds again. A hit costs two small cache reads (the
    version, the build's Meta) when this process holds that build, and one more for the bodies otherwise."""
    if not api_cache.enabled() or not api_cache.replay_pending_bumps():
        return build(name), False
    tag_versions = api_cache.versions([cache_tags.CATALOGUE])
    if tag_versions is None:  # the cache cannot vouch for the version: the database answers
        return build(name), False
    key = f"{CACHE_PREFIX}{name}:{tag_versions[cache_tags.CATALOGUE]}"
    found = _from_cache(name, key)
    if found is not None:
        return found, True
    built = _last[name] = build(name, api_cache.last_modified(tag_versions))
    bodies = {f"{key}:{built.meta.build_id}:raw": built.body, f"{key}:{built.meta.build_id}:gzip": built.gzipped}
    api_cache.guarded_call(lambda: cache.set_many(bodies, timeout=CACHE_SECONDS))
    api_cache.guarded_call(lambda: cache.set(key, built.meta, timeout=CACHE_SECONDS))  # after its bodies
    return built, False
