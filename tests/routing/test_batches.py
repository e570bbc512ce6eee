"""The Batch API: JSONL input checked line by line, batches run by the worker function through the router with
bounded concurrency, output and error files, cancellation, and the /v1/files and /v1/batches routes."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from routing import errors
from routing.access import gateway_key_issue, gateway_keys_revoke
from routing.batch_models import BatchStatus, GatewayBatch, GatewayFile
from routing.batch_tasks import _execute, _finish, batch_run
from routing.batches import batch_cancel, batch_create, batch_lines_parse, gateway_file_create
from routing.key_limits import current_grant
from routing.models import GatewayKey, RequestLog
from tests import recipes
from tests.routing.conftest import run

pytestmark = pytest.mark.django_db
KEY = "mg_gw_batch_test_key_0123456789"


def line(custom_id: str, model: str, url: str = "/v1/chat/completions", **body) -> str:
    if url == "/v1/embeddings":
        body = {"model": model, "input": "hello", **body}
    else:
        body = {"model": model, "messages": [{"role": "user", "content": "hi"}], **body}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body})


def jsonl(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def upload(content: bytes) -> GatewayFile:
    return gateway_file_create(filename="input.jsonl", purpose="batch", content=content)


def lines_of(file: GatewayFile) -> list[dict]:
    return [json.loads(row) for row in bytes(file.content).decode().splitlines()]


class TestInputFile:
    def test_a_good_file_is_stored_with_its_endpoint_and_request_count(self):
        stored = upload(jsonl(line("a", "chat-model"), "", line("b", "coder-model")))
        assert (stored.purpose, stored.lines, stored.endpoint) == ("batch", 2, "/v1/chat/completions")

    @pytest.mark.parametrize(
        ("content", "expected"),
        [
            (jsonl(line("a", "m"), "{nope"), "line 2: not valid JSON"),
            (jsonl(line("a", "m"), line("a", "m")), "line 2: custom_id: 'a' is used twice (first on line 1)"),
            (jsonl(json.dumps({"method": "POST", "url": "/v1/embeddings", "body": {}})), "line 1: custom_id:"),
            (jsonl(line("a", "m").replace('"POST"', '"GET"')), 'line 1: method: must be "POST"'),
            (jsonl(line("a", "m", url="/v1/completions")), "line 1: url: must be one of"),
            (jsonl(line("a", "m"), line("b", "m", url="/v1/embeddings")), "line 2: url: '/v1/embeddings' differs"),
            (jsonl(line("a", "m", stream=True)), "line 1: body.stream: batch requests cannot stream"),
            (jsonl(line("a", "")), "line 1: body.model: a capability or model name is required"),
            (jsonl(json.dumps([1, 2])), "line 1: (line): each line must be a JSON object"),
            (jsonl(line("a", "m")[:-1] + ', "extra": 1}'), "line 1: extra: unknown field"),
            (b"\n\n", "The file holds no request"),
            (jsonl(line("a", "m")) + b"\xff\n", "line 2: the file is not UTF-8 text"),
        ],
    )
    def test_a_bad_line_is_a_400_naming_it_and_nothing_is_stored(self, content, expected):
        with pytest.raises(errors.GatewayError) as refused:
            upload(content)
        assert refused.value.status == 400 and refused.value.param == "file"
        assert refused.value.message.startswith(expected), refused.value.message
        assert not GatewayFile.objects.exists()

    def test_only_batch_input_is_accepted_and_the_size_is_bounded(self, settings):
        with pytest.raises(errors.GatewayError) as wrong:
            gateway_file_create(filename="x.jsonl", purpose="fine-tune", content=jsonl(line("a", "m")))
        assert (wrong.value.status, wrong.value.param) == (400, "purpose")
        settings.ROUTING_BATCH_MAX_FILE_BYTES = 10
        with pytest.raises(errors.GatewayError) as large:
            upload(jsonl(line("a", "m")))
        assert large.value.status == 413 and not GatewayFile.objects.exists()


class TestCreate:
    @pytest.mark.parametrize(
        ("changes", "param"),
        [
            ({"endpoint": "/v1/completions"}, "endpoint"),
            ({"endpoint": "/v1/embeddings"}, "endpoint"),  # the file's requests are chat completions
            ({"completion_window": "1h"}, "completion_window"),
            ({"input_file_id": "file-missing"}, "input_file_id"),
            ({"input_file_id": None}, "input_file_id"),
            ({"metadata": {"k": 1}}, "metadata"),
        ],
    )
    def test_bad_parameters_are_a_400_naming_them(self, changes, param):
        stored = upload(jsonl(line("a", "chat-model")))
        values = {"input_file_id": stored.pk, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        with pytest.raises(errors.GatewayError) as refused:
            batch_create(**{**values, **changes})
        assert (refused.value.status, refused.value.param) == (400, param)
        assert not GatewayBatch.objects.exists()


def create(content: bytes, endpoint: str = "/v1/chat/completions") -> GatewayBatch:
    return batch_create(input_file_id=upload(content).pk, endpoint=endpoint, completion_window="24h")


class TestRun:
    def test_each_request_goes_through_the_router_into_the_output_or_error_file(self, catalogue, upstreams):
        batch = create(
            jsonl(
                line("first", "chat-model@prov-b"),
                line("second", "coder-model@prov-c"),
                line("unknown", "no-such-model"),
                line("third", "chat-model@prov-a"),
            )
        )
        assert (batch.status, batch.total, batch.in_progress_at) == (BatchStatus.VALIDATING, 4, None)
        assert batch_run(batch.pk) == BatchStatus.COMPLETED
        batch.refresh_from_db()
        assert (batch.total, batch.completed, batch.failed) == (4, 3, 1)
        assert batch.in_progress_at <= batch.finalizing_at <= batch.completed_at
        output = lines_of(batch.output_file)
        assert [row["custom_id"] for row in output] == ["first", "second", "third"]
        assert [row["response"]["body"]["model"] for row in output] == [
            "chat-model-b",
            "coder-model-c",
            "chat-model-a",
        ]
        assert all(row["response"]["status_code"] == 200 and row["error"] is None for row in output)
        assert all(row["id"].startswith("batch_req_") and row["response"]["request_id"] for row in output)
        [failed] = lines_of(batch.error_file)
        assert failed["custom_id"] == "unknown" and failed["response"]["status_code"] == 404
        assert failed["error"]["code"] == "model_not_found"
        assert failed["response"]["body"]["error"]["param"] == "model"
        # Logged like any gateway request, each row under the request id its result line carries.
        logged = set(RequestLog.objects.values_list("request_id", flat=True))
        assert logged == {row["response"]["request_id"] for row in [*output, failed]} and len(logged) == 4

    def test_failing_upstreams_are_retried_and_rotated_like_any_request(self, catalogue, upstreams):
        upstreams.a.configure(status=500)
        upstreams.b.configure(status=500)
        batch = create(jsonl(line("one", "chat-model"), line("two", "chat-model@prov-a")))
        batch_run(batch.pk)
        batch.refresh_from_db()
        [ok] = lines_of(batch.output_file)
        assert ok["custom_id"] == "one" and ok["response"]["body"]["model"] == "chat-model-c"
        [failed] = lines_of(batch.error_file)
        assert failed["custom_id"] == "two" and failed["response"]["status_code"] == 502

    def test_embedding_requests_are_routed_to_the_embeddings_endpoint(self, catalogue, upstreams):
        model = recipes.text_model.make(slug="embed-model", capabilities=["embeddings"], output_modalities=[])
        recipes.offer.make(provider=catalogue.providers["b"], model=model, provider_model_id="embed-b")
        batch = create(jsonl(line("e1", "embed-model", url="/v1/embeddings")), endpoint="/v1/embeddings")
        batch_run(batch.pk)
        batch.refresh_from_db()
        [row] = lines_of(batch.output_file)
        assert row["response"]["body"]["data"][0]["embedding"] == [0.5, 0.25, 0.5]
        assert [(r["path"], r["json"]["model"]) for r in upstreams.b.requests] == [("/v1/embeddings", "embed-b")]

    def test_at_most_the_configured_number_of_requests_are_in_flight(self, catalogue, upstreams, settings):
        settings.ROUTING_BATCH_CONCURRENCY = 3
        upstreams.b.configure(latency=0.05)
        batch = create(jsonl(*(line(f"r{i}", "chat-model@prov-b") for i in range(9))))
        batch_run(batch.pk)
        batch.refresh_from_db()
        assert batch.completed == 9
        assert upstreams.b.max_in_flight == 3

    def test_a_batch_already_run_is_not_run_again(self, catalogue, upstreams):
        batch = create(jsonl(line("a", "chat-model@prov-b")))
        batch_run(batch.pk)
        assert batch_run(batch.pk) == BatchStatus.COMPLETED
        assert len(upstreams.b.requests) == 1


class TestCancel:
    def test_a_batch_not_started_is_cancelled_and_never_run(self, catalogue, upstreams):
        batch = create(jsonl(line("a", "chat-model@prov-b")))
        assert batch_cancel(batch.pk).status == BatchStatus.CANCELLED
        assert batch_run(batch.pk) == BatchStatus.CANCELLED
        assert upstreams.b.requests == []

    def test_a_running_batch_stops_before_its_next_request(self, catalogue, upstreams):
        batch = create(jsonl(line("a", "chat-model@prov-b"), line("b", "chat-model@prov-b")))
        GatewayBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.IN_PROGRESS)  # a worker has taken it
        assert batch_cancel(batch.pk).status == BatchStatus.CANCELLING
        requests = batch_lines_parse(bytes(batch.input_file.content))
        results = run(_execute, batch.pk, requests, 1)
        assert results == [None, None] and upstreams.b.requests == []
        assert _finish(batch.pk, results) == BatchStatus.CANCELLED

    def test_a_finished_batch_cannot_be_cancelled(self, catalogue, upstreams):
        batch = create(jsonl(line("a", "chat-model@prov-b")))
        batch_run(batch.pk)
        with pytest.raises(errors.GatewayError) as refused:
            batch_cancel(batch.pk)
        assert refused.value.status == 409


@pytest.fixture
def api(client, settings):
    settings.ROUTING_GATEWAY_KEYS = [KEY]
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {KEY}"
    return client


class TestRoutes:
    def post_file(self, api, content: bytes, purpose: str = "batch"):
        return api.post("/v1/files", {"purpose": purpose, "file": SimpleUploadedFile("in.jsonl", content)})

    def test_upload_create_run_retrieve_and_download(self, api, catalogue, upstreams):
        uploaded = self.post_file(api, jsonl(line("a", "chat-model@prov-b")))
        assert uploaded.status_code == 200, uploaded.content
        file_id = uploaded.json()["id"]
        assert uploaded.json()["object"] == "file" and uploaded.json()["purpose"] == "batch"
        assert api.get(f"/v1/files/{file_id}").json()["bytes"] == len(jsonl(line("a", "chat-model@prov-b")))
        body = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        created = api.post("/v1/batches", json.dumps(body), content_type="application/json")
        assert created.status_code == 200 and created.json()["status"] == "validating"
        batch_id = created.json()["id"]
        batch_run(batch_id)  # the worker (on_commit does not fire inside a test's transaction)
        done = api.get(f"/v1/batches/{batch_id}").json()
        assert done["status"] == "completed" and done["request_counts"] == {"total": 1, "completed": 1, "failed": 0}
        content = api.get(f"/v1/files/{done['output_file_id']}/content")
        assert json.loads(content.content)["response"]["body"]["choices"][0]["message"]["content"] == "1 2 3 4 5"

    def test_a_bad_upload_is_an_openai_shaped_400_naming_the_line(self, api, db):
        response = self.post_file(api, jsonl(line("a", "m"), line("a", "m")))
        assert response.status_code == 400 and response["Content-Type"] == "application/json"
        error = response.json()["error"]
        assert error["param"] == "file" and error["message"].startswith("line 2: custom_id:")
        missing = api.post("/v1/files", {"purpose": "batch"})
        assert missing.status_code == 400 and missing.json()["error"]["param"] == "file"
        bad_json = api.post("/v1/batches", "{nope", content_type="application/json")
        assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "invalid_json"
        deep = api.post("/v1/batches", '{"a":' + "[" * 5000 + "]" * 5000 + "}", content_type="application/json")
        assert deep.status_code == 400 and deep.json()["error"]["code"] == "invalid_json"  # not a RecursionError
        assert "more than 64 deep" in deep.json()["error"]["message"]

    def test_a_gateway_key_is_required(self, api, db):
        api.defaults["HTTP_AUTHORIZATION"] = "Bearer wrong"
        for response in (api.get("/v1/batches"), self.post_file(api, jsonl(line("a", "m")))):
            assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"
        assert not GatewayFile.objects.exists()

    def test_unknown_ids_and_methods_answer_json(self, api, db):
        assert api.get("/v1/files/file-nope").json()["error"]["code"] == "file_not_found"
        assert api.get("/v1/batches/batch_nope").status_code == 404
        assert api.post("/v1/batches/batch_nope/cancel").json()["error"]["code"] == "batch_not_found"
        assert api.delete("/v1/batches").status_code == 405
        assert api.get("/v1/files/bad id!").json()["error"]["code"] == "unknown_url"

    def test_the_list_pages_newest_first_in_a_constant_number_of_queries(self, api, catalogue):
        stored = upload(jsonl(line("a", "chat-model")))
        for _ in range(5):
            batch_create(input_file_id=stored.pk, endpoint="/v1/chat/completions", completion_window="24h")
        ids = list(GatewayBatch.objects.order_by("-created_at", "-id").values_list("id", flat=True))
        counts = []
        api.get("/v1/batches")  # the accepted keys are read once, then cached
        for limit in (1, 4):
            with CaptureQueriesContext(connection) as queries:
                page = api.get("/v1/batches", {"limit": limit}).json()
            counts.append(len(queries))
            assert [b["id"] for b in page["data"]] == ids[:limit] and page["has_more"]
        assert counts[0] == counts[1]
        rest = api.get("/v1/batches", {"after": ids[3], "limit": 10}).json()
        assert [b["id"] for b in rest["data"]] == ids[4:] and not rest["has_more"]
        assert api.get("/v1/batches", {"limit": 0}).json()["error"]["param"] == "limit"

    def test_the_files_list_pages_like_the_batches_list(self, api, db):
        ids = [upload(jsonl(line(f"a{i}", "m"))).pk for i in range(3)]
        newest = list(GatewayFile.objects.order_by("-created_at", "-id").values_list("id", flat=True))
        assert sorted(newest) == sorted(ids)
        page = api.get("/v1/files", {"limit": 2}).json()
        assert [f["id"] for f in page["data"]] == newest[:2] and page["has_more"]
        assert [f["id"] for f in api.get("/v1/files", {"after": newest[1]}).json()["data"]] == newest[2:]
        assert api.get("/v1/files", {"after": "file-nope"}).json()["error"]["param"] == "after"


def test_the_admin_lists_batches_and_cancels_one(admin_client, catalogue):
    batch = create(jsonl(line("a", "chat-model@prov-b")))
    assert batch.pk in admin_client.get("/admin/routing/gatewaybatch/").content.decode()
    admin_client.post("/admin/routing/gatewaybatch/", {"action": "cancel", "_selected_action": [batch.pk]}, follow=True)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CANCELLED


class TestIssuedKeys:
    """An issued key sees only its own files and batches, and its batch runs under its scopes and limits."""

    def issue(self, name: str, **scopes) -> tuple[GatewayKey, str]:
        key = GatewayKey(name=name)
        return key, gateway_key_issue(key=key, **scopes)

    def test_another_keys_files_and_batches_are_not_found(self, client, catalogue, upstreams):
        _, mine = self.issue("mine")
        _, theirs = self.issue("theirs")
        as_me = {"HTTP_AUTHORIZATION": f"Bearer {mine}"}
        as_them = {"HTTP_AUTHORIZATION": f"Bearer {theirs}"}
        content = SimpleUploadedFile("in.jsonl", jsonl(line("a", "chat-model@prov-b")))
        file_id = client.post("/v1/files", {"purpose": "batch", "file": content}, **as_me).json()["id"]
        body = json.dumps({"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"})
        refused = client.post("/v1/batches", body, content_type="application/json", **as_them)
        assert refused.status_code == 400 and refused.json()["error"]["param"] == "input_file_id"
        batch_id = client.post("/v1/batches", body, content_type="application/json", **as_me).json()["id"]
        assert client.get(f"/v1/files/{file_id}", **as_them).status_code == 404
        assert client.get(f"/v1/files/{file_id}/content", **as_them).status_code == 404
        assert client.get(f"/v1/batches/{batch_id}", **as_them).status_code == 404
        assert client.post(f"/v1/batches/{batch_id}/cancel", **as_them).status_code == 404
        assert client.get("/v1/batches", **as_them).json()["data"] == []
        assert [b["id"] for b in client.get("/v1/batches", **as_me).json()["data"]] == [batch_id]
        assert current_grant.get() is None  # the views' key check leaves nothing behind in this thread

    def test_a_batch_runs_under_its_keys_scopes(self, catalogue, upstreams):
        key, _ = self.issue("coder only", models=[catalogue.coder])
        stored = gateway_file_create(
            filename="in.jsonl",
            purpose="batch",
            content=jsonl(line("allowed", "coder-model@prov-b"), line("refused", "chat-model@prov-b")),
            key_id=key.pk,
        )
        batch = batch_create(
            input_file_id=stored.pk, endpoint="/v1/chat/completions", completion_window="24h", key_id=key.pk
        )
        batch_run(batch.pk)
        batch.refresh_from_db()
        assert [row["custom_id"] for row in lines_of(batch.output_file)] == ["allowed"]
        [refused] = lines_of(batch.error_file)
        assert refused["response"]["status_code"] == 403 and refused["error"]["code"] == "model_not_allowed"
        assert [r["json"]["model"] for r in upstreams.b.requests] == ["coder-model-b"]
        assert current_grant.get() is None  # the key's grant ends with its batch: the worker's next task runs clean

    def test_a_batch_whose_key_was_revoked_fails_without_sending(self, catalogue, upstreams):
        key, _ = self.issue("gone")
        stored = gateway_file_create(
            filename="in.jsonl", purpose="batch", content=jsonl(line("a", "chat-model@prov-b")), key_id=key.pk
        )
        batch = batch_create(
            input_file_id=stored.pk, endpoint="/v1/chat/completions", completion_window="24h", key_id=key.pk
        )
        gateway_keys_revoke(keys=GatewayKey.objects.filter(pk=key.pk))
        assert batch_run(batch.pk) == BatchStatus.FAILED
        batch.refresh_from_db()
        assert batch.errors["data"][0]["code"] == "key_revoked" and upstreams.b.requests == []
