"""Scoped admin-API keys: each view names the scope its method needs; a key without it answers 403."""

from __future__ import annotations

from rest_framework import exceptions, permissions

from modelgraph.api.bearer import HasActiveApiKey
from modelgraph.models import ApiKey


class HasKeyScope(permissions.BasePermission):
    """After HasActiveApiKey: the view's `required_scopes` ({method: scope}, or `required_scope` for every method)."""

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            raise exceptions.NotAuthenticated("an admin API key is required: Authorization: Bearer <key>")
        scope = view_scope(view, request.method)
        if scope is None or key.has_scope(scope):
            return True
        raise exceptions.PermissionDenied(f"this API key lacks the scope '{scope}'")


def view_scope(view, method: str) -> str | None:
    scopes = getattr(view, "required_scopes", None) or {}
    return scopes.get(method.upper(), getattr(view, "required_scope", None))


ADMIN_PERMISSIONS = [HasActiveApiKey, HasKeyScope]
