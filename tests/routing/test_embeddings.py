"""/v1/embeddings through the gateway's pipeline: the `embeddings` capability or a model, OpenAI-compatible upstreams
passed through, Gemini's batchEmbedContents translated, retries and rotation as for chat, bad input a 400."""

from __future__ import annotations

import base64
import json
import struct
from decimal import Decimal
from types import SimpleNamespace

import httpx
import pytest
from django.test import AsyncClient

from routing.models import ApiFamily, Outcome, ProviderConnector, RequestLog
from tests import recipes
from tests.routing.conftest import chat_body, run
from tests.routing.native_fakes import FakeAnthropicServer, FakeGeminiServer

GEMINI_KEY = "gemini-embed-key-0123456789"


@pytest.fixture(scope="module")
def gemini_server():
    server = FakeGeminiServer(key=GEMINI_KEY).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def anthropic_server():
    server = FakeAnthropicServer(key="unused").start()
    yield server
    server.stop()


@pytest.fixture
def embedders(db, upstreams, tree, gemini_server, anthropic_server, monkeypatch):
    """`embed-model` (catalogue capability `embeddings`) at prov-a (OpenAI, dearest), prov-c (OpenAI, cheapest),
    google-embed (Gemini, middle); `chat-only` is a text model at an Anthropic provider, which has no embeddings."""
    monkeypatch.setenv("GEMINI_EMBED_API_KEY", GEMINI_KEY)
    gemini_server.reset()
    prov_a = recipes.openai_compatible_provider.make(
        slug="prov-a", api_base_url=upstreams.a.url, api_key_env="PROVIDER_A_TEST_API_KEY"
    )
    prov_c = recipes.openai_compatible_provider.make(slug="prov-c", api_base_url=upstreams.c.url, api_key_env="")
    google = recipes.provider.make(
        slug="google-embed", api_base_url=gemini_server.base_url, api_key_env="GEMINI_EMBED_API_KEY"
    )
    ProviderConnector.objects.create(provider=google, api=ApiFamily.GEMINI)
    anthropic = recipes.provider.make(slug="anthropic-embed", api_base_url=anthropic_server.base_url, api_key_env="")
    ProviderConnector.objects.create(provider=anthropic, api=ApiFamily.ANTHROPIC)
    model = recipes.model.make(
        slug="embed-model", capabilities=["embeddings"], input_modalities=["text"], output_modalities=["embeddings"]
    )
    chat_only = recipes.text_model.make(slug="chat-only")
    for provider, price, pmid in (
        (prov_a, "3", "embed-a"),
        (prov_c, "0.5", "embed-c"),
        (google, "1", "text-embedding-004"),
    ):
        recipes.offer.make(provider=provider, model=model, provider_model_id=pmid, price_input=Decimal(price))
    recipes.offer.make(provider=anthropic, model=chat_only, provider_model_id="claude-x")
    return SimpleNamespace(gemini=gemini_server, model=model)


async def post(body, path="/v1/embeddings"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return await AsyncClient().post(path, data=data, content_type="application/json")


def error_of(response) -> dict:
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)["error"]


