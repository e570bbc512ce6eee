"""The hourly sync against an OpenRouter replay: batches, every event kind, orphans, faults, crashes, losslessness."""

from __future__ import annotations

import hashlib

import pytest
from django.db.models import Count

from snapshots import indexing
from snapshots.entities import endpoint_key, endpoints_path
from snapshots.figures import batch_figures
from snapshots.models import Batch, Entity, EntityVersion, Event
from snapshots.services import snapshot_sync
from snapshots.storage import entry_body, manifest_read
from tests.snapshots.conftest import HOUR0
from tests.snapshots.replay import Catalogue, CatalogueServer

pytestmark = pytest.mark.django_db


def events(batch, kind=None) -> set[tuple]:
    rows = Event.objects.filter(batch=batch)
    if kind:
        rows = rows.filter(kind=kind)
    return set(rows.values_list("kind", "entity__key", "field", "before", "after"))


def simple_models(catalogue: Catalogue) -> list[str]:
    """Models with one variant, one endpoint and one frontend entry: safe to remove, orphan or reprice."""
    return [
        m
        for m in catalogue.models
        if ":" not in m and len(catalogue.endpoints[m]) == 1 and sum(fe["slug"] == m for fe in catalogue.frontend) == 1
    ]


def key_of(catalogue: Catalogue, model_id: str, index: int = 0) -> str:
    return endpoint_key(model_id, catalogue.endpoints[model_id][index])[0]


def spans(**entity) -> list[tuple]:
    versions = EntityVersion.objects.filter(**{f"entity__{k}": v for k, v in entity.items()}).for_history()
    return [(v.first_batch.hour, v.last_seen.hour) for v in versions]


def assert_intervals_do_not_overlap():
    open_versions = EntityVersion.objects.filter(last_batch__isnull=True).values("entity").annotate(n=Count("id"))
    assert not open_versions.filter(n__gt=1).exists()
    for entity_id in Entity.objects.values_list("id", flat=True):
        intervals = spans(id=entity_id)
        for (_, last), (first, _) in zip(intervals, intervals[1:], strict=False):
            assert last < first


class TestBatches:
    def test_first_sync_archives_every_source_and_is_complete(self, sync, catalogue, replay):
        batch = sync(0)
        assert batch.hour == HOUR0 and batch.complete and batch.status == Batch.Status.COMPLETE
        report = batch.validation
        assert all(source["ok"] for source in report["sources"].values())
        assert report["endpoints"]["expected"] == report["endpoints"]["fetched"] == len(catalogue.models)
        assert Entity.objects.filter(kind="model", state="listed").count() == len(catalogue.models)
        orphans = {fe["slug"] for fe in catalogue.frontend if not fe.get("endpoint")} - set(catalogue.models)
        assert set(Entity.objects.filter(state="orphaned").values_list("key", flat=True)) == orphans
        assert Entity.objects.filter(kind="provider").count() == 82
        assert Event.objects.filter(kind="appeared").count() == Entity.objects.count()
        assert len(batch_figures(batch)) == Entity.objects.filter(kind="endpoint").count()
        assert len(list(manifest_read(batch))) == 3 + len(catalogue.models)

    def test_a_second_sync_in_the_same_hour_does_not_make_a_second_batch(self, sync, replay):
        first = sync(0, minute=1)
        requests, recorded = len(replay.requests), Event.objects.count()
        again = sync(0, minute=59)
        assert again.pk == first.pk and Batch.objects.count() == 1
        assert len(replay.requests) == requests  # complete: nothing to do
        forced = sync(0, minute=59, force=True)
        assert forced.pk == first.pk and forced.complete
        assert Event.objects.count() == recorded  # nothing recorded twice
        assert EntityVersion.objects.count() == Entity.objects.count()

    def test_each_hour_gets_its_own_batch_and_unchanged_entities_extend_their_version(self, sync, catalogue):
        sync(0)
        catalogue.hour += 1  # new volatile figures only
        second = sync(1)
        assert Batch.objects.count() == 2 and not events(second)
        assert EntityVersion.objects.count() == Entity.objects.count()
        assert not EntityVersion.objects.filter(last_batch__isnull=False).exists()  # every version still open
        assert all(entity.seen_until == second for entity in Entity.objects.all())
        assert len(batch_figures(second)) == Entity.objects.filter(kind="endpoint").count()
        assert second.stats["new_blobs"] == 0


