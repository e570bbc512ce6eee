"""The /v1/ surface through Django's ASGI stack (AsyncClient): answers, errors, headers, the request log."""

from __future__ import annotations

import json

import pytest
from django.test import AsyncClient

from routing.models import Outcome, RequestLog
from tests.routing.conftest import KEY_A, chat_body, run, sse_data


async def post(body, headers=None):
    return await AsyncClient().post(
        "/v1/chat/completions", data=body, content_type="application/json", headers=headers or {}
    )


def error_of(response) -> dict:
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


@pytest.mark.django_db
class TestChatCompletions:
    def test_a_capability_request_is_answered_by_a_member_and_logged(self, catalogue, upstreams):
        response = run(post, chat_body("text-generation"))
        assert response.status_code == 200
        body = json.loads(response.content)
        assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"]
        route = response["X-ModelGraph-Route"]
        assert route.split("@")[0] in ("chat-model", "coder-model")
        assert response["X-ModelGraph-Pool"] == "text-generation:default"
        log = RequestLog.objects.get()
        assert (log.requested, log.status, log.outcome, log.attempts) == ("text-generation", 200, "success", 1)
        assert log.capability.slug == "text-generation" and log.prompt_tokens == 12 and log.completion_tokens == 5
        assert log.cost is not None and log.cost > 0

    def test_the_upstream_gets_its_own_model_id_and_our_key(self, catalogue, upstreams):
        response = run(post, chat_body("chat-model@prov-a"))
        assert response.status_code == 200 and response["X-ModelGraph-Route"] == "chat-model@prov-a"
        (request,) = upstreams.a.requests
        assert request["json"]["model"] == "chat-model-a"
        assert request["headers"]["authorization"] == f"Bearer {KEY_A}"

    def test_an_alias_resolves_to_its_model(self, catalogue, upstreams):
        catalogue.chat.aliases.create(alias="vendor/Chat-Model")
        response = run(post, chat_body("vendor/Chat-Model"))
        assert response.status_code == 200 and response["X-ModelGraph-Route"].startswith("chat-model@")

    def test_streaming_passes_every_chunk_through_in_order(self, catalogue, upstreams):
        async def scenario():
            response = await post(chat_body("chat-model@prov-b", stream=True))
            return response, b"".join([part async for part in response.streaming_content])

        response, content = run(scenario)
        assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
        data = sse_data(content)
        assert data[-1] == "[DONE]"
        text = "".join(json.loads(d)["choices"][0]["delta"].get("content", "") for d in data[:-1])
        assert text == "1 2 3 4 5 "
        # The usage chunk the gateway asked for is not shown to a client that did not ask for it.
        assert all("usage" not in json.loads(d) for d in data[:-1])
        log = RequestLog.objects.get()
        assert log.stream and log.ttft_ms is not None and log.completion_tokens == 5

    def test_streaming_client_that_asks_for_usage_gets_it(self, catalogue, upstreams):
        async def scenario():
            body = chat_body("chat-model@prov-b", stream=True, stream_options={"include_usage": True})
            response = await post(body)
            return b"".join([part async for part in response.streaming_content])

        data = sse_data(run(scenario))
        assert json.loads(data[-2])["usage"]["completion_tokens"] == 5


