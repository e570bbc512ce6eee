"""A loopback HTTP server replaying OpenRouter's API from recorded responses, hour by hour, with changes and faults.

Hour 0 serves the real `/api/frontend/models` body of 2025-05-20 and the real `/api/v1/models` list of 2025-05-24
(restricted to the models the frontend list gives endpoints, so the pair is consistent); `advance()` moves to the
real body of 2025-05-25 (models appear, prices change, new orphans), then further hours keep the last real state
plus whatever the test scripted. Endpoint responses (`/api/v1/models/{id}/endpoints`) are built in the real v1
shape from each model's own embedded frontend endpoint; their volatile fields (uptime, and with `modern=True`
the 2026 latency/throughput percentiles) are drawn per hour from a seeded generator.

Beyond the core lists (snapshots/coverage.py), the frontend API is served from real shapes too
(tests/fixtures/openrouter/frontend/README.md): `/api/frontend/stats/endpoint?permaslug=…&variant=…` answers each
model variant's real frontend endpoint objects (UUID, flags, limits, region, data policy; `set_endpoint_detail`
scripts a change) with per-hour `stats`; `/api/frontend/stats/uptime-hourly?id=<uuid>` 73 real hourly figures
re-dated to the replay's hour; `/api/frontend/all-providers` and `/api/frontend/stats/app` the real bodies; and with
`all_modalities=True`, `/api/v1/models?output_modalities=all` adds 12 real image, embeddings, speech, transcription,
video and rerank models that the default `/api/v1/models` omits.

For the benchmark, `replicas=k` synthesizes a larger catalogue by replicating every real entry with suffixed ids
(`author/slug-r2`, `author/slug-r2:free`, …) and `extra_endpoints=n` adds n endpoints per model cloned from the
real one at other real providers (`providers_2026-05-22`), with shifted prices.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import random
import re
import threading
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from tests.replay.server import Fault, Handler, LoopbackServer, RecordedRequest

# Real recorded OpenRouter bodies, copied byte for byte from ../shared/realdata/openrouter (see its README.md).
REALDATA = Path(__file__).resolve().parents[1] / "fixtures" / "openrouter"
V1_MODELS = REALDATA / "orchid" / "v1_models_2025-05-24.json"
FRONTEND_HOURS = (
    REALDATA / "orchid" / "frontend" / "models_2025-05-20.json",
    REALDATA / "orchid" / "frontend" / "models_full_2025-05-25.json",
)
PROVIDERS = REALDATA / "providers_2026-05-22_via-aiscanner.json"
FRONTEND_EXTRAS = REALDATA / "frontend"
ALL_PROVIDERS = FRONTEND_EXTRAS / "all-providers.json"
UPTIME_HOURLY = FRONTEND_EXTRAS / "uptime-hourly_liquid-lfm-7b.json"
APP_STATS = FRONTEND_EXTRAS / "app_liquid-lfm-7b.json"
NON_TEXT_MODELS = FRONTEND_EXTRAS / "v1_models_non-text_2026-08-19.json"
EPOCH = dt.datetime(2025, 5, 20, 12, tzinfo=dt.UTC)  # the replay's hour 0 (tests.snapshots.conftest.HOUR0)
ENDPOINTS_RE = re.compile(r"^/api/v1/models/(?P<id>.+)/endpoints$")


def _compact(obj) -> bytes:
    # A lone surrogate is written as its escape ("\ud83d"), as JavaScript's JSON.stringify does.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "backslashreplace")


def _suffixed(model_id: str, k: int) -> str:
    base, _, variant = model_id.partition(":")
    return f"{base}-r{k}" + (f":{variant}" if variant else "")


def _tag(endpoint: dict) -> str:
    info = endpoint.get("provider_info") or {}
    slug = info.get("slug") or endpoint["provider_name"].lower().replace(" ", "-")
    quant = endpoint.get("quantization")
    return slug if quant in (None, "unknown") else f"{slug}/{quant}"


def endpoint_from_frontend(fe_endpoint: dict) -> dict:
    """The v1 `/endpoints` shape of one endpoint, built from the frontend list's embedded endpoint."""
    return {
        "name": f"{fe_endpoint.get('provider_display_name') or fe_endpoint['provider_name']} | "
        f"{fe_endpoint['model_variant_slug']}",
        "context_length": fe_endpoint["context_length"],
        "pricing": fe_endpoint["pricing"],
        "provider_name": fe_endpoint["provider_name"],
        "tag": _tag(fe_endpoint),
        "quantization": fe_endpoint.get("quantization"),
        "max_completion_tokens": fe_endpoint.get("max_completion_tokens"),
        "max_prompt_tokens": fe_endpoint.get("max_prompt_tokens"),
        "supported_parameters": fe_endpoint.get("supported_parameters") or [],
        "status": 0,
    }


