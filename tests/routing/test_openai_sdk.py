"""The official `openai` Python SDK against the live gateway (both ways /v1/ is served, under a real uvicorn) with
OpenAI-compatible fakes upstream: completions, streams, tool calls, embeddings, errors as the SDK's own exception
types, and a batch round trip."""

from __future__ import annotations

import json
from decimal import Decimal

import openai
import pytest

from tests import recipes

pytestmark = pytest.mark.django_db(transaction=True)
KEY = "mg_gw_sdk_test_key_0123456789"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def sdk(live_gateway, settings):
    settings.ROUTING_GATEWAY_KEYS = [KEY]
    # No retries: each test sees the gateway's own answer (the SDK would retry 429s and 5xx after a sleep).
    client = openai.OpenAI(base_url=f"{live_gateway.url}/v1", api_key=KEY, max_retries=0, timeout=20)
    yield client
    client.close()


@pytest.fixture
def embedding_offer(catalogue):
    model = recipes.text_model.make(
        slug="embed-model", capabilities=["embeddings"], input_modalities=["text"], output_modalities=["embeddings"]
    )
    return recipes.offer.make(
        provider=catalogue.providers["b"], model=model, provider_model_id="embed-b", price_input=Decimal("0.10")
    )


class TestChat:
    def test_a_completion(self, sdk, catalogue, upstreams):
        answer = sdk.chat.completions.create(model="chat-model@prov-b", messages=HI)
        assert answer.choices[0].message.content == "1 2 3 4 5"
        assert answer.choices[0].finish_reason == "stop" and answer.usage.prompt_tokens == 12
        assert upstreams.b.requests[0]["json"]["model"] == "chat-model-b"

    def test_a_capability_is_a_model_name_to_the_sdk(self, sdk, catalogue, upstreams):
        raw = sdk.chat.completions.with_raw_response.create(model="text-generation", messages=HI)
        assert raw.headers["x-modelgraph-pool"] == "text-generation:default"
        assert raw.parse().choices[0].message.content == "1 2 3 4 5"

    def test_a_stream(self, sdk, catalogue, upstreams):
        stream = sdk.chat.completions.create(model="chat-model@prov-a", messages=HI, stream=True)
        chunks = list(stream)
        text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
        assert text == "1 2 3 4 5 " and chunks[-1].choices[0].finish_reason == "stop"

    def test_a_stream_with_usage(self, sdk, catalogue, upstreams):
        stream = sdk.chat.completions.create(
            model="chat-model@prov-a", messages=HI, stream=True, stream_options={"include_usage": True}
        )
        chunks = list(stream)
        assert chunks[-1].usage.completion_tokens == 5 and chunks[-1].choices == []

    def test_tool_calls_are_parsed_by_the_sdk(self, sdk, catalogue, upstreams):
        answer = sdk.chat.completions.create(model="tool-use", messages=HI, tools=[WEATHER_TOOL])
        [call] = answer.choices[0].message.tool_calls
        assert call.type == "function" and call.function.name == "get_weather"
        assert json.loads(call.function.arguments) == {"city": "Paris"}
        assert answer.choices[0].finish_reason == "tool_calls"
        assert upstreams.a.requests + upstreams.b.requests + upstreams.c.requests  # it went upstream
        sent = next(r for s in (upstreams.a, upstreams.b, upstreams.c) for r in s.requests)
        assert sent["json"]["tools"] == [WEATHER_TOOL]

    def test_streamed_tool_calls_arrive_in_pieces_the_sdk_joins(self, sdk, catalogue, upstreams):
        stream = sdk.chat.completions.create(model="chat-model@prov-c", messages=HI, tools=[WEATHER_TOOL], stream=True)
        name, arguments = "", ""
        for chunk in stream:
            for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
                name += call.function.name or ""
                arguments += call.function.arguments or ""
        assert name == "get_weather" and json.loads(arguments) == {"city": "Paris"}


