"""A batch's validation report: expected against fetched counts per source, and relationship checks.

A batch is complete only if every source was fetched fully: the three lists answered 200 and parsed, the model
list holds as many models as it announces (when it announces a `total_count`), and every listed model's endpoints
were fetched and parsed. Relationship checks (every endpoint's model is listed, every model the frontend shows
with an endpoint is listed) describe OpenRouter's own consistency: they are reported, with the offending ids, but
do not make a fully fetched batch incomplete.

A list is not fetched fully either when it lost more entities than the shrink guard allows and a second answer did
not confirm it (`shrink`), and a failed model list's report says which earlier list stood in for it (`fallback`).
"""

from __future__ import annotations

from snapshots.crawl import Fetched
from snapshots.entities import FRONTEND_MODELS, PROVIDERS, V1_MODELS, FrontendScan

SAMPLE = 25  # offending ids listed per check


class BatchValidator:
    def __init__(self):
        self.sources: dict[str, dict] = {}
        self.endpoints = {"expected": 0, "fetched": 0, "endpoints": 0, "failed": 0, "failures": []}
        self.endpoint_models_unlisted: list[str] = []
        self.frontend_unlisted: list[str] = []
        self._listed: set[str] = set()

    def source(
        self,
        kind: str,
        fetched: Fetched,
        *,
        items: int | None,
        total_count: int | None = None,
        parse_error: str = "",
        shrink: dict | None = None,
    ) -> None:
        ok = fetched.ok and not parse_error and (total_count is None or total_count == items)
        error = parse_error or fetched.error
        if shrink is not None and not shrink["confirmed"]:
            ok = False
            lost = f"lost {shrink['lost']} of {shrink['listed_before']} listed"
            error = error or f"{lost}; a second fetch did not confirm the list"
        self.sources[kind] = {
            "ok": ok,
            "status": fetched.status,
            "attempts": fetched.attempts,
            "items": items,
            "expected": total_count,
            "error": error,
        }
        if shrink is not None:
            self.sources[kind]["shrink"] = shrink

    def fallback(self, kind: str, *, hour: str | None, items: int) -> None:
        """`kind` failed: the entities of the list last read at `hour` (`items` more than it answered) stood in."""
        self.sources[kind]["fallback"] = hour
        self.sources[kind]["fallback_items"] = items

    def listed(self, model_ids: set[str]) -> None:
        self._listed = model_ids
        self.endpoints["expected"] = len(model_ids)

    def frontend(self, scan: FrontendScan) -> None:
        self.frontend_unlisted = scan.unlisted_with_endpoints
        self.sources[FRONTEND_MODELS]["orphans"] = len(scan.orphans)

    def endpoint(self, fetched: Fetched, *, model_id: str | None, endpoints: int, parse_error: str = "") -> None:
        if fetched.ok and not parse_error:
            self.endpoints["fetched"] += 1
            self.endpoints["endpoints"] += endpoints
            if model_id not in self._listed:
                self.endpoint_models_unlisted.append(model_id or fetched.path)
            return
        self.endpoints["failed"] += 1
        if len(self.endpoints["failures"]) < SAMPLE:
            self.endpoints["failures"].append(
                {"path": fetched.path, "status": fetched.status, "error": parse_error or fetched.error}
            )

    def report(self) -> dict:
        lists_ok = all(self.sources.get(kind, {}).get("ok") for kind in (V1_MODELS, FRONTEND_MODELS, PROVIDERS))
        endpoints_ok = self.endpoints["fetched"] == self.endpoints["expected"] and not self.endpoints["failed"]
        checks = {
            "every_endpoint_model_listed": {
                "ok": not self.endpoint_models_unlisted,
                "count": len(self.endpoint_models_unlisted),
                "sample": self.endpoint_models_unlisted[:SAMPLE],
            },
            "every_model_with_endpoints_listed": {
                "ok": not self.frontend_unlisted,
                "count": len(self.frontend_unlisted),
                "sample": self.frontend_unlisted[:SAMPLE],
            },
        }
        return {
            "complete": bool(lists_ok and endpoints_ok),
            "sources": self.sources,
            "endpoints": self.endpoints,
            "checks": checks,
        }
