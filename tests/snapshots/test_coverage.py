"""A sync's extra sources against the replay: fetched, archived byte for byte, indexed, and never essential."""

from __future__ import annotations

import hashlib
import json

import pytest

from snapshots.coverage import (
    ALL_PROVIDERS,
    APP_STATS,
    ENDPOINT_STATS,
    EXTRAS,
    UPTIME_HOURLY,
    endpoint_stats_path,
    endpoint_uptime_series,
    model_app_usage,
    uptime_hourly_path,
)
from snapshots.entities import LIST_PATHS, V1_MODELS
from snapshots.models import Batch, Entity, EntityKind, EntityState, Event
from snapshots.services import snapshot_export, snapshot_sync
from tests.snapshots.conftest import HOUR0
from tests.snapshots.replay import Catalogue, CatalogueServer

pytestmark = pytest.mark.django_db
CLAUDE_37 = "1c9b8776-e266-4efb-b5ba-19a6753e7736"  # the real endpoint UUID of anthropic/claude-3.7-sonnet{,:thinking}


@pytest.fixture(autouse=True)
def extras(settings):
    """Every extra on, as in production; the replay's hour 0 (12:00 UTC) fetches uptimes and the day's app usage."""
    settings.SNAPSHOTS_EXTRAS = EXTRAS
    settings.SNAPSHOTS_UPTIME_EVERY_HOURS = 6
    settings.SNAPSHOTS_ANALYTICS_HOUR = 12


def exported(batch: Batch, tmp_path) -> dict[str, bytes]:
    """path -> the bytes `snapshot_export` writes for it."""
    out = tmp_path / f"batch-{batch.pk}"
    summary = snapshot_export(batch=batch, out_dir=out)
    return {r["path"]: (out / r["file"]).read_bytes() for r in summary["responses"] if "file" in r}


def variants(catalogue: Catalogue) -> list[tuple[str, str, str]]:
    entries = [fe for fe in catalogue.frontend if fe.get("endpoint")]
    return [(fe["permaslug"], fe["endpoint"]["variant"], fe["endpoint"]["model_variant_slug"]) for fe in entries]


def details(catalogue: Catalogue) -> dict[str, str]:
    """`<model variant>@<endpoint UUID>` -> the model variant."""
    endpoints = [fe["endpoint"] for fe in catalogue.frontend if fe.get("endpoint")]
    return {f"{e['model_variant_slug']}@{e['id']}": e["model_variant_slug"] for e in endpoints}


def events(batch: Batch, kind: str | None = None) -> set[tuple]:
    rows = Event.objects.filter(batch=batch, entity__kind=EntityKind.ENDPOINT_DETAIL)
    if kind:
        rows = rows.filter(kind=kind)
    return set(rows.values_list("kind", "entity__key", "field", "before", "after"))


class TestAllOutputModalities:
    def test_the_model_list_is_asked_for_every_output_modality(self, settings, tmp_path):
        settings.SNAPSHOTS_EXTRAS = ()
        catalogue = Catalogue(limit=10, all_modalities=True)
        with CatalogueServer(catalogue) as server:
            batch = snapshot_sync(base_url=server.url, now=HOUR0)
            asked = [r.query for r in server.requests_to("/api/v1/models")]
            bodies = exported(batch, tmp_path)
            served = dict(server.served)
        assert batch.complete and asked == [{"output_modalities": ["all"]}]
        listed = json.loads(bodies[LIST_PATHS[V1_MODELS]])["data"]
        assert hashlib.sha256(bodies[LIST_PATHS[V1_MODELS]]).hexdigest() == served[LIST_PATHS[V1_MODELS]]
        image = Entity.objects.get(kind=EntityKind.MODEL, key="bytedance-seed/seedream-5-0-lite")
        assert image.state == EntityState.LISTED and image.current.fields["architecture"]["output_modalities"] == [
            "image"
        ]
        non_text = [m["id"] for m in listed if "text" not in m["architecture"]["output_modalities"]]
        indexed = Entity.objects.filter(kind=EntityKind.MODEL, state=EntityState.LISTED)
        assert len(non_text) == 12 and set(non_text) <= set(indexed.values_list("key", flat=True))


