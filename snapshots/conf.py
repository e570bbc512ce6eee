"""Snapshot knobs with their defaults; `settings.SNAPSHOTS_*` overrides each one."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    "SNAPSHOTS_BASE_URL": "https://openrouter.ai",
    "SNAPSHOTS_CONCURRENCY": 32,  # endpoint requests in flight at once
    "SNAPSHOTS_TIMEOUT": 30.0,  # seconds per request, the whole body included
    # A body larger than this is refused as it arrives (64 MiB: 40x the real frontend list at 10x its size would
    # still fit 4 times); a body that never ends must not take the worker's memory.
    "SNAPSHOTS_MAX_RESPONSE_BYTES": 64 * 1024 * 1024,
    "SNAPSHOTS_RETRIES": 4,  # after the first attempt
    "SNAPSHOTS_BACKOFF": 0.5,  # seconds, doubled at each retry (with jitter)
    "SNAPSHOTS_MAX_RETRY_AFTER": 120.0,  # never wait longer than this for a 429's Retry-After
    "SNAPSHOTS_ZSTD_LEVEL": 19,  # small bodies (endpoints, providers, manifests)
    "SNAPSHOTS_ZSTD_LEVEL_LARGE": 12,  # list bodies and packs of megabytes (match tables capped: ~16 MB)
    # A sync's lease on its batch lasts this long unless its heartbeat (every third of it) renews it: a sync that
    # died is taken over this many seconds later at most.
    "SNAPSHOTS_LEASE_SECONDS": 60.0,
    # A list that loses more than this share of the entities listed before is fetched again; unless the second
    # answer lists the same entities, the batch is incomplete (nothing disappears on one bad answer).
    "SNAPSHOTS_SHRINK_SHARE": 0.10,
    # The sources beyond the core lists (coverage.py); none of them decides whether a batch is complete.
    "SNAPSHOTS_EXTRAS": ("endpoint_stats", "uptime_hourly", "all_providers", "app_stats"),
    "SNAPSHOTS_UPTIME_EVERY_HOURS": 6,  # uptime-hourly per endpoint UUID in the batches whose hour % this == 0
    "SNAPSHOTS_ANALYTICS_HOUR": 0,  # the UTC hour whose batch fetches the day's app usage per model variant
    "SNAPSHOTS_APP_STATS_LIMIT": 20,  # apps per model variant, as openrouter.ai asks
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
