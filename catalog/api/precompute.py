"""Which public catalogue answers the fast lane (modelgraph/fastlane.py) precomputes, and the hottest ones rendered
eagerly after each catalogue change.

Every answer is the real view's (rendered by Django through the whole stack on a miss, byte for byte) and is kept
under the version tokens of `catalogue` (bumped by every catalogue write: registry loads, ingestion runs, admin saves;
catalog/invalidation.py) and, for compare, `telemetry` too: the tags the views' own cache keys cover. Per-object tags
would keep more entries across unrelated writes, but need a database read to know, which is what the lane avoids.
"""

from __future__ import annotations

from catalog import cache_tags
from catalog.api.compare_lane import model_compare_answer
from catalog.api.list_lane import model_list_answer
from catalog.api.resolve_lane import resolve_answer
from catalog.signals import catalogue_changed
from modelgraph.api import precomputed

CATALOGUE = (cache_tags.CATALOGUE,)
ID = r"[\s\S]+"

# The answers rendered right after a change (for each host the API was asked under): the first page of the model and
# provider lists at the default ordering and page size, and the whole-catalogue download, gzip and plain.
HOTTEST: tuple[tuple[str, dict[str, str]], ...] = (
    ("/api/models", {}),
    ("/api/providers", {}),
    ("/api/catalog.json", {"Accept-Encoding": "gzip"}),
    ("/api/catalog.json", {}),
)


def register_routes() -> None:
    """The precomputable paths, in URL order (a model's sub-resources before its detail, as catalog/api/urls.py)."""
    # Without the response cache the lane still answers the unfiltered list from its stored rows (list_lane.py).
    precomputed.register("api-model-list", r"/api/models/?", tags=CATALOGUE, compute=model_list_answer)
    precomputed.register("api-model-providers", rf"/api/models/{ID}/providers/?", tags=CATALOGUE)
    precomputed.register(
        "api-model-compare",
        rf"/api/models/{ID}/compare/?",
        tags=(cache_tags.CATALOGUE, cache_tags.TELEMETRY),
        timeout_setting="API_CACHE_TELEMETRY_SECONDS",
        compute=model_compare_answer,  # without the response cache, computed in the lane (compare_lane.py)
    )
    precomputed.register("api-model-detail", rf"/api/models/{ID}", tags=CATALOGUE)
    precomputed.register("api-provider-list", r"/api/providers/?", tags=CATALOGUE)
    precomputed.register("api-provider-detail", rf"/api/providers/{ID}", tags=CATALOGUE)
    # Without the response cache the lane still answers names the in-process index resolves (resolve_lane.py).
    precomputed.register("api-resolve", r"/api/resolve/?", tags=CATALOGUE, compute=resolve_answer)
    # Its own conditional rules (both representations' ETags, If-Modified-Since): 304s stay Django's.
    precomputed.register(
        "api-catalog-download", r"/api/catalog\.json", tags=CATALOGUE, by_encoding=True, conditional_in_lane=False
    )


def precompute_hottest(sender=None, **kwargs) -> int:
    """Render the hottest answers now (after the versions were bumped), so the first readers after a change hit."""
    from modelgraph.fastlane import precompute  # the lane builds Django's handler: imported when first needed

    return precompute(HOTTEST)


def connect() -> None:
    register_routes()
    # Connected after catalog.invalidation's receiver: it runs once the versions are bumped.
    catalogue_changed.connect(precompute_hottest, dispatch_uid="catalog.api.precompute.hottest")