class TestErrors:
    def test_a_bad_key_is_an_authentication_error(self, live_gateway, sdk, catalogue):
        stranger = openai.OpenAI(base_url=f"{live_gateway.url}/v1", api_key="sk-wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as refused:
            stranger.chat.completions.create(model="chat-model", messages=HI)
        assert refused.value.status_code == 401 and refused.value.code == "invalid_api_key"
        stranger.close()

    def test_an_unknown_model_is_not_found(self, sdk, catalogue):
        with pytest.raises(openai.NotFoundError) as refused:
            sdk.chat.completions.create(model="no-such-model", messages=HI)
        assert refused.value.code == "model_not_found" and refused.value.param == "model"

    def test_bad_input_is_a_bad_request(self, sdk, catalogue):
        with pytest.raises(openai.BadRequestError) as refused:
            sdk.chat.completions.create(model="chat-model", messages="hi")  # type: ignore[arg-type]
        assert refused.value.status_code == 400 and refused.value.param == "messages"

    def test_upstreams_all_rate_limiting_is_a_rate_limit_error(self, sdk, catalogue, upstreams):
        for server in (upstreams.a, upstreams.b, upstreams.c):
            server.configure(status=429, retry_after=7)
        with pytest.raises(openai.RateLimitError) as refused:
            sdk.chat.completions.create(model="chat-model", messages=HI)
        assert refused.value.code == "rate_limit_exceeded"
        assert refused.value.response.headers["retry-after"] == "7"

    def test_an_upstream_failure_is_an_internal_server_error_type(self, sdk, catalogue, upstreams):
        upstreams.b.configure(status=500)
        with pytest.raises(openai.APIStatusError) as failed:
            sdk.chat.completions.create(model="chat-model@prov-b", messages=HI)
        assert failed.value.status_code == 502 and failed.value.type == "upstream_error"


def test_embeddings(sdk, embedding_offer, upstreams):
    answer = sdk.embeddings.create(model="embed-model", input=["hello", "hi"])
    assert [item.index for item in answer.data] == [0, 1]
    assert answer.data[0].embedding == [0.5, 0.25, 0.5] and answer.usage.prompt_tokens == 7
    assert upstreams.b.requests[0]["path"] == "/v1/embeddings"


def test_a_batch_round_trip(sdk, catalogue, embedding_offer, upstreams):
    requests = [
        {
            "custom_id": f"q{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": model, "messages": HI},
        }
        for i, model in enumerate(["chat-model@prov-a", "chat-model@prov-b", "no-such-model"])
    ]
    content = "".join(json.dumps(request) + "\n" for request in requests).encode()
    uploaded = sdk.files.create(file=("questions.jsonl", content), purpose="batch")
    assert uploaded.purpose == "batch" and uploaded.bytes == len(content)
    assert sdk.files.retrieve(uploaded.id).filename == "questions.jsonl"
    assert uploaded.id in [listed.id for listed in sdk.files.list()]
    # The test cluster runs django-q2 tasks where they are queued (Q_CLUSTER["sync"]): the worker's own function
    # has run the batch by the time it is committed, so no waiting.
    created = sdk.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"team": "qa"}
    )
    batch = sdk.batches.retrieve(created.id)
    assert batch.status == "completed" and batch.metadata == {"team": "qa"}
    assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (3, 2, 1)
    output = [json.loads(row) for row in sdk.files.content(batch.output_file_id).text.splitlines()]
    assert {row["custom_id"]: row["response"]["body"]["model"] for row in output} == {
        "q0": "chat-model-a",
        "q1": "chat-model-b",
    }
    [error] = [json.loads(row) for row in sdk.files.content(batch.error_file_id).text.splitlines()]
    assert error["custom_id"] == "q2" and error["response"]["status_code"] == 404
    assert [b.id for b in sdk.batches.list(limit=5)] == [created.id]
    with pytest.raises(openai.ConflictError):
        sdk.batches.cancel(created.id)


def test_a_bad_batch_file_is_a_bad_request_naming_the_line(sdk, catalogue):
    content = b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}}\n{oops\n'
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.files.create(file=("bad.jsonl", content), purpose="batch")
    assert refused.value.param == "file" and "line 2: not valid JSON" in refused.value.message
