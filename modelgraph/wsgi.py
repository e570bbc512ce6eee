"""WSGI entry point: the public API's fast lane (modelgraph/fastlane.py) in front of Django."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelgraph.settings.base")
django_application = get_wsgi_application()

from modelgraph.fastlane import FastLane  # noqa: E402  (after setup: it reads settings and the cache)

application = FastLane(django_application)