class TestEndpointDetails:
    def test_every_endpoint_is_fetched_archived_byte_for_byte_and_indexed_by_uuid(
        self, sync, replay, catalogue, tmp_path
    ):
        batch = sync(0)
        assert batch.complete
        asked = {(r.param("permaslug"), r.param("variant")) for r in replay.requests_to("/api/frontend/stats/endpoint")}
        assert asked == {(p, v) for p, v, _ in variants(catalogue)}
        bodies = exported(batch, tmp_path)
        extra_paths = [p for p in replay.served if p.startswith("/api/frontend/")]
        assert len(extra_paths) > 2 * len(asked)  # endpoint details, uptimes, providers, apps
        for path in replay.served:
            assert hashlib.sha256(bodies[path]).hexdigest() == replay.served[path], path
        assert set(bodies) == set(replay.served)
        indexed = dict(Entity.objects.filter(kind=EntityKind.ENDPOINT_DETAIL).values_list("key", "model_key"))
        assert indexed == details(catalogue)
        report = batch.validation["sources"][ENDPOINT_STATS]
        assert report["ok"] and report["essential"] is False and report["fetched"] == len(asked)
        assert report["items"] == len(indexed)

    def test_flag_limit_and_region_changes_between_two_hours_make_events(self, sync, catalogue):
        sync(0)
        catalogue.hour += 1  # new hourly stats for every endpoint: not an event
        disabled, limited = variants(catalogue)[0][2], variants(catalogue)[1][2]
        first = catalogue.set_endpoint_detail(disabled, "is_disabled", True)
        catalogue.set_endpoint_detail(disabled, "provider_region", "eu-west-1")
        second = catalogue.set_endpoint_detail(limited, "limit_rpm", 20)
        later = sync(1)
        assert later.complete
        assert events(later) == {
            ("status_changed", first, "is_disabled", False, True),
            ("region_changed", first, "provider_region", None, "eu-west-1"),
            ("limits_changed", second, "limit_rpm", None, 20),
        }
        entity = Entity.objects.get(kind=EntityKind.ENDPOINT_DETAIL, key=first)
        assert entity.current.fields["is_disabled"] is True and entity.versions.count() == 2

    def test_a_details_history_and_its_events_are_served_by_the_api(self, sync, catalogue, client):
        sync(0)
        catalogue.hour += 1
        key = catalogue.set_endpoint_detail(variants(catalogue)[0][2], "is_deranked", True)
        sync(1)
        body = client.get(f"/api/snapshots/entities/endpoint_detail/{key}/history").json()
        assert body["entity"]["key"] == key and [v["fields"]["is_deranked"] for v in body["versions"]] == [False, True]
        assert [e["kind"] for e in body["events"]] == ["appeared", "status_changed"]
        listed = client.get("/api/snapshots/events?kind=status_changed&entity_kind=endpoint_detail").json()
        assert [(e["field"], e["before"], e["after"]) for e in listed["results"]] == [("is_deranked", False, True)]

    def test_a_failed_detail_fetch_is_recorded_and_nothing_disappears(self, sync, catalogue):
        sync(0)
        permaslug, variant, slug = variants(catalogue)[0]
        catalogue.fail(endpoint_stats_path(permaslug, variant), 500)
        later = sync(1)
        report = later.validation["sources"][ENDPOINT_STATS]
        assert later.complete and report["ok"] is False and report["essential"] is False
        assert report["failed"] == 1 and report["failures"][0]["status"] == 500
        assert report["carried"] == len(catalogue.endpoint_details(slug))
        assert not events(later)
        kept = Entity.objects.filter(kind=EntityKind.ENDPOINT_DETAIL, model_key=slug)
        assert {e.state for e in kept} == {EntityState.LISTED}

    def test_a_variant_answering_404_has_no_endpoint_left(self, sync, catalogue):
        sync(0)
        permaslug, variant, slug = variants(catalogue)[0]
        catalogue.fail(endpoint_stats_path(permaslug, variant), 404)
        later = sync(1)
        report = later.validation["sources"][ENDPOINT_STATS]
        assert later.complete and report["ok"] and report["empty"] == 1
        gone = {(kind, key) for kind, key, *_ in events(later)}
        assert gone == {("disappeared", f"{slug}@{e['id']}") for e in catalogue.endpoint_details(slug)}

    def test_one_endpoint_serving_two_variants_makes_no_event_hour_after_hour(self, settings):
        settings.SNAPSHOTS_EXTRAS = (ENDPOINT_STATS,)
        catalogue = Catalogue(limit=120)  # anthropic/claude-3.7-sonnet and its :thinking variant share one UUID
        shared = [e for m in catalogue.models for e in catalogue.endpoint_details(m) if e["id"] == CLAUDE_37]
        variants_served = {e["model_variant_slug"] for e in shared}
        assert variants_served == {"anthropic/claude-3.7-sonnet", "anthropic/claude-3.7-sonnet:thinking"}
        with CatalogueServer(catalogue) as server:
            snapshot_sync(base_url=server.url, now=HOUR0)
            catalogue.hour += 1
            later = snapshot_sync(base_url=server.url, now=HOUR0.replace(hour=13))
        keys = {f"{e['model_variant_slug']}@{e['id']}" for e in shared}
        assert set(Entity.objects.filter(key__in=keys).values_list("key", flat=True)) == keys
        assert later.complete and not events(later)


