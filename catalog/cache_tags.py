"""The version tags cached answers are keyed by, each declared once with what bumps it: views and pages name tags
only through this module, and tests/api/test_cache_tags.py holds every cached API view to a tag that is bumped.

A cached answer is served only while the version token of every tag it was computed under is unchanged
(modelgraph/api/cache.py); a write that changes what an answer shows bumps one of its tags.
"""

from __future__ import annotations

# Every list and search (any catalogue row may appear in one): bumped by every catalogue write
# (catalog/invalidation.py `catalogue_invalidate`, on each Provider/Family/Model/Alias/Mapping save or delete, and
# on `catalogue_changed` after bulk writes and registry loads).
CATALOGUE = "catalogue"
# Uptime, latency and rankings: bumped when a probe round's results commit (telemetry/services.py).
TELEMETRY = "telemetry"
# The OpenRouter archive: bumped when a snapshot batch ends and when old metrics are pruned (snapshots/services.py).
SNAPSHOTS = "snapshots"


# One object's answers: bumped with CATALOGUE by `catalogue_invalidate` for exactly the rows a write changed (a
# model's aliases and offers count as the model, and as their provider).
def model(pk: int) -> str:
    return f"model:{pk}"


def provider(pk: int) -> str:
    return f"provider:{pk}"


def family(pk: int) -> str:
    return f"family:{pk}"