@dataclass
class Catalogue:
    """The state of OpenRouter's catalogue at the current replay hour, and how it answers each path."""

    replicas: int = 1
    extra_endpoints: int = 0
    limit: int | None = None  # keep only the first `limit` models of the real list (and 10 orphans): fast tests
    modern: bool = False
    all_modalities: bool = False  # `?output_modalities=all` lists the real non-text models too
    seed: int = 7
    hour: int = 0
    models: dict = field(default_factory=dict)
    frontend: list = field(default_factory=list)
    endpoints: dict = field(default_factory=dict)
    faults: dict = field(default_factory=dict)
    removed: dict = field(default_factory=dict)
    detail_changes: dict = field(default_factory=dict)  # "<model variant>@<UUID>" -> {field: value}

    def __post_init__(self):
        self._lock = threading.Lock()
        self._cache: dict[str, bytes] = {}
        self._universe = json.loads(V1_MODELS.read_bytes())["data"]
        self._providers_raw = PROVIDERS.read_bytes()
        self._provider_list = json.loads(self._providers_raw)["data"]
        self._raw = {}
        self._non_text = {m["id"]: m for m in json.loads(NON_TEXT_MODELS.read_bytes())["data"]}
        self._uptimes = [point["uptime"] for point in json.loads(UPTIME_HOURLY.read_bytes())["data"]["history"]]
        self._apps = json.loads(APP_STATS.read_bytes())
        self._details: tuple[tuple, dict] = ((), {})
        self._load_frontend(0)

    # --- real hours -------------------------------------------------------------------------------------------------

    def _load_frontend(self, index: int) -> None:
        raw = FRONTEND_HOURS[index].read_bytes()
        frontend = json.loads(raw)["data"]
        with_endpoint = {fe["endpoint"]["model_variant_slug"] for fe in frontend if fe.get("endpoint")}
        every_frontend_id = set()
        for path in FRONTEND_HOURS:
            for fe in json.loads(path.read_bytes())["data"]:
                if fe.get("endpoint"):
                    every_frontend_id.add(fe["endpoint"]["model_variant_slug"])
        models = [m for m in self._universe if m["id"] in with_endpoint or m["id"] not in every_frontend_id]
        endpoints: dict[str, list] = {m["id"]: [] for m in models}
        for fe in frontend:
            if fe.get("endpoint") and fe["endpoint"]["model_variant_slug"] in endpoints:
                endpoints[fe["endpoint"]["model_variant_slug"]].append(endpoint_from_frontend(fe["endpoint"]))
        if self.limit:
            keep = {m["id"] for m in self._universe[: self.limit]}
            first = json.loads(FRONTEND_HOURS[0].read_bytes())["data"]
            orphans = {fe["slug"] for fe in first if not fe.get("endpoint")}
            orphans = set(sorted(orphans)[:10])
            models = [m for m in models if m["id"] in keep]
            endpoints = {k: v for k, v in endpoints.items() if k in keep}
            frontend = [
                fe
                for fe in frontend
                if (fe.get("endpoint") and fe["endpoint"]["model_variant_slug"] in keep)
                or (not fe.get("endpoint") and fe["slug"] in orphans)
            ]
        self.models = {m["id"]: m for m in models}
        self.frontend = frontend
        self.endpoints = endpoints
        self._raw = {"/api/frontend/models": raw} if self.replicas == 1 and not self.limit else {}
        self._frontend_index = index
        if self.replicas > 1:
            self._replicate()
        if self.extra_endpoints:
            self._add_extra_endpoints()
        self._cache.clear()

    def _replicate(self) -> None:
        models, endpoints, frontend = dict(self.models), dict(self.endpoints), list(self.frontend)
        for k in range(2, self.replicas + 1):
            for model_id, entry in self.models.items():
                new_id = _suffixed(model_id, k)
                models[new_id] = {**entry, "id": new_id}
                endpoints[new_id] = [
                    {**e, "name": e["name"].replace(model_id, new_id)} for e in self.endpoints[model_id]
                ]
            for fe in self.frontend:
                slug = _suffixed(fe["slug"], k)
                clone = {**fe, "slug": slug, "permaslug": _suffixed(fe["permaslug"], k)}
                if fe.get("endpoint"):
                    variant = _suffixed(fe["endpoint"]["model_variant_slug"], k)
                    clone_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{variant}/{fe['endpoint']['id']}"))
                    clone["endpoint"] = {**fe["endpoint"], "model_variant_slug": variant, "id": clone_id}
                frontend.append(clone)
        self.models, self.endpoints, self.frontend = models, endpoints, frontend

    def _add_extra_endpoints(self) -> None:
        for model_id, eps in self.endpoints.items():
            if not eps:
                continue
            first = eps[0]
            for i in range(self.extra_endpoints):
                provider = self._provider_list[(zlib.crc32(model_id.encode()) + i * 7) % len(self._provider_list)]
                pricing = dict(first["pricing"])
                for key in ("prompt", "completion"):
                    if key in pricing and pricing[key] not in ("0", 0):
                        pricing[key] = f"{float(pricing[key]) * (1.1 + 0.1 * i):.10f}".rstrip("0")
                eps.append(
                    {
                        **first,
                        "name": f"{provider['name']} | {model_id}",
                        "provider_name": provider["name"],
                        "tag": provider["slug"],
                        "pricing": pricing,
                    }
                )

    def advance(self) -> None:
        """Move to the next hour: the next real frontend body if there is one, new volatile figures anyway."""
        with self._lock:
            self.hour += 1
            if self._frontend_index + 1 < len(FRONTEND_HOURS):
                removed = dict(self.removed)
                self._load_frontend(self._frontend_index + 1)
                for model_id in removed:
                    self._remove(model_id)
            self._cache.clear()

    # --- scripted changes -------------------------------------------------------------------------------------------

    def _touch(self) -> None:
        self._raw.pop("/api/frontend/models", None)
        self._cache.clear()

    def _remove(self, model_id: str) -> None:
        entry = self.models.pop(model_id, None)
        fe = [x for x in self.frontend if (x.get("endpoint") or {}).get("model_variant_slug") == model_id]
        self.frontend = [x for x in self.frontend if x not in fe]
        self.removed[model_id] = (entry, self.endpoints.pop(model_id, []), fe)

    def remove_model(self, model_id: str) -> None:
        with self._lock:
            self._remove(model_id)
            self._touch()

    def restore_model(self, model_id: str) -> None:
        with self._lock:
            entry, eps, fe = self.removed.pop(model_id)
            self.models[model_id] = entry
            self.endpoints[model_id] = eps
            self.frontend.extend(fe)
            self._touch()

    def orphan_model(self, model_id: str) -> None:
        """The model stays in the frontend list with no endpoint, and leaves `/api/v1/models`."""
        with self._lock:
            fe = next(x for x in self.frontend if (x.get("endpoint") or {}).get("model_variant_slug") == model_id)
            self._remove(model_id)
            self.removed.pop(model_id)
            self.frontend.append({**fe, "endpoint": None})
            self._touch()

    def set_endpoint(self, model_id: str, path: str, value, index: int = 0) -> None:
        """Set a field of one endpoint, e.g. `set_endpoint(id, "pricing.prompt", "0.000001")`."""
        with self._lock:
            target = self.endpoints[model_id][index] = copy.deepcopy(self.endpoints[model_id][index])
            *parents, leaf = path.split(".")
            for part in parents:
                target = target[part]
            target[leaf] = value
            self._touch()

    def set_model_field(self, model_id: str, name: str, value) -> None:
        with self._lock:
            self.models[model_id] = {**self.models[model_id], name: value}
            self._touch()

    def endpoint_details(self, model_id: str) -> list[dict]:
        """The frontend endpoint objects (the stats/endpoint shape) of one model variant, by its v1 id."""
        return [
            fe["endpoint"] for fe in self.frontend if (fe.get("endpoint") or {}).get("model_variant_slug") == model_id
        ]

    def set_endpoint_detail(self, model_id: str, name: str, value, index: int = 0) -> str:
        """Set a field of a model's endpoint detail, e.g. `("is_disabled", True)`; returns `<model id>@<UUID>`."""
        with self._lock:
            key = f"{model_id}@{self.endpoint_details(model_id)[index]['id']}"
            self.detail_changes.setdefault(key, {})[name] = value
            self._cache.clear()
            return key

    def fail(
        self,
        path: str,
        status: int = 500,
        times: int | None = None,
        retry_after: float | None = None,
        truncate: bool = False,
        body: str | None = None,
        seconds: float = 0.05,
    ) -> None:
        """Fault the next `times` requests to `path` (every one when None): an error status, a truncated body, or
        `body` ("trickle": the body a byte every `seconds`; "endless": a body without end; "bomb": a gzip bomb)."""
        if body is not None:
            self.faults[path] = Fault(body, times=times, seconds=seconds)
        elif truncate:
            self.faults[path] = Fault("truncated", times=times)
        else:
            self.faults[path] = Fault("status", status=status, times=times, retry_after=retry_after)

    # --- answers ----------------------------------------------------------------------------------------------------

    def _volatile(self, model_id: str, endpoint: dict) -> dict:
        rng = random.Random(f"{self.seed}:{self.hour}:{model_id}:{endpoint['tag']}")

        def uptime() -> float:
            if rng.random() < 0.7:
                return 100
            total = rng.randint(200, 3000)
            return total and 100 * (total - rng.randint(1, total // 10)) / total

        values = {"uptime_last_30m": uptime()}
        if self.modern:
            values["uptime_last_5m"] = uptime()
            values["uptime_last_1d"] = uptime()
            base = rng.uniform(300, 5000)
            spread = (("p50", 1), ("p75", 1.5), ("p90", 2.2), ("p99", 9))
            values["latency_last_30m"] = {p: round(base * m, 2) for p, m in spread}
            tps = rng.randint(10, 200)
            values["throughput_last_30m"] = {"p50": tps, "p75": tps * 1.2, "p90": tps * 1.4, "p99": tps * 1.9}
        return values

    def body(self, path: str, query: dict[str, list[str]] | None = None) -> bytes | None:
        """The answer to `path` (percent-decoded) with `query` (as parsed from the request), None for a 404."""
        target = path + ("?" + "&".join(f"{k}={v}" for k, vs in sorted(query.items()) for v in vs) if query else "")
        with self._lock:
            if target in self._raw:
                return self._raw[target]
            if target in self._cache:
                return self._cache[target]
            body = self._render(path, query or {})
            if body is not None and not ENDPOINTS_RE.match(path) and not path.startswith("/api/frontend/stats/"):
                self._cache[target] = body
            return body

    def _render(self, path: str, query: dict[str, list[str]]) -> bytes | None:
        if path == "/api/v1/models":
            models = list(self.models.values())
            if self.all_modalities and query.get("output_modalities") == ["all"]:
                models += self._non_text.values()
            return _compact({"data": models})
        if path == "/api/frontend/models":
            return _compact({"data": self.frontend})
        if path.startswith("/api/frontend/"):
            return self._render_frontend(path, {k: v[0] for k, v in query.items()})
        if path == "/api/v1/providers":
            return self._providers_raw
        match = ENDPOINTS_RE.match(path)
        if match and self.all_modalities and match["id"] in self._non_text:  # no endpoint data in the real list
            model = self._non_text[match["id"]]
            data = {k: model.get(k) for k in ("id", "name", "created", "description", "architecture")}
            return _compact({"data": {**data, "endpoints": []}})
        if not match or match["id"] not in self.models:
            return None
        model_id = match["id"]
        model = self.models[model_id]
        endpoints = [{**e, **self._volatile(model_id, e)} for e in self.endpoints.get(model_id, [])]
        data = {k: model.get(k) for k in ("id", "name", "created", "description", "architecture")}
        return _compact({"data": {**data, "endpoints": endpoints}})

    def _details_by_variant(self) -> dict:
        """(permaslug, variant) -> frontend endpoint objects, and UUID -> its object; rebuilt when the list moves."""
        key = (id(self.frontend), len(self.frontend))
        if self._details[0] != key:
            by_variant: dict = {}
            for fe in self.frontend:
                if fe.get("endpoint"):
                    by_variant.setdefault((fe["permaslug"], fe["endpoint"]["variant"]), []).append(fe["endpoint"])
            by_id = {e["id"]: e for endpoints in by_variant.values() for e in endpoints}
            self._details = (key, {"variant": by_variant, "id": by_id})
        return self._details[1]

    def _detail(self, endpoint: dict) -> dict:
        rng = random.Random(f"{self.seed}:{self.hour}:{endpoint['id']}")
        changes = self.detail_changes.get(f"{endpoint['model_variant_slug']}@{endpoint['id']}", {})
        item = {**endpoint, "limit_rpm_cf": endpoint.get("limit_rpm_cf"), **changes}
        item["stats"] = {
            "endpoint_id": endpoint["id"],
            "p50_throughput": round(rng.uniform(10, 200), 3),
            "p50_latency": rng.randint(200, 4000),
            "request_count": rng.randint(100, 500_000),
        }
        item["status"] = 0
        return item

    def _render_frontend(self, path: str, query: dict[str, str]) -> bytes | None:
        if path == "/api/frontend/all-providers":
            return ALL_PROVIDERS.read_bytes()
        details = self._details_by_variant()
        if path == "/api/frontend/stats/endpoint":
            endpoints = details["variant"].get((query.get("permaslug"), query.get("variant", "standard")))
            return _compact({"data": [self._detail(e) for e in endpoints]}) if endpoints else None
        if path == "/api/frontend/stats/uptime-hourly":
            if query.get("id") not in details["id"]:
                return None
            offset = zlib.crc32(query["id"].encode())
            now = EPOCH + dt.timedelta(hours=self.hour)
            history = []
            for back in range(len(self._uptimes)):  # newest first; one hour has one figure whenever it is asked
                hour = self.hour - back
                figure = self._uptimes[(offset + hour) % len(self._uptimes)]
                history.append({"date": f"{now - dt.timedelta(hours=back):%Y-%m-%d %H:00:00}", "uptime": figure})
            return _compact({"data": {"history": history}})
        if path == "/api/frontend/stats/app":
            if (query.get("permaslug"), query.get("variant", "standard")) not in details["variant"]:
                return None
            return _compact({"data": self._apps[: int(query.get("limit", 20))]})
        return None

    def endpoint_paths(self) -> list[str]:
        return [f"/api/v1/models/{model_id}/endpoints" for model_id in self.models]


class CatalogueServer(LoopbackServer):
    """`with CatalogueServer(catalogue, latency=0.05) as server:` — serves `catalogue` on http://127.0.0.1:<port>.

    `die_after=n`: the server is "killed" after n requests: every later connection is dropped without an answer.
    """

    def __init__(self, catalogue: Catalogue, latency: float = 0.0, die_after: int | None = None):
        super().__init__(latency=latency)
        self.catalogue = catalogue
        self.die_after = die_after
        self.served: dict[str, str] = {}  # path -> sha256 of the last whole body sent

    def respond(self, handler: Handler, request: RecordedRequest) -> None:
        with self._lock:
            dead = self.die_after is not None and len(self._requests) > self.die_after
            query = handler.path.partition("?")[2]
            target = request.path + ("?" + query if query else "")  # as the crawler asked for it
            fault = (
                Fault("reset") if dead else self.catalogue.faults.get(target, self.catalogue.faults.get(request.path))
            )
            if fault is not None and not fault.active:
                fault = None
            if fault is not None:
                fault.used += 1
        if fault is not None and fault.kind not in ("truncated", "trickle"):
            return self.inject(handler, fault, 200, b"", {})
        body = self.catalogue.body(request.path, request.query)
        if body is None:
            return self.send(handler, 404, b"", {})
        headers = {"Content-Type": "application/json"}
        if fault is not None:
            return self.inject(handler, fault, 200, body, headers)
        self.send(handler, 200, body, headers)
        self.served[target] = hashlib.sha256(body).hexdigest()
