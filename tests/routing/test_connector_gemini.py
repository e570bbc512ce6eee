"""Google's Gemini API behind the live gateway: OpenAI requests become generateContent / streamGenerateContent
(alt=sse) requests, and their answers OpenAI completions and chunks — text, tool calls, usage, finish reasons."""

from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace

import httpx
import pytest
from django.test import AsyncClient

from routing.models import ApiFamily, Outcome, ProviderConnector, RequestLog
from tests import recipes
from tests.routing.conftest import chat_body, run, sse_data
from tests.routing.native_fakes import PROMPT_TOKENS, WORDS, FakeGeminiServer

pytestmark = pytest.mark.django_db
KEY = "gemini-test-key-0123456789"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@pytest.fixture(scope="module")
def gemini_server():
    server = FakeGeminiServer(key=KEY).start()
    yield server
    server.stop()


@pytest.fixture
def gemini(gemini_server, monkeypatch, db, upstreams, tree):
    """Model `gemini-model` at `google-test` (the fake; a connector row says Gemini) and at `prov-b` (OpenAI)."""
    monkeypatch.setenv("GEMINI_TEST_API_KEY", KEY)
    gemini_server.reset()
    provider = recipes.provider.make(
        slug="google-test", api_base_url=gemini_server.base_url, api_key_env="GEMINI_TEST_API_KEY"
    )
    ProviderConnector.objects.create(provider=provider, api=ApiFamily.GEMINI)
    fallback = recipes.openai_compatible_provider.make(
        slug="prov-b", api_base_url=upstreams.b.url, api_key_env="PROVIDER_B_TEST_API_KEY"
    )
    model = recipes.text_model.make(slug="gemini-model", name="Gemini Model", capabilities=["tools"])
    recipes.offer.make(provider=provider, model=model, provider_model_id="gemini-fake-1", price_input=Decimal("1"))
    recipes.offer.make(provider=fallback, model=model, provider_model_id="gemini-at-b", price_input=Decimal("9"))
    return SimpleNamespace(server=gemini_server, provider=provider, model=model)


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


def text_of(parsed: list[dict]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in parsed if c.get("choices"))