class TestEvents:
    def test_the_real_next_day_gives_its_real_appearances_and_price_changes(self):
        catalogue = Catalogue()  # the whole real pair: 2025-05-20 then 2025-05-25

        def prices() -> dict:
            return {
                key_of(catalogue, m, i): e["pricing"]
                for m, eps in catalogue.endpoints.items()
                for i, e in enumerate(eps)
            }

        with CatalogueServer(catalogue) as server:
            snapshot_sync(base_url=server.url, now=HOUR0)
            before = prices()
            catalogue.advance()
            after = prices()
            batch = snapshot_sync(base_url=server.url, now=HOUR0.replace(hour=13))
        expected_prices = {
            ("price_changed", key, f"pricing.{field}", before[key].get(field), after[key].get(field))
            for key in before.keys() & after.keys()
            for field in before[key].keys() | after[key].keys()
            if before[key].get(field) != after[key].get(field)
        }
        assert expected_prices and events(batch, "price_changed") == expected_prices
        appeared = {key for _, key, *_ in events(batch, "appeared")}
        assert {"mistralai/devstral-small", "mistralai/devstral-small:free"} <= appeared
        assert after.keys() - before.keys() <= appeared
        assert {key for _, key, *_ in events(batch, "disappeared")} == before.keys() - after.keys()

    def test_scripted_hours_make_every_event_kind(self, sync, catalogue):
        sync(0)
        removed, repriced, extended, orphaned, limited = simple_models(catalogue)[:5]
        old_price = catalogue.endpoints[repriced][0]["pricing"]["completion"]
        catalogue.hour += 1
        catalogue.remove_model(removed)
        catalogue.set_endpoint(repriced, "pricing.completion", "0.000123")
        catalogue.set_model_field(extended, "expiration_date", "2026-01-01")
        catalogue.orphan_model(orphaned)
        catalogue.set_endpoint(limited, "context_length", 4096)
        hour1 = sync(1)
        assert hour1.complete
        kinds = events(hour1)
        assert ("disappeared", removed, "", None, None) in kinds
        assert ("disappeared", key_of(catalogue, repriced).replace(repriced, removed), "", None, None) not in kinds
        assert ("price_changed", key_of(catalogue, repriced), "pricing.completion", old_price, "0.000123") in kinds
        assert ("changed", extended, "expiration_date", None, "2026-01-01") in kinds
        assert ("orphaned", orphaned, "", None, None) in kinds
        assert any(k[0] == "limits_changed" and k[1] == key_of(catalogue, limited) and k[4] == 4096 for k in kinds)
        assert Entity.objects.get(kind="model", key=orphaned).state == "orphaned"
        assert Entity.objects.get(kind="model", key=removed).state == "absent"
        assert Entity.objects.filter(kind="endpoint", model_key=removed, state="absent").exists()

        catalogue.hour += 1
        catalogue.restore_model(removed)
        hour2 = sync(2)
        assert ("reappeared", removed, "", None, None) in events(hour2)
        assert Entity.objects.get(kind="model", key=removed).state == "listed"
        assert [(a.hour, b.hour) for a, b in spans(key=removed, kind="model")] == [(12, 12), (14, 14)]
        repriced_spans = EntityVersion.objects.filter(entity__key=key_of(catalogue, repriced)).count()
        assert repriced_spans == 2
        assert_intervals_do_not_overlap()


