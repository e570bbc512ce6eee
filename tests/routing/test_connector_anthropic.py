"""Anthropic's Messages API behind the live gateway: an OpenAI client's requests are translated to it and its answers
(whole or streamed, text or tool calls, usage, stop reasons, errors) back to OpenAI's shape."""

from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace

import httpx
import pytest
from django.test import AsyncClient

from routing import connectors
from routing.connectors import api_family
from routing.models import ApiFamily, Outcome, ProviderConnector, RequestLog
from routing.selectors import routable_candidates
from tests import recipes
from tests.routing.conftest import chat_body, run, sse_data
from tests.routing.native_fakes import PROMPT_TOKENS, WORDS, FakeAnthropicServer

pytestmark = pytest.mark.django_db
KEY = "sk-ant-test-0123456789abcdef"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


@pytest.fixture(scope="module")
def anthropic_server():
    server = FakeAnthropicServer(key=KEY).start()
    yield server
    server.stop()


@pytest.fixture
def anthropic(anthropic_server, monkeypatch, db, upstreams, tree):
    """Model `claude-model` at `anthropic-test` (the fake, a connector row saying Messages API) and, dearer, at
    `prov-a` (an OpenAI-compatible fake)."""
    monkeypatch.setenv("ANTHROPIC_TEST_API_KEY", KEY)
    anthropic_server.reset()
    provider = recipes.provider.make(
        slug="anthropic-test", api_base_url=anthropic_server.base_url, api_key_env="ANTHROPIC_TEST_API_KEY"
    )
    ProviderConnector.objects.create(provider=provider, api=ApiFamily.ANTHROPIC)
    fallback = recipes.openai_compatible_provider.make(
        slug="prov-a", api_base_url=upstreams.a.url, api_key_env="PROVIDER_A_TEST_API_KEY"
    )
    model = recipes.text_model.make(slug="claude-model", name="Claude Model", capabilities=["tools"])
    recipes.offer.make(provider=provider, model=model, provider_model_id="claude-fake-1", price_input=Decimal("1"))
    recipes.offer.make(provider=fallback, model=model, provider_model_id="claude-at-a", price_input=Decimal("9"))
    return SimpleNamespace(server=anthropic_server, provider=provider, model=model)


def post(body: str, gateway=None) -> SimpleNamespace:
    """A chat completion through the live gateway (under uvicorn) when given one, else through Django's ASGI stack."""
    if gateway is not None:
        with httpx.Client(base_url=gateway.url, timeout=10) as client:
            response = client.post("/v1/chat/completions", content=body, headers={"Content-Type": "application/json"})
        return SimpleNamespace(status_code=response.status_code, headers=response.headers, content=response.content)
    response = run(_post_asgi, body)
    return SimpleNamespace(status_code=response.status_code, headers=response.headers, content=response.body)


async def _post_asgi(body: str):
    response = await AsyncClient().post("/v1/chat/completions", data=body, content_type="application/json")
    if response.streaming:
        response.body = b"".join([part async for part in response.streaming_content])
    else:
        response.body = response.content
    return response


def json_of(response) -> dict:
    return json.loads(response.content)


def chunks(content: bytes) -> list[dict]:
    return [json.loads(d) for d in sse_data(content) if d != "[DONE]"]


class TestRequests:
    def test_system_tools_stops_and_a_default_max_tokens_are_translated(self, anthropic):
        messages = [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "toolu_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_1", "content": "18 C, sunny"},
        ]
        body = json.dumps(
            {
                "model": "claude-model@anthropic-test",
                "messages": messages,
                "tools": TOOLS,
                "stop": "END",
                "temperature": 0.2,
            }
        )
        assert post(body).status_code == 200
        sent = anthropic.server.requests[-1]
        assert sent["path"] == "/v1/messages"
        assert sent["headers"]["x-api-key"] == KEY and sent["headers"]["anthropic-version"] == "2023-06-01"
        assert "authorization" not in sent["headers"]
        payload = sent["json"]
        assert payload["model"] == "claude-fake-1" and payload["system"] == "Be brief."
        assert payload["max_tokens"] == 4096 and payload["stop_sequences"] == ["END"] and payload["temperature"] == 0.2
        assert payload["tools"] == [
            {
                "name": "get_weather",
                "description": "The weather in a city.",
                "input_schema": TOOLS[0]["function"]["parameters"],
            }
        ]
        assert [m["role"] for m in payload["messages"]] == ["user", "assistant", "user"]
        assert payload["messages"][1]["content"] == [
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
        ]
        assert payload["messages"][2]["content"] == [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 C, sunny"}
        ]

    def test_images_become_blocks_and_consecutive_tool_results_one_user_turn(self, anthropic):
        calls = [
            {"id": f"toolu_{n}", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            for n in (1, 2)
        ]
        image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
        messages = [
            {"role": "user", "content": [{"type": "text", "text": "Look:"}, image]},
            {"role": "assistant", "content": "Checking.", "tool_calls": calls},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "rain"},
            {"role": "tool", "tool_call_id": "toolu_2", "content": [{"type": "text", "text": "sun"}]},
        ]
        assert post(json.dumps({"model": "claude-model@anthropic-test", "messages": messages})).status_code == 200
        sent = anthropic.server.requests[-1]["json"]["messages"]
        assert sent[0]["content"][1] == {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        }
        assert sent[1]["content"][0] == {"type": "text", "text": "Checking."}
        assert [m["role"] for m in sent] == ["user", "assistant", "user"]
        assert [b["content"] for b in sent[2]["content"]] == ["rain", "sun"]

    def test_a_stated_max_tokens_is_kept(self, anthropic):
        post(chat_body("claude-model@anthropic-test", max_tokens=64))
        assert anthropic.server.requests[-1]["json"]["max_tokens"] == 64


