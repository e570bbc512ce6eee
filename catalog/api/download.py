"""The catalogue in one download: /api/catalog.json and the CSV exports (/api/export/models.csv, offers.csv).

Bodies come from catalog/download.py, built once per catalogue version and kept in the cache; this module only
serves them: gzip when the client accepts it, a strong ETag per representation, 304 on a matching If-None-Match
(or If-Modified-Since), and the public API's anonymous access and per-client throttle.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils.http import http_date, parse_etags, parse_http_date_safe
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from catalog import download as downloads
from catalog.api.download_schema import CATALOG_SCHEMA
from modelgraph.api.errors import ERROR_RESPONSES, Throttled, api_exception_handler
from modelgraph.api.http_cache import CACHE_CONTROL
from modelgraph.api.throttling import ClientRateThrottle


def accepts_gzip(request) -> bool:
    """Whether Accept-Encoding names gzip (or `*`) with a non-zero quality."""
    for part in request.META.get("HTTP_ACCEPT_ENCODING", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        quality = params.strip().lower().removeprefix("q=").strip() if params.strip().lower().startswith("q=") else "1"
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            continue
    return False


def not_modified(request, etags: tuple[str, ...], last_modified: int | None) -> bool:
    """If-None-Match (weak comparison, as HTTP says for it) against both representations' validators, else
    If-Modified-Since against the catalogue version's start."""
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if header:
        tags = parse_etags(header)
        return "*" in tags or any(tag.removeprefix("W/") in etags for tag in tags)
    since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    return since is not None and last_modified is not None and last_modified <= since


class DownloadView(APIView):
    """Anonymous GET/HEAD of one whole-catalogue body (`download` names it in catalog/download.py)."""

    download = "catalog.json"
    attachment = False
    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]  # the errors' (the bodies are HttpResponses of their own type)
    throttle_classes = [ClientRateThrottle]
    http_method_names = ["get", "head", "options"]

    def get_exception_handler(self):
        return api_exception_handler

    def throttled(self, request, wait):
        raise Throttled(wait, settings.API_THROTTLE_RATE)

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)  # one body whatever Accept says: never 406

    def get(self, request, *args, **kwargs):
        found, cached = downloads.download(self.download)
        meta = found.meta
        gzipped = accepts_gzip(request)
        etag = meta.gzip_etag if gzipped else meta.etag
        if not_modified(request, (meta.etag, meta.gzip_etag), meta.last_modified):
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(found.gzipped if gzipped else found.body, content_type=meta.content_type)
            if gzipped:
                response["Content-Encoding"] = "gzip"
            response["Content-Length"] = str(len(response.content))
            if self.attachment:
                response["Content-Disposition"] = f'attachment; filename="{meta.filename}"'
        response["ETag"] = etag
        if meta.last_modified is not None:
            response["Last-Modified"] = http_date(meta.last_modified)
        response["Cache-Control"] = CACHE_CONTROL
        response["Vary"] = "Accept-Encoding"
        response["X-Cache"] = "HIT" if cached else "MISS"
        return response


ERRORS = {code: answer for code, answer in ERROR_RESPONSES.items() if code in (304, 429)}
CSV_TAIL = (
    "One header row, then {what}; UTF-8, RFC 4180 quoting. Lists are joined with `;`, missing values are empty, text "
    "that a spreadsheet would run as a formula starts with `'`. Built once per catalogue version; gzip when accepted "
    "(`Accept-Encoding`), a strong ETag per representation and 304 on `If-None-Match`."
)


class CatalogDownloadView(DownloadView):
    download = "catalog.json"

    @extend_schema(
        operation_id="catalog_download",
        tags=["download"],
        summary="The whole catalogue in one file",
        description="Every public model (those a curator has yet to review are left out, as in `/api/models`) with "
        "its aliases and every current offer: every price dimension, long-context tiers, billing and when a source "
        "last confirmed the prices; plus the providers. Built once per catalogue version and regenerated on every "
        "change; gzip when accepted (`Accept-Encoding`), a strong ETag per representation and 304 on "
        "`If-None-Match`. Any origin may fetch it (CORS).",
        responses={200: OpenApiResponse(CATALOG_SCHEMA, description="The catalogue."), **ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ModelsCSVView(DownloadView):
    download = "models.csv"
    attachment = True

    @extend_schema(
        operation_id="export_models_csv",
        tags=["download"],
        summary="Every public model as CSV",
        description="One row per public model: its facts, aliases, number of offers and, per price dimension, the "
        "cheapest pay-per-use offer's price (`min_price_*`). " + CSV_TAIL.format(what="one row per model"),
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="models.csv"), **ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OffersCSVView(DownloadView):
    download = "offers.csv"
    attachment = True

    @extend_schema(
        operation_id="export_offers_csv",
        tags=["download"],
        summary="Every current offer as CSV",
        description="One row per offer of a public model: model and provider slugs, the provider's model id, billing, "
        "every price column (USD per million tokens unless the dimension is per image, request or 1,000 searches), "
        "long-context tiers as JSON, limits and lifecycle. " + CSV_TAIL.format(what="one row per offer"),
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="offers.csv"), **ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