@pytest.mark.django_db
class TestMalformedRequests:
    @pytest.mark.parametrize(
        "body, param, code",
        [
            ("{not json", None, "invalid_json"),
            ("[1, 2]", None, "invalid_json"),
            (json.dumps({"messages": [{"role": "user", "content": "x"}]}), "model", "missing_required_parameter"),
            (json.dumps({"model": "text-generation"}), "messages", "missing_required_parameter"),
            (json.dumps({"model": "text-generation", "messages": []}), "messages", "missing_required_parameter"),
            (chat_body("text-generation", stream="yes"), "stream", "invalid_type"),
        ],
    )
    def test_bad_bodies_are_400_in_openai_shape(self, catalogue, body, param, code):
        response = run(post, body)
        assert response.status_code == 400
        error = error_of(response)
        assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)

    @pytest.mark.parametrize(
        "messages, param, code",
        [
            (["hi"], "messages[0]", "invalid_type"),
            ([{"content": "hi"}], "messages[0].role", "invalid_value"),
            ([{"role": "wizard", "content": "hi"}], "messages[0].role", "invalid_value"),
            ([{"role": "user", "content": 42}], "messages[0].content", "invalid_type"),
            ([{"role": "user", "content": {"text": "hi"}}], "messages[0].content", "invalid_type"),
            ([{"role": "user"}], "messages[0].content", "missing_required_parameter"),
            ([{"role": "user", "content": None}], "messages[0].content", "missing_required_parameter"),
            ([{"role": "user", "content": ["hi"]}], "messages[0].content[0]", "invalid_type"),
            ([{"role": "user", "content": [{"text": "hi"}]}], "messages[0].content[0]", "invalid_type"),
            (
                [{"role": "user", "content": [{"type": "text", "text": 1}]}],
                "messages[0].content[0].text",
                "invalid_type",
            ),
            (
                [{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}],
                "messages[0].content[0].image_url",
                "invalid_type",
            ),
            ([{"role": "user", "content": "hi", "name": 7}], "messages[0].name", "invalid_type"),
            (
                [{"role": "user", "content": "a"}, {"role": "user", "content": True}],
                "messages[1].content",
                "invalid_type",
            ),
        ],
    )
    def test_message_content_types_are_validated(self, catalogue, upstreams, messages, param, code):
        response = run(post, json.dumps({"model": "chat-model", "messages": messages}))
        assert response.status_code == 400
        error = error_of(response)
        assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)
        assert param in error["message"]
        assert upstreams.a.requests == upstreams.b.requests == upstreams.c.requests == []

    def test_accepted_message_shapes_pass_and_a_wrong_part_does_not(self, catalogue, upstreams):
        messages = [
            {"role": "system", "content": "be brief"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
        ]
        response = run(post, json.dumps({"model": "chat-model@prov-a", "messages": messages}))
        assert response.status_code == 200 and upstreams.a.requests[0]["json"]["messages"] == messages
        messages[1]["content"].append({"type": "text"})
        response = run(post, json.dumps({"model": "chat-model@prov-a", "messages": messages}))
        assert response.status_code == 400 and error_of(response)["param"] == "messages[1].content[2].text"
        assert len(upstreams.a.requests) == 1

    def test_a_body_nested_100000_deep_is_400_not_500(self, catalogue, upstreams):
        deep = '{"model": "chat-model", "messages": ' + "[" * 100_000 + "]" * 100_000 + "}"
        response = run(post, deep)
        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "invalid_json" and "deep" in error["message"]
        assert not RequestLog.objects.exists()
        # Brackets inside strings are text, not nesting.
        body = chat_body("chat-model@prov-a", messages=[{"role": "user", "content": "[{" * 5000}])
        assert run(post, body).status_code == 200

    @pytest.mark.parametrize("model", ["chat\\u0000model", "chat-model\\u0000", "chat\\nmodel", "chat\\u009bmodel"])
    def test_control_characters_in_model_are_400_not_500(self, catalogue, model):
        response = run(post, '{"model": "' + model + '", "messages": [{"role": "user", "content": "hi"}]}')
        assert response.status_code == 400
        error = error_of(response)
        assert (error["param"], error["code"]) == ("model", "invalid_value")

    def test_unknown_capability_or_model_is_404(self, catalogue):
        response = run(post, chat_body("no-such-thing"))
        assert response.status_code == 404
        error = error_of(response)
        assert (error["type"], error["code"], error["param"]) == ("not_found_error", "model_not_found", "model")

    def test_embeddings_capability_is_not_a_chat_capability(self, catalogue):
        response = run(post, chat_body("embeddings"))
        assert response.status_code == 400 and error_of(response)["code"] == "unsupported_capability"

    def test_wrong_method_is_405_json(self, catalogue):
        response = run(AsyncClient().get, "/v1/chat/completions")
        assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"

    def test_unknown_path_under_v1_is_json_not_html(self, db):
        for path in ("/v1/nothing-here", "/v1/", "/v1/chat/completions/extra"):
            response = run(AsyncClient().post, path, data="{}", content_type="application/json")
            assert response.status_code == 404, path
            assert error_of(response)["code"] == "unknown_url"

    def test_a_too_large_body_is_413(self, catalogue, settings):
        settings.ROUTING_MAX_BODY_BYTES = 100
        response = run(post, chat_body("text-generation", padding="x" * 200))
        assert response.status_code == 413 and error_of(response)["code"] == "request_too_large"

    def test_a_bug_in_the_gateway_is_a_json_500(self, catalogue, monkeypatch):
        def broken(raw):
            raise RuntimeError("boom")

        monkeypatch.setattr("routing.gateway.chat_request_parse", broken)
        response = run(post, chat_body("text-generation"))
        assert response.status_code == 500 and error_of(response)["type"] == "server_error"


@pytest.mark.django_db
class TestNothingReachable:
    def test_every_member_failing_is_502_in_openai_shape(self, catalogue, upstreams):
        for server in (upstreams.a, upstreams.b, upstreams.c):
            server.configure(status=500)
        response = run(post, chat_body("chat-model"))
        assert response.status_code == 502
        error = error_of(response)
        assert (error["type"], error["code"]) == ("upstream_error", "upstream_failed")
        assert RequestLog.objects.get().outcome == Outcome.UPSTREAM_ERROR

    def test_no_live_member_is_503(self, catalogue, upstreams):
        from routing.models import RouteStateValue
        from routing.services import route_state_set

        for provider in catalogue.providers.values():
            route_state_set(provider_id=provider.pk, value=RouteStateValue.STANDBY)
        response = run(post, chat_body("chat-model"))
        assert response.status_code == 503
        error = error_of(response)
        assert error["code"] == "no_available_provider" and "provider on standby" in error["message"]
        assert upstreams.a.requests == [] and RequestLog.objects.get().outcome == Outcome.UNAVAILABLE

    def test_an_unreachable_provider_is_skipped(self, catalogue, upstreams):
        catalogue.providers["a"].api_base_url = "http://127.0.0.1:9/v1"  # discard port: connection refused
        catalogue.providers["a"].save()
        response = run(post, chat_body("chat-model@prov-a"))
        assert response.status_code == 502 and "could not connect" in error_of(response)["message"]


@pytest.mark.django_db
class TestGatewayKeys:
    def test_keys_are_required_when_configured(self, catalogue, settings, monkeypatch):
        monkeypatch.setenv("GATEWAY_KEY_ONE", "mg-gw-secret")
        settings.ROUTING_GATEWAY_KEYS = ["${secrets:GATEWAY_KEY_ONE}"]
        assert run(post, chat_body("chat-model")).status_code == 401
        assert run(post, chat_body("chat-model"), {"Authorization": "Bearer wrong"}).status_code == 401
        response = run(post, chat_body("chat-model"), {"Authorization": "Bearer mg-gw-secret"})
        assert response.status_code == 200


@pytest.mark.django_db
class TestModelsList:
    def test_lists_capabilities_and_routable_models(self, catalogue):
        response = run(AsyncClient().get, "/v1/models")
        assert response.status_code == 200
        data = {entry["id"]: entry for entry in json.loads(response.content)["data"]}
        assert data["text-generation"]["modelgraph"]["type"] == "capability"
        assert data["code-generation"]["modelgraph"]["parent"] == "text-generation"
        assert data["code-generation"]["modelgraph"]["models"] == 1  # coder-model, by name
        assert data["tool-use"]["modelgraph"]["models"] == 1  # chat-model has "tools"
        assert data["chat-model"]["modelgraph"]["providers"] == ["prov-a", "prov-b", "prov-c"]

    def test_one_model_by_slug_or_alias_and_404(self, catalogue):
        catalogue.chat.aliases.create(alias="vendor/chat")
        assert json.loads(run(AsyncClient().get, "/v1/models/vendor/chat").content)["id"] == "chat-model"
        response = run(AsyncClient().get, "/v1/models/nope")
        assert response.status_code == 404 and error_of(response)["code"] == "model_not_found"
