"""Every version tag a cached API view names (catalog/cache_tags.py) is one that invalidation bumps."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIRequestFactory

from catalog.api.views import ModelViewSet, ProviderViewSet
from catalog.models import Family, Model, Provider
from modelgraph.api import cache as api_cache
from modelgraph.api.viewsets import ReadOnlyViewSet
from snapshots.services import snapshot_sync
from telemetry.api.views import TelemetryViewSet
from telemetry.services import telemetry_record_results
from tests.snapshots.replay import Catalogue, CatalogueServer

pytestmark = pytest.mark.django_db

# The path arguments each view needs to name its tags (objects of the small registry).
KWARGS = {
    ModelViewSet: {"id": "gpt-4o"},
    ProviderViewSet: {"id": "openai"},
    TelemetryViewSet: {"provider_id": "openai", "model_id": "gpt-4o"},
}


def cached_views(patterns=None):
    """(view class, action) of every ReadOnlyViewSet route in the URLconf."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from cached_views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            cls = getattr(pattern.callback, "cls", None)
            if cls is not None and issubclass(cls, ReadOnlyViewSet):
                for action in pattern.callback.actions.values():
                    yield cls, action


def tags_of(cls: type[ReadOnlyViewSet], action: str) -> list[str]:
    view = cls(action=action, action_map={"get": action}, kwargs=KWARGS.get(cls, {}), args=())
    view.request = view.initialize_request(APIRequestFactory().get("/"))
    return view.cache_tags()


def bump_everything(tags: set[str], capture_on_commit) -> None:
    """Run each invalidation there is: a save of every object the tags name, a probe round, a snapshot sync."""
    rows = {"model": Model, "provider": Provider, "family": Family}
    with capture_on_commit(execute=True):
        for tag in tags:
            kind, _, pk = tag.partition(":")
            if pk:
                rows[kind].objects.get(pk=int(pk)).save()
        telemetry_record_results(results=[])
    with CatalogueServer(Catalogue(limit=3)) as server:
        snapshot_sync(base_url=server.url)


class TestCacheTags:
    def test_every_cached_view_is_checked(self):
        views = {cls for cls, _ in cached_views()}
        assert {ModelViewSet, ProviderViewSet, TelemetryViewSet} <= views and len(views) >= 7

    def test_every_tag_a_view_uses_is_bumped_by_invalidation(self, catalogue, django_capture_on_commit_callbacks):
        used = {(cls.__name__, action, tag) for cls, action in cached_views() for tag in tags_of(cls, action)}
        tags = {tag for _, _, tag in used}
        assert {"catalogue", "telemetry", "snapshots"} <= tags and any(t.startswith("family:") for t in tags)
        before = api_cache.versions(tags)
        bump_everything(tags, django_capture_on_commit_callbacks)
        after = api_cache.versions(tags)
        never_bumped = sorted((view, action, tag) for view, action, tag in used if before[tag] == after[tag])
        assert never_bumped == []

    def test_a_view_without_tags_is_refused(self):
        class Untagged(ReadOnlyViewSet):
            pass

        with pytest.raises(Exception, match="names no cache tags"):
            Untagged().cache_tags()