class TestAnswers:
    def test_a_text_answer_comes_back_in_openai_shape_with_usage(self, anthropic):
        response = post(chat_body("claude-model@anthropic-test"))
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
        body = json_of(response)
        assert body["object"] == "chat.completion" and body["id"] == "chatcmpl-msg_01Fake"
        assert body["choices"] == [
            {"index": 0, "message": {"role": "assistant", "content": "".join(WORDS)}, "finish_reason": "stop"}
        ]
        assert body["usage"] == {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": len(WORDS),
            "total_tokens": PROMPT_TOKENS + len(WORDS),
        }
        log = RequestLog.objects.get()
        assert (
            log.outcome == Outcome.SUCCESS
            and log.prompt_tokens == PROMPT_TOKENS
            and log.provider_id == anthropic.provider.pk
        )

    def test_a_tool_use_becomes_a_tool_call_with_json_string_arguments(self, anthropic):
        body = json_of(post(chat_body("claude-model@anthropic-test", tools=TOOLS)))
        choice = body["choices"][0]
        assert choice["finish_reason"] == "tool_calls"
        call = choice["message"]["tool_calls"][0]
        assert call["id"] == "toolu_01Fake" and call["type"] == "function"
        assert call["function"]["name"] == "get_weather"
        assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}

    def test_max_tokens_stop_reason_is_length(self, anthropic):
        anthropic.server.configure(stop="max_tokens")
        body = json_of(post(chat_body("claude-model@anthropic-test")))
        assert body["choices"][0]["finish_reason"] == "length"

    def test_a_client_error_is_relayed_in_openai_shape_and_not_retried(self, anthropic):
        anthropic.server.configure(status=400)
        response = post(chat_body("claude-model@anthropic-test"))
        assert response.status_code == 400
        error = json_of(response)["error"]
        assert error["code"] == "invalid_request_error" and error["message"] == "fake 400"
        assert len(anthropic.server.requests) == 1


class TestStreams:
    @pytest.mark.django_db(transaction=True)  # under uvicorn: the rows must be committed
    def test_events_are_translated_into_chunks_ending_with_done(self, anthropic, live_gateway):
        body = chat_body("claude-model@anthropic-test", stream=True, stream_options={"include_usage": True})
        response = post(body, live_gateway)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        data = sse_data(response.content)
        assert data[-1] == "[DONE]"
        parsed = chunks(response.content)
        assert all(c["object"] == "chat.completion.chunk" for c in parsed)
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in parsed if c["choices"])
        assert text == "".join(WORDS)
        finishes = [
            c["choices"][0]["finish_reason"] for c in parsed if c["choices"] and c["choices"][0]["finish_reason"]
        ]
        assert finishes == ["stop"]
        assert parsed[-1]["choices"] == [] and parsed[-1]["usage"]["completion_tokens"] == len(WORDS)
        assert anthropic.server.requests[-1]["json"]["stream"] is True

    def test_usage_is_logged_but_not_sent_unless_asked(self, anthropic):
        response = post(chat_body("claude-model@anthropic-test", stream=True))
        assert all("usage" not in c for c in chunks(response.content))
        assert RequestLog.objects.get().completion_tokens == len(WORDS)

    def test_a_streamed_tool_call_arrives_as_deltas_of_its_arguments(self, anthropic):
        response = post(chat_body("claude-model@anthropic-test", stream=True, tools=TOOLS))
        calls = [
            call
            for c in chunks(response.content)
            if c["choices"]
            for call in c["choices"][0]["delta"].get("tool_calls") or []
        ]
        assert calls[0]["id"] == "toolu_01Fake" and calls[0]["function"]["name"] == "get_weather"
        assert {call["index"] for call in calls} == {0}
        assert json.loads("".join(call["function"]["arguments"] for call in calls)) == {"city": "Paris"}
        finishes = [c["choices"][0]["finish_reason"] for c in chunks(response.content) if c["choices"]]
        assert finishes[-1] == "tool_calls"

    @pytest.mark.django_db(transaction=True)  # under uvicorn: the rows must be committed
    def test_an_error_event_mid_stream_ends_it_once_without_duplicate_output(self, anthropic, live_gateway):
        anthropic.server.configure(error_after=1)
        response = post(chat_body("claude-model@anthropic-test", stream=True), live_gateway)
        data = sse_data(response.content)
        assert "[DONE]" not in data
        last = json.loads(data[-1])
        assert last["error"]["code"] == "overloaded_error"
        text = "".join(
            c["choices"][0]["delta"].get("content") or "" for c in chunks(response.content) if c.get("choices")
        )
        assert text == WORDS[0]  # what was sent before the error, once; no second answer appended
        assert len(anthropic.server.requests) == 1
        assert RequestLog.objects.get().outcome == Outcome.STREAM_ERROR


