"""The registry's part of the curators' admin: "Export curators' changes" on the models list downloads the registry
as `export_registry --pinned` writes it (a zip of YAML), so the changes can be committed back to the repository."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone

from catalog.admin.curated import AdminExtension, admin_extend
from catalog.models import Model
from registry.exporting import registry_export


def export_pinned_view(model_admin, request) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        registry_export(out_dir=root, pinned=True)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(root.rglob("*.yaml")):
                archive.write(file, f"registry/{file.relative_to(root)}")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="registry-pinned-{stamp}.zip"'
    return response


def _urls(model_admin) -> list:
    view = model_admin.admin_site.admin_view(lambda request: export_pinned_view(model_admin, request))
    return [path("export-pinned/", view, name="catalog_model_export_pinned")]


admin_extend(Model, AdminExtension(urls=_urls))
