"""bench/api.py only: the project's URLs plus /bench/static, the static-body baseline (never in production URLs)."""

from django.urls import re_path

from bench.static_body import static_body
from modelgraph.urls import handler400, handler403, handler404, handler500  # noqa: F401  (the project's handlers)
from modelgraph.urls import urlpatterns as project_urlpatterns

urlpatterns = [re_path(r"^bench/static/?$", static_body, name="bench-static"), *project_urlpatterns]
