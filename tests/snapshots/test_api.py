"""The snapshot API, the model history page and the admin pages, over an archive of three real-based hours."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from snapshots.models import Batch, Entity
from snapshots.selectors import snapshot_diff
from tests.snapshots.conftest import HOUR0
from tests.snapshots.test_sync import key_of, simple_models

pytestmark = pytest.mark.django_db


@pytest.fixture
def archive(sync, catalogue):
    """Hour 0; hour 1 reprices one endpoint and drops a model; hour 2 fails one endpoint (incomplete)."""
    repriced, removed, failing = simple_models(catalogue)[:3]
    old = catalogue.endpoints[repriced][0]["pricing"]["prompt"]
    sync(0)
    catalogue.hour += 1
    catalogue.set_endpoint(repriced, "pricing.prompt", "0.0000777")
    catalogue.remove_model(removed)
    sync(1)
    catalogue.hour += 1
    catalogue.fail(f"/api/v1/models/{failing}/endpoints", 500)
    sync(2)
    provider = key_of(catalogue, repriced).split("@")[1].split("/")[0]
    return {"repriced": repriced, "removed": removed, "old": old, "catalogue": catalogue, "provider": provider}


def test_batches_are_listed_newest_first_with_completeness(client, archive):
    body = client.get("/api/snapshots/batches").json()
    assert body["count"] == 3
    assert [b["complete"] for b in body["results"]] == [False, True, True]
    assert body["results"][2]["hour"].startswith("2025-05-20T12:00")


def test_a_batch_is_found_by_id_or_hour_with_its_validation(client, archive):
    batch = Batch.objects.get(hour=HOUR0)
    by_id = client.get(f"/api/snapshots/batches/{batch.pk}").json()
    by_hour = client.get("/api/snapshots/batches/2025-05-20T12:00:00Z").json()
    assert by_id == by_hour and by_id["validation"]["complete"] is True
    assert client.get("/api/snapshots/batches/1999-01-01T00:00:00Z").status_code == 404
    incomplete = client.get("/api/snapshots/batches/2025-05-20T14:00:00Z").json()
    assert incomplete["validation"]["endpoints"]["failed"] == 1


def test_a_batchs_changes(client, archive):
    body = client.get("/api/snapshots/batches/2025-05-20T13:00:00Z/changes?kind=price_changed").json()
    assert body["count"] == 1
    event = body["results"][0]
    assert event["entity"]["key"] == key_of(archive["catalogue"], archive["repriced"])
    assert (event["field"], event["before"], event["after"]) == ("pricing.prompt", archive["old"], "0.0000777")
    gone = client.get("/api/snapshots/batches/2025-05-20T13:00:00Z/changes?kind=disappeared&entity_kind=model").json()
    assert [e["entity"]["key"] for e in gone["results"]] == [archive["removed"]]
    assert client.get("/api/snapshots/batches/2025-05-20T13:00:00Z/changes?kind=nope").status_code == 400


def test_every_price_change_of_a_provider_this_week(client, archive):
    url = f"/api/snapshots/events?kind=price_changed&provider={archive['provider']}&since=2025-05-20T00:00:00Z"
    body = client.get(url).json()
    assert body["count"] == 1 and body["results"][0]["after"] == "0.0000777"
    assert client.get(url.replace("2025-05-20", "2025-05-21")).json()["count"] == 0
    assert client.get("/api/snapshots/events?since=yesterday").status_code == 400


def test_an_entitys_history(client, archive):
    key = key_of(archive["catalogue"], archive["repriced"])
    body = client.get(f"/api/snapshots/entities/endpoint/{key}/history").json()
    assert body["entity"]["key"] == key and body["entity"]["state"] == "listed"
    assert [(v["first_seen"][11:16], v["last_seen"][11:16]) for v in body["versions"]] == [
        ("12:00", "12:00"),
        ("13:00", "14:00"),
    ]
    assert [v["fields"]["pricing"]["prompt"] for v in body["versions"]] == [archive["old"], "0.0000777"]
    assert len(body["metrics"]) == 3 and body["metrics"][0]["uptime_last_30m"] is not None
    assert [e["kind"] for e in body["events"]] == ["appeared", "price_changed"]
    assert client.get("/api/snapshots/entities/model/nobody/nothing/history").status_code == 404


def test_the_diff_of_two_batches(client, archive):
    body = client.get("/api/snapshots/diff?from=2025-05-20T12:00:00Z&to=2025-05-20T14:00:00Z").json()
    removed = {(e["kind"], e["key"]) for e in body["removed"]}
    assert ("model", archive["removed"]) in removed and not body["added"]
    [changed] = body["changed"]
    assert changed["fields"] == [
        {"kind": "price_changed", "field": "pricing.prompt", "before": archive["old"], "after": "0.0000777"}
    ]
    later = client.get("/api/snapshots/diff?from=2025-05-20T13:00:00Z&to=2025-05-20T14:00:00Z").json()
    assert not later["changed"] and not later["removed"]
    assert len(later["unobserved"]) >= 1  # the endpoints of the model whose fetch failed in the incomplete hour
    assert client.get("/api/snapshots/diff?from=2025-05-20T12:00:00Z").status_code == 400


def test_a_diff_reads_the_versions_of_the_entities_that_changed_only(sync, catalogue):
    # Every listed entity's row still names the first batch as last_seen (rows are not rewritten each hour); the
    # diff of two hours a complete batch covers must not take them all as candidates and read their versions.
    repriced = simple_models(catalogue)[0]
    first = sync(0)
    catalogue.hour += 1
    catalogue.set_endpoint(repriced, "pricing.prompt", "0.0000777")
    second = sync(1)
    assert first.complete and second.complete
    with CaptureQueriesContext(connection) as queries:
        diff = snapshot_diff(first, second)
    (versions,) = [q["sql"] for q in queries if re.search(r'"snapshots_entityversion"\."entity_id" IN \(', q["sql"])]
    read = len(re.search(r'"entity_id" IN \(([^)]*)\)', versions).group(1).split(","))
    assert [c["key"] for c in diff["changed"]] == [key_of(catalogue, repriced)]
    assert read == 1 < Entity.objects.count()


def naming(response, parameter: str) -> bool:
    body = response.json()
    return response.status_code == 400 and list(body["errors"]) == [parameter] and parameter in body["detail"]


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/snapshots/events?kind=nope", "kind"),
        ("/api/snapshots/events?kind=", "kind"),
        ("/api/snapshots/events?entity_kind=nope", "entity_kind"),
        ("/api/snapshots/events?since=yesterday", "since"),
        ("/api/snapshots/events?since=", "since"),
        ("/api/snapshots/events?until=2025-05-20T25:00:00Z", "until"),
        ("/api/snapshots/diff?to=1", "from"),
        ("/api/snapshots/diff?from=&to=1", "from"),
        ("/api/snapshots/diff?from=1&to=2025-05-20T12:00:00%2B24:00", "to"),
        ("/api/snapshots/batches/2025-05-20T25:00:00Z", "batch"),
    ],
)
def test_a_bad_parameter_is_400_naming_it(client, db, url, parameter):
    assert naming(client.get(url), parameter)


def test_a_bad_filter_of_a_batchs_changes_is_400_naming_it(client, archive):
    changes = "/api/snapshots/batches/2025-05-20T13:00:00Z/changes"
    assert naming(client.get(f"{changes}?kind=nope"), "kind")
    assert naming(client.get(f"{changes}?entity_kind="), "entity_kind")
    assert client.get("/api/snapshots/batches/99999999999999999999/changes?kind=nope").status_code == 404


def test_list_query_count_does_not_grow_with_page_size(client, archive, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        client.get("/api/snapshots/events?page_size=5")
    with django_assert_max_num_queries(4):
        client.get("/api/snapshots/events?page_size=200")


def test_the_model_history_page(client, archive):
    response = client.get(f"/snapshots/models/{archive['repriced']}")
    html = response.content.decode()
    assert response.status_code == 200 and "<svg" in html and '<g class="series"' in html  # tests/web: the page
    assert "0.0000777" in html and archive["old"] in html
    removed = client.get(f"/snapshots/models/{archive['removed']}").content.decode()
    assert "Absent" in removed and "Disappeared" in removed
    assert client.get("/snapshots/models/nobody/nothing").status_code == 404


def test_admin_pages(admin_client, archive):
    batch = Batch.objects.get(hour=HOUR0)
    assert admin_client.get(reverse("admin:snapshots_batch_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:snapshots_batch_change", args=[batch.pk]))
    assert page.status_code == 200 and b"Validation report" in page.content
    events = admin_client.get(reverse("admin:snapshots_event_changelist") + "?kind__exact=price_changed")
    assert events.status_code == 200 and b"0.0000777" in events.content
    assert admin_client.get(reverse("admin:snapshots_entity_changelist") + "?q=openai").status_code == 200