class TestFaults:
    @pytest.mark.django_db(transaction=True)  # under uvicorn: the rows must be committed
    def test_overloaded_529_rotates_to_another_provider(self, anthropic, upstreams, live_gateway):
        anthropic.server.configure(status=529)
        response = post(chat_body("claude-model"), live_gateway)
        assert response.status_code == 200
        assert response.headers["x-modelgraph-route"] == "claude-model@prov-a"
        assert json_of(response)["choices"][0]["message"]["content"]  # the OpenAI-compatible fake's answer
        log = RequestLog.objects.get()
        assert [a["route"] for a in log.attempt_log][-1] == "claude-model@prov-a"
        assert log.attempt_log[0]["route"] == "claude-model@anthropic-test" and log.attempt_log[0]["status"] == 529
        assert log.attempt_log[0]["kind"] == "server"

    def test_an_overloaded_error_before_the_first_chunk_is_retried_elsewhere(self, anthropic, upstreams):
        anthropic.server.configure(error_after=0)
        response = post(chat_body("claude-model", stream=True))
        assert response.status_code == 200 and response.headers["x-modelgraph-route"] == "claude-model@prov-a"
        data = sse_data(response.content)
        assert data[-1] == "[DONE]" and not any('"error"' in d for d in data)

    def test_a_refused_key_is_an_auth_failure_of_the_provider(self, anthropic, monkeypatch):
        monkeypatch.setenv("ANTHROPIC_TEST_API_KEY", "sk-ant-wrong-key-000000")
        response = post(chat_body("claude-model@anthropic-test"))
        assert response.status_code == 502
        assert "sk-ant-wrong" not in response.content.decode()
        assert RequestLog.objects.get().attempt_log[0]["kind"] == "auth"


class TestFamily:
    @pytest.mark.parametrize(
        ("stated", "base_url", "compatible", "expected"),
        [
            ("anthropic", "http://127.0.0.1:9/v1", False, "anthropic"),
            (None, "https://api.anthropic.com/v1", False, "anthropic"),
            (None, "https://generativelanguage.googleapis.com/v1beta", False, "gemini"),
            (None, "https://api.example.com/v1", True, "openai"),
            (None, "https://api.example.com/v1", False, None),
        ],
    )
    def test_the_provider_record_chooses_the_connector(self, stated, base_url, compatible, expected):
        assert api_family(stated=stated, base_url=base_url, openai_compatible=compatible) == expected

    def test_routable_offers_carry_the_api_of_their_provider(self, db):
        model = recipes.text_model.make(slug="any-model")
        by_host = recipes.provider.make(slug="by-host", api_base_url="https://api.anthropic.com/v1", api_key_env="")
        by_row = recipes.provider.make(slug="by-row", api_base_url="", api_key_env="")
        ProviderConnector.objects.create(provider=by_row, api=ApiFamily.GEMINI)
        unknown = recipes.provider.make(slug="unknown", api_base_url="https://api.example.com/v1", api_key_env="")
        for provider in (by_host, by_row, unknown):
            recipes.offer.make(provider=provider, model=model)
        found = {c.provider_slug: (c.api, c.base_url) for c in routable_candidates()}
        assert found == {
            "by-host": ("anthropic", "https://api.anthropic.com/v1"),
            "by-row": ("gemini", "https://generativelanguage.googleapis.com/v1beta"),
        }


class TestProbes:
    def test_a_provider_and_an_offer_are_probed_in_their_own_api(self, anthropic):
        candidate = next(c for c in routable_candidates() if c.provider_slug == "anthropic-test")
        assert run(connectors.probe, candidate, provider_wide=True) == (True, "")
        assert anthropic.server.requests[-1]["path"] == "/v1/models"
        assert run(connectors.probe, candidate, provider_wide=False) == (True, "")
        sent = anthropic.server.requests[-1]
        assert sent["path"] == "/v1/messages" and sent["json"]["max_tokens"] == 1
        assert sent["headers"]["x-api-key"] == KEY

    def test_an_overloaded_offer_fails_its_probe(self, anthropic):
        anthropic.server.configure(status=529)
        candidate = next(c for c in routable_candidates() if c.provider_slug == "anthropic-test")
        ok, error = run(connectors.probe, candidate, provider_wide=False)
        assert not ok and error.startswith("529")


class TestAdmin:
    def test_curators_list_and_filter_connectors(self, anthropic, admin_client):
        page = admin_client.get("/admin/routing/providerconnector/?api__exact=anthropic")
        assert page.status_code == 200 and "anthropic-test" in page.content.decode()
        page = admin_client.get("/admin/routing/providerconnector/?api__exact=gemini")
        assert "anthropic-test" not in page.content.decode()
        assert (
            admin_client.get(f"/admin/routing/providerconnector/{anthropic.provider.connector.pk}/change/").status_code
            == 200
        )
