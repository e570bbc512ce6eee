"""Routes of the snapshot API (mounted under /api/snapshots/); a trailing slash is optional.

Entity keys contain slashes (`openai/gpt-4o@openai`), so they are matched greedily before `/history`.
"""

from django.urls import re_path

from snapshots.api.views import BatchViewSet, EntityViewSet, EventViewSet

urlpatterns = [
    re_path(r"^batches/?$", BatchViewSet.as_view({"get": "list"}), name="api-snapshots-batches"),
    re_path(r"^batches/(?P<batch>[^/]+)/?$", BatchViewSet.as_view({"get": "retrieve"}), name="api-snapshots-batch"),
    re_path(
        r"^batches/(?P<batch>[^/]+)/changes/?$",
        BatchViewSet.as_view({"get": "changes"}),
        name="api-snapshots-batch-changes",
    ),
    re_path(r"^events/?$", EventViewSet.as_view({"get": "list"}), name="api-snapshots-events"),
    re_path(r"^diff/?$", EntityViewSet.as_view({"get": "diff"}), name="api-snapshots-diff"),
    re_path(
        r"^entities/(?P<kind>[a-z_]+)/(?P<key>.+)/history/?$",
        EntityViewSet.as_view({"get": "history"}),
        name="api-snapshots-history",
    ),
]
