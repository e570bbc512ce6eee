"""The OpenAPI 3.1 document and its Swagger UI, both served without a CDN.

The document (described by modelgraph/api/openapi.py) is built once per process (the URLconf and serializers do
not change while it runs) and served from memory with an ETag, throttled per client like the rest of the API, as
`application/vnd.oai.openapi+json` (default), `application/json` or YAML (`?format=yaml`).
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.renderers import JSONRenderer

from modelgraph.api import cache as api_cache
from modelgraph.api.errors import Throttled, api_exception_handler
from modelgraph.api.throttling import ClientRateThrottle

# The served document.
_documents: dict[tuple, bytes] = {}
_lock = threading.Lock()


@receiver(setting_changed)
def _forget_documents(**kwargs) -> None:
    _documents.clear()


class SchemaView(SpectacularAPIView):
    renderer_classes = [OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer]
    authentication_classes: list = []
    throttle_classes = [ClientRateThrottle]

    def get_exception_handler(self):
        return api_exception_handler

    def throttled(self, request, wait):
        raise Throttled(wait, settings.API_THROTTLE_RATE)

    def handle_exception(self, exc):
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return super().handle_exception(exc)

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        renderer = request.accepted_renderer
        key = (type(renderer), self.api_version or request.version, self.urlconf)
        body = _documents.get(key)
        if body is None:
            with _lock:  # one build per process, even when the first requests arrive together
                body = _documents.get(key)
                if body is None:
                    document = self._get_schema_response(request).data
                    body = _documents[key] = renderer.render(document, renderer.media_type, {"view": self})
        response = HttpResponse(body, content_type=f"{renderer.media_type}; charset=utf-8")
        response["ETag"] = api_cache.strong_etag(body)
        response["Cache-Control"] = "public, no-cache"
        return get_conditional_response(request, etag=response["ETag"], response=response)


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI; its start-up script is a separate request (`?script`), so the strict CSP needs no inline script."""

    authentication_classes: list = []
    throttle_classes: list = []
    url_name = "api-schema"
