"""bench/api.py only: production settings with the bench URLs (the static-body baseline route)."""

from modelgraph.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