class TestUptimeSeries:
    def test_fetched_every_nth_hour_archived_and_read_back_per_endpoint(
        self, sync, replay, catalogue, settings, tmp_path
    ):
        settings.SNAPSHOTS_UPTIME_EVERY_HOURS = 2
        uuids = sorted({key.rpartition("@")[2] for key in details(catalogue)})
        batches = []
        for hour in range(3):
            catalogue.hour = hour
            batches.append(sync(hour))
        assert [UPTIME_HOURLY in b.validation["sources"] for b in batches] == [True, False, True]
        asked = [r.param("id") for r in replay.requests_to("/api/frontend/stats/uptime-hourly")]
        assert sorted(asked) == sorted(uuids * 2)
        bodies = exported(batches[2], tmp_path)
        path = uptime_hourly_path(uuids[0])
        assert hashlib.sha256(bodies[path]).hexdigest() == replay.served[path]
        series = endpoint_uptime_series(uuids[0])
        latest = json.loads(bodies[path])["data"]["history"]
        assert len(series) == 73 + 2  # two more hours than one answer covers
        assert [p["hour"] for p in series] == sorted(p["hour"] for p in series)
        assert series[-73:] == [{"hour": p["date"], "uptime": p["uptime"]} for p in reversed(latest)]
        report = batches[2].validation["sources"][UPTIME_HOURLY]
        assert report["ok"] and report["fetched"] == len(uuids) and report["items"] == 73 * len(uuids)

    def test_an_unknown_endpoint_has_no_series(self, sync):
        sync(0)
        assert endpoint_uptime_series("00000000-0000-0000-0000-000000000000") == []


class TestProvidersAndAppUsage:
    def test_provider_capabilities_are_indexed_every_batch(self, sync):
        batch = sync(0)
        providers = Entity.objects.filter(kind=EntityKind.PROVIDER_DETAIL)
        assert providers.count() == 56 and batch.validation["sources"][ALL_PROVIDERS]["items"] == 56
        assert providers.get(key="ai21").current.fields["headquarters"] == "IL"

    def test_a_failing_extra_leaves_the_batch_complete_and_its_entities_listed(self, sync, catalogue):
        sync(0)
        catalogue.fail("/api/frontend/all-providers", 503)
        later = sync(1)
        report = later.validation["sources"][ALL_PROVIDERS]
        assert later.complete and later.status == Batch.Status.COMPLETE
        assert report["ok"] is False and report["essential"] is False and report["carried"] == 56
        providers = Entity.objects.filter(kind=EntityKind.PROVIDER_DETAIL)
        assert set(providers.values_list("state", flat=True)) == {EntityState.LISTED}
        assert not Event.objects.filter(batch=later, kind="disappeared").exists()

    def test_nothing_is_carried_forward_in_a_batch_the_core_left_incomplete(self, sync, catalogue):
        sync(0)
        catalogue.fail("/api/frontend/all-providers", 503)
        catalogue.fail(f"/api/v1/models/{next(iter(catalogue.models))}/endpoints", 500)
        later = sync(1)
        assert not later.complete and later.validation["sources"][ALL_PROVIDERS]["carried"] == 0
        assert not Event.objects.filter(batch=later, kind="disappeared").exists()

    def test_app_usage_is_fetched_once_a_day_and_read_back(self, sync, replay, catalogue):
        first = sync(0)
        second = sync(1)
        assert APP_STATS in first.validation["sources"] and APP_STATS not in second.validation["sources"]
        asked = replay.requests_to("/api/frontend/stats/app")
        assert len(asked) == len({(p, v) for p, v, _ in variants(catalogue)})
        assert {r.param("limit") for r in asked} == {"20"}
        permaslug, variant, _ = variants(catalogue)[0]
        usage = model_app_usage(permaslug, variant)
        assert usage is not None and usage["hour"] == first.hour
        assert usage["apps"][0]["app"]["title"] == "FunTalk AI" and len(usage["apps"]) == 20
        assert model_app_usage("nobody/nothing") is None
