"""Root URL configuration."""

from django.contrib import admin
from django.urls import include, path, re_path

from modelgraph.api.health import HealthView
from modelgraph.api.metrics import metrics_view
from modelgraph.api.schema import DocsView, SchemaView

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^api/health/?$", HealthView.as_view(), name="api-health"),
    re_path(r"^metrics/?$", metrics_view, name="metrics"),  # Prometheus; a `metrics:read` key (modelgraph/metrics.py)
    re_path(r"^api/schema/?$", SchemaView.as_view(), name="api-schema"),
    re_path(r"^api/docs/?$", DocsView.as_view(), name="api-docs"),
    path("api/v1/admin/", include("ingestion.api.urls")),
    path("api/telemetry/", include("telemetry.api.urls")),
    path("api/snapshots/", include("snapshots.api.urls")),
    path("api/routing/", include("routing.api.urls")),
    path("snapshots/", include("snapshots.urls")),
    path("v1/", include("routing.urls")),
    path("api/", include("catalog.api.urls")),
    # Browser pages at the root, last: api/ and admin/ always win.
    path("", include("web.urls")),
]

# JSON under /api/ and /v1/ (modelgraph/api/errors.py), pages elsewhere (a 404 with "did you mean" for models).
handler400 = "modelgraph.api.errors.bad_request"
handler403 = "modelgraph.api.errors.permission_denied"
handler404 = "web.views.not_found"
handler500 = "modelgraph.api.errors.server_error"
