"""bench/api.py only: production settings with the bench URLs (the static-body baseline route)."""

from modelgraph.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# The bench asks /api/resolve for names that answer 404 (and leaves them out, saying how many): not worth a log line.
LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], "django.request": {"level": "ERROR"}}}  # noqa: F405