@pytest.mark.django_db
class TestServing:
    def test_the_capability_is_served_by_an_openai_compatible_member_passed_through(self, embedders, upstreams):
        response = run(post, {"model": "embeddings", "input": ["hello", "hi"]})
        assert response.status_code == 200, response.content
        body = json.loads(response.content)
        assert body["object"] == "list" and [d["index"] for d in body["data"]] == [0, 1]
        assert body["data"][0]["embedding"] == [0.5, 0.25, 0.5]
        assert response["X-ModelGraph-Route"] == "embed-model@prov-c"  # the cheapest
        sent = upstreams.c.requests[-1]
        assert sent["path"] == "/v1/embeddings" and sent["json"] == {"model": "embed-c", "input": ["hello", "hi"]}
        log = RequestLog.objects.get()
        assert log.outcome == Outcome.SUCCESS and log.prompt_tokens == 7 and log.capability.slug == "embeddings"

    def test_gemini_is_asked_with_batch_embed_contents_and_answers_in_openai_shape(self, embedders):
        response = run(post, {"model": "embed-model@google-embed", "input": ["abc", "abcdef"], "dimensions": 2})
        assert response.status_code == 200, response.content
        body = json.loads(response.content)
        assert [d["embedding"] for d in body["data"]] == [[0.3, 0.5], [0.6, 0.5]]
        sent = embedders.gemini.requests[-1]
        assert sent["path"] == "/v1beta/models/text-embedding-004:batchEmbedContents"
        assert sent["headers"]["x-goog-api-key"] == GEMINI_KEY
        assert sent["json"]["requests"][0] == {
            "model": "models/text-embedding-004",
            "content": {"parts": [{"text": "abc"}]},
            "outputDimensionality": 2,
        }

    def test_base64_encoding_packs_little_endian_floats(self, embedders):
        response = run(post, {"model": "embed-model@google-embed", "input": "abcd", "encoding_format": "base64"})
        encoded = json.loads(response.content)["data"][0]["embedding"]
        assert struct.unpack("<3f", base64.b64decode(encoded)) == pytest.approx((0.4, 0.5, 0.5))

    def test_a_failing_member_is_rotated_like_a_chat_request(self, embedders, upstreams):
        upstreams.c.configure(status=500)
        response = run(post, {"model": "embeddings", "input": "hello"})
        assert response.status_code == 200 and response["X-ModelGraph-Route"] == "embed-model@google-embed"
        assert RequestLog.objects.get().attempts == 2

    def test_a_provider_without_embeddings_is_never_tried(self, embedders, anthropic_server):
        anthropic_server.reset()
        response = run(post, {"model": "chat-only", "input": "hello"})
        assert response.status_code == 503
        assert error_of(response)["code"] == "no_available_provider"
        assert anthropic_server.requests == []

    def test_a_chat_capability_is_refused_here_and_embeddings_is_refused_for_chat(self, embedders):
        response = run(post, {"model": "text-generation", "input": "hello"})
        assert response.status_code == 400 and error_of(response)["param"] == "model"
        assert "/v1/chat/completions" in error_of(response)["message"]
        response = run(post, chat_body("embeddings"), "/v1/chat/completions")
        assert response.status_code == 400 and "/v1/embeddings" in error_of(response)["message"]


@pytest.mark.django_db
class TestBadInput:
    @pytest.mark.parametrize(
        ("body", "param"),
        [
            ({"input": "x"}, "model"),
            ({"model": "embeddings"}, "input"),
            ({"model": "embeddings", "input": ""}, "input"),
            ({"model": "embeddings", "input": []}, "input"),
            ({"model": "embeddings", "input": ["ok", 3]}, "input[1]"),
            ({"model": "embeddings", "input": ["ok", ""]}, "input[1]"),
            ({"model": "embeddings", "input": {"text": "x"}}, "input"),
            ({"model": "embeddings", "input": "x", "encoding_format": "int8"}, "encoding_format"),
            ({"model": "embeddings", "input": "x", "dimensions": 0}, "dimensions"),
            ({"model": "embeddings", "input": "x", "dimensions": "3"}, "dimensions"),
            ({"model": "embeddings", "input": "x", "user": 5}, "user"),
            ({"model": "emb\x00", "input": "x"}, "model"),
        ],
    )
    def test_a_bad_field_is_a_400_naming_it_and_nothing_is_sent(self, embedders, upstreams, body, param):
        response = run(post, body)
        assert response.status_code == 400
        assert error_of(response)["param"] == param
        assert upstreams.c.requests == [] and not RequestLog.objects.exists()

    @pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "[" * 200 + "]" * 200])
    def test_a_body_that_is_not_a_json_object_is_a_400(self, embedders, raw):
        response = run(post, raw)
        assert response.status_code == 400 and error_of(response)["code"] == "invalid_json"

    def test_an_unknown_model_is_a_404_and_get_is_a_405(self, embedders):
        response = run(post, {"model": "no-such-embedder", "input": "x"})
        assert response.status_code == 404 and error_of(response)["param"] == "model"
        response = run(AsyncClient().get, "/v1/embeddings")
        assert response.status_code == 405 and response["Allow"] == "POST"

    def test_token_arrays_go_to_openai_compatible_upstreams_but_not_to_gemini(self, embedders, upstreams):
        assert run(post, {"model": "embed-model@prov-c", "input": [[1, 2, 3]]}).status_code == 200
        response = run(post, {"model": "embed-model@google-embed", "input": [1, 2, 3]})
        assert response.status_code == 400 and error_of(response)["param"] == "input"
        assert embedders.gemini.requests == []


@pytest.mark.django_db(transaction=True)
def test_the_live_gateway_serves_embeddings_on_both_lanes(embedders, live_gateway):
    with httpx.Client(base_url=live_gateway.url, timeout=10) as client:
        response = client.post("/v1/embeddings", json={"model": "embeddings", "input": "hello"})
        bad = client.post("/v1/embeddings", json={"model": "embeddings", "input": None})
    assert response.status_code == 200 and response.json()["data"][0]["embedding"] == [0.5, 0.25, 0.5]
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/json")
    assert bad.json()["error"]["param"] == "input"