class TestRequests:
    def test_contents_system_instruction_generation_config_and_tools(self, gemini):
        messages = [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 3}'},
        ]
        body = {
            "model": "gemini-model@google-test",
            "messages": messages,
            "tools": TOOLS,
            "tool_choice": "required",
            "max_tokens": 50,
            "temperature": 0.1,
            "stop": ["END"],
        }
        assert post(json.dumps(body)).status_code == 200
        sent = gemini.server.requests[-1]
        assert sent["path"] == "/v1beta/models/gemini-fake-1:generateContent"
        assert sent["headers"]["x-goog-api-key"] == KEY and "authorization" not in sent["headers"]
        payload = sent["json"]
        assert payload["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
        assert payload["contents"] == [
            {"role": "user", "parts": [{"text": "Weather?"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp": 3}}}]},
        ]
        assert payload["generationConfig"] == {"temperature": 0.1, "maxOutputTokens": 50, "stopSequences": ["END"]}
        assert payload["tools"] == [
            {
                "functionDeclarations": [
                    {
                        "name": "get_weather",
                        "description": "The weather in a city.",
                        "parameters": TOOLS[0]["function"]["parameters"],
                    }
                ]
            }
        ]
        assert payload["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}


class TestAnswers:
    def test_a_text_answer_comes_back_in_openai_shape_with_usage(self, gemini):
        response = post(chat_body("gemini-model@google-test"))
        assert response.status_code == 200
        body = json_of(response)
        assert body["object"] == "chat.completion" and body["model"] == "gemini-fake-1"
        assert body["choices"] == [
            {"index": 0, "message": {"role": "assistant", "content": "".join(WORDS)}, "finish_reason": "stop"}
        ]
        assert body["usage"] == {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": len(WORDS),
            "total_tokens": PROMPT_TOKENS + len(WORDS),
        }
        assert RequestLog.objects.get().completion_tokens == len(WORDS)

    @pytest.mark.django_db(transaction=True)  # under uvicorn: the rows must be committed
    def test_a_function_call_becomes_a_tool_call(self, gemini, live_gateway):
        choice = json_of(post(chat_body("gemini-model@google-test", tools=TOOLS), live_gateway))["choices"][0]
        assert choice["finish_reason"] == "tool_calls"
        call = choice["message"]["tool_calls"][0]
        assert call["type"] == "function" and call["id"].startswith("call_")
        assert call["function"]["name"] == "get_weather"
        assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}

    @pytest.mark.parametrize(("native", "finish"), [("MAX_TOKENS", "length"), ("SAFETY", "content_filter")])
    def test_finish_reasons_are_mapped(self, gemini, native, finish):
        gemini.server.configure(stop=native)
        assert json_of(post(chat_body("gemini-model@google-test")))["choices"][0]["finish_reason"] == finish

    def test_a_rate_limit_is_a_429_in_openai_shape(self, gemini):
        gemini.server.configure(status=429)
        response = post(chat_body("gemini-model@google-test"))
        assert response.status_code == 429 and json_of(response)["error"]["type"] == "rate_limit_error"


class TestStreams:
    @pytest.mark.django_db(transaction=True)  # under uvicorn: the rows must be committed
    def test_sse_responses_become_chunks_ending_with_done(self, gemini, live_gateway):
        body = chat_body("gemini-model@google-test", stream=True, stream_options={"include_usage": True})
        response = post(body, live_gateway)
        assert response.status_code == 200
        sent = gemini.server.requests[-1]
        assert sent["path"] == "/v1beta/models/gemini-fake-1:streamGenerateContent" and sent["query"] == "alt=sse"
        assert sse_data(response.content)[-1] == "[DONE]"
        parsed = chunks(response.content)
        assert text_of(parsed) == "".join(WORDS)
        finishes = [
            c["choices"][0]["finish_reason"] for c in parsed if c["choices"] and c["choices"][0]["finish_reason"]
        ]
        assert finishes == ["stop"]
        assert parsed[-1]["usage"] == {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": len(WORDS),
            "total_tokens": PROMPT_TOKENS + len(WORDS),
        }

    def test_a_streamed_function_call_is_one_complete_tool_call(self, gemini):
        response = post(chat_body("gemini-model@google-test", stream=True, tools=TOOLS))
        parsed = chunks(response.content)
        calls = [call for c in parsed if c["choices"] for call in c["choices"][0]["delta"].get("tool_calls") or []]
        assert len(calls) == 1 and calls[0]["index"] == 0 and calls[0]["function"]["name"] == "get_weather"
        assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris"}
        assert [c["choices"][0]["finish_reason"] for c in parsed if c["choices"]][-1] == "tool_calls"


class TestFaults:
    @pytest.mark.django_db(transaction=True)  # under uvicorn: the rows must be committed
    def test_a_stream_cut_midway_ends_with_one_error_event_and_no_duplicate_output(self, gemini, live_gateway):
        gemini.server.configure(cut_after=2)
        response = post(chat_body("gemini-model", stream=True), live_gateway)
        assert response.status_code == 200 and response.headers["x-modelgraph-route"] == "gemini-model@google-test"
        data = sse_data(response.content)
        assert "[DONE]" not in data
        errors = [d for d in data if '"error"' in d]
        assert len(errors) == 1 and json.loads(errors[0])["error"]["code"] == "stream_interrupted"
        assert text_of(chunks(response.content)) == "".join(WORDS[:2])  # never a second answer appended
        assert len(gemini.server.requests) == 1
        assert RequestLog.objects.get().outcome == Outcome.STREAM_ERROR

    def test_a_body_that_ends_before_a_candidate_finished_is_a_failed_stream(self, gemini):
        gemini.server.configure(end_after=1)
        response = post(chat_body("gemini-model@google-test", stream=True))
        data = sse_data(response.content)
        assert "[DONE]" not in data and json.loads(data[-1])["error"]["code"] == "stream_interrupted"
        assert text_of(chunks(response.content)) == WORDS[0]
        assert RequestLog.objects.get().outcome == Outcome.STREAM_ERROR

    def test_a_cut_before_the_first_chunk_is_retried_at_another_provider(self, gemini, upstreams):
        gemini.server.configure(cut_after=0)
        response = post(chat_body("gemini-model", stream=True))
        assert response.status_code == 200 and response.headers["x-modelgraph-route"] == "gemini-model@prov-b"
        data = sse_data(response.content)
        assert data[-1] == "[DONE]" and not any('"error"' in d for d in data)

    def test_unavailable_503_rotates_to_another_provider(self, gemini, upstreams):
        gemini.server.configure(status=503)
        response = post(chat_body("gemini-model"))
        assert response.status_code == 200 and response.headers["x-modelgraph-route"] == "gemini-model@prov-b"
