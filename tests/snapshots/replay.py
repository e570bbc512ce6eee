"""A loopback HTTP server replaying OpenRouter's API from recorded responses, hour by hour, with changes and faults.

Hour 0 serves the real `/api/frontend/models` body of 2025-05-20 and the real `/api/v1/models` list of 2025-05-24
(restricted to the models the frontend list gives endpoints, so the pair is consistent); `advance()` moves to the
real body of 2025-05-25 (models appear, prices change, new orphans), then further hours keep the last real state
plus whatever the test scripted. Endpoint responses (`/api/v1/models/{id}/endpoints`) are built in the real v1
shape from each model's own embedded frontend endpoint; their volatile fields (uptime, and with `modern=True`
the 2026 latency/throughput percentiles) are drawn per hour from a seeded generator.

For the benchmark, `replicas=k` synthesizes a larger catalogue by replicating every real entry with suffixed ids
(`author/slug-r2`, `author/slug-r2:free`, …) and `extra_endpoints=n` adds n endpoints per model cloned from the
real one at other real providers (`providers_2026-05-22`), with shifted prices.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
import threading
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
ENDPOINTS_RE = re.compile(r"^/api/v1/models/(?P<id>.+)/endpoints$")


def _compact(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


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
    seed: int = 7
    hour: int = 0
    models: dict = field(default_factory=dict)
    frontend: list = field(default_factory=list)
    endpoints: dict = field(default_factory=dict)
    faults: dict = field(default_factory=dict)
    removed: dict = field(default_factory=dict)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._cache: dict[str, bytes] = {}
        self._universe = json.loads(V1_MODELS.read_bytes())["data"]
        self._providers_raw = PROVIDERS.read_bytes()
        self._provider_list = json.loads(self._providers_raw)["data"]
        self._raw = {}
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
                    clone["endpoint"] = {**fe["endpoint"], "model_variant_slug": variant}
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

    def fail(
        self,
        path: str,
        status: int = 500,
        times: int | None = None,
        retry_after: float | None = None,
        truncate: bool = False,
    ) -> None:
        """Fault the next `times` requests to `path` (every one when None): an error status, or a truncated body."""
        if truncate:
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

    def body(self, path: str) -> bytes | None:
        with self._lock:
            if path in self._raw:
                return self._raw[path]
            if path in self._cache:
                return self._cache[path]
            body = self._render(path)
            if body is not None and not ENDPOINTS_RE.match(path):
                self._cache[path] = body
            return body

    def _render(self, path: str) -> bytes | None:
        if path == "/api/v1/models":
            return _compact({"data": list(self.models.values())})
        if path == "/api/frontend/models":
            return _compact({"data": self.frontend})
        if path == "/api/v1/providers":
            return self._providers_raw
        match = ENDPOINTS_RE.match(path)
        if not match or match["id"] not in self.models:
            return None
        model_id = match["id"]
        model = self.models[model_id]
        endpoints = [{**e, **self._volatile(model_id, e)} for e in self.endpoints.get(model_id, [])]
        data = {k: model.get(k) for k in ("id", "name", "created", "description", "architecture")}
        return _compact({"data": {**data, "endpoints": endpoints}})

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
            fault = Fault("reset") if dead else self.catalogue.faults.get(request.path)
            if fault is not None and not fault.active:
                fault = None
            if fault is not None:
                fault.used += 1
        if fault is not None and fault.kind != "truncated":
            return self.inject(handler, fault, 200, b"", {})
        body = self.catalogue.body(request.path)
        if body is None:
            return self.send(handler, 404, b"", {})
        headers = {"Content-Type": "application/json"}
        if fault is not None:
            return self.inject(handler, fault, 200, body, headers)
        self.send(handler, 200, body, headers)
        self.served[request.path] = hashlib.sha256(body).hexdigest()