class TestFaults:
    def test_one_failing_endpoint_makes_the_batch_incomplete_and_nothing_disappears(self, sync, catalogue):
        sync(0)
        gone, failing = simple_models(catalogue)[:2]
        catalogue.remove_model(gone)
        catalogue.fail(endpoints_path(failing), 500)
        batch = sync(1)
        assert not batch.complete and batch.status == Batch.Status.INCOMPLETE
        endpoints = batch.validation["endpoints"]
        assert endpoints["failed"] == 1 and endpoints["failures"][0]["path"] == endpoints_path(failing)
        assert endpoints["failures"][0]["status"] == 500
        assert not events(batch, "disappeared")
        assert Entity.objects.get(kind="model", key=gone).state == "listed"
        catalogue.faults.clear()
        later = sync(2)
        assert later.complete and ("disappeared", gone, "", None, None) in events(later)

    def test_a_429_is_retried_after_its_retry_after(self, sync, catalogue, replay):
        path = endpoints_path(next(iter(catalogue.models)))
        catalogue.fail(path, 429, times=1, retry_after=0.2)
        batch = sync(0)
        assert batch.complete and len(replay.requests_to(path)) == 2

    def test_a_truncated_body_is_retried_then_reported(self, sync, catalogue):
        path = endpoints_path(next(iter(catalogue.models)))
        catalogue.fail(path, truncate=True)
        batch = sync(0)
        assert not batch.complete
        failure = batch.validation["endpoints"]["failures"][0]
        assert failure["path"] == path and failure["status"] == 0 and "RemoteProtocolError" in failure["error"]

    def test_a_server_killed_mid_sync_leaves_an_incomplete_batch(self, catalogue, settings):
        settings.SNAPSHOTS_RETRIES = 1
        settings.SNAPSHOTS_BACKOFF = 0.01
        with CatalogueServer(catalogue) as server:
            snapshot_sync(base_url=server.url, now=HOUR0)
        catalogue.remove_model(simple_models(catalogue)[0])
        with CatalogueServer(catalogue, die_after=15) as server:
            batch = snapshot_sync(base_url=server.url, now=HOUR0.replace(hour=13))
        assert not batch.complete and batch.validation["endpoints"]["failed"] > 0
        assert not events(batch, "disappeared")

    def test_a_crash_mid_sync_is_finished_by_the_next_sync_of_the_hour(self, sync, catalogue, monkeypatch):
        sync(0)
        gone, repriced = simple_models(catalogue)[:2]
        catalogue.remove_model(gone)
        catalogue.set_endpoint(repriced, "pricing.prompt", "0.000999")
        monkeypatch.setattr(indexing, "FLUSH_EVERY", 7)
        original, calls = indexing.EntityIndexer.observe, []

        def crashing(self, observation):
            calls.append(1)
            if len(calls) == 60:
                raise KeyboardInterrupt("killed")
            return original(self, observation)

        monkeypatch.setattr(indexing.EntityIndexer, "observe", crashing)
        with pytest.raises(KeyboardInterrupt):
            sync(1, minute=10)
        crashed = Batch.objects.get(hour=HOUR0.replace(hour=13))
        assert crashed.status == Batch.Status.FAILED and not crashed.complete
        monkeypatch.setattr(indexing.EntityIndexer, "observe", original)
        resumed = sync(1, minute=30)
        assert resumed.pk == crashed.pk and resumed.complete
        assert ("disappeared", gone, "", None, None) in events(resumed)
        price = [e for e in events(resumed, "price_changed") if e[1] == key_of(catalogue, repriced)]
        assert len(price) == 1 and price[0][4] == "0.000999"
        assert_intervals_do_not_overlap()


class TestOddText:
    """Valid JSON that PostgreSQL will not take as it is: a lone surrogate (JavaScript cut a description inside an
    emoji: "\\ud83d") made the whole v1 list "unreadable" and the hour incomplete; that or a NUL in a changed value
    made the sync itself raise while writing the change's event."""

    @pytest.mark.parametrize("value", ["Fast and clever \ud83d", "a\x00b"], ids=["lone-surrogate", "nul"])
    @pytest.mark.parametrize("field", ["description", "name"])
    def test_the_hour_is_complete_lossless_and_the_change_an_event(self, field, value):
        catalogue = Catalogue(limit=20)
        model = next(iter(catalogue.models))
        with CatalogueServer(catalogue) as server:
            snapshot_sync(base_url=server.url, now=HOUR0)
            catalogue.hour += 1
            catalogue.set_model_field(model, field, value)
            batch = snapshot_sync(base_url=server.url, now=HOUR0.replace(hour=13))
            assert batch.complete, batch.validation
            contents: dict = {}
            for entry in manifest_read(batch):
                body = entry_body(entry, contents)
                assert hashlib.sha256(body).hexdigest() == server.served[entry.path], entry.path
        (event,) = Event.objects.filter(batch=batch, field=field, entity__key=model)
        shown = value.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode()
        assert event.after == shown  # written out as visible escapes: the archive keeps the answer itself


class TestLossless:
    def test_every_response_is_reconstructed_byte_for_byte(self, settings):
        catalogue = Catalogue(modern=True)  # the whole real catalogue, 2026 volatile fields
        with CatalogueServer(catalogue) as server:
            for hour in range(3):
                if hour == 2:
                    model = next(m for m in catalogue.models if catalogue.endpoints[m])
                    catalogue.set_endpoint(model, "pricing.prompt", "0.0000042")
                batch = snapshot_sync(base_url=server.url, now=HOUR0.replace(hour=12 + hour))
                assert batch.complete
                entries, contents = list(manifest_read(batch)), {}
                assert len(entries) == len(server.served) == 3 + len(catalogue.models)
                for entry in entries:
                    body = entry_body(entry, contents)
                    assert hashlib.sha256(body).hexdigest() == server.served[entry.path], entry.path
                catalogue.advance()
        real = hashlib.sha256(catalogue.body("/api/v1/providers")).hexdigest()
        assert server.served["/api/v1/providers"] == real
        # stored anew: the repriced endpoint and the re-rendered frontend list's template, each as a delta; the lists'
        # changed items went into groups; no keyframe: every other body was known
        assert batch.stats["delta_frames"] <= 2 and batch.stats["keyframes"] == 0
