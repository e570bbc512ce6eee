"""The in-process client: OpenAI's call shape over the same pipeline, sync and async."""

from __future__ import annotations

import pytest

from routing.client import AsyncGateway, Gateway, GatewayError
from routing.models import RequestLog
from tests.routing.conftest import run

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.django_db
class TestAsyncGateway:
    def test_completion(self, catalogue, upstreams):
        async def scenario():
            return await AsyncGateway().chat.completions.create(model="tool-use", messages=MESSAGES, max_tokens=3)

        answer = run(scenario)
        assert answer["object"] == "chat.completion" and answer["choices"][0]["message"]["content"] == "1 2 3"
        assert RequestLog.objects.get().requested == "tool-use"

    def test_stream(self, catalogue, upstreams):
        async def scenario():
            chunks = await AsyncGateway().chat.completions.create(model="chat-model", messages=MESSAGES, stream=True)
            return [chunk async for chunk in chunks]

        chunks = run(scenario)
        assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == "1 2 3 4 5 "

    @pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "bare-cr"])
    def test_a_stream_with_any_sse_line_ending_is_relayed_whole(self, catalogue, upstreams, ending):
        upstreams.a.configure(line_ending=ending)

        async def scenario():
            chunks = await AsyncGateway().chat.completions.create(
                model="chat-model@prov-a", messages=MESSAGES, stream=True
            )
            return [chunk async for chunk in chunks]

        chunks = run(scenario)
        assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == "1 2 3 4 5 "
        assert RequestLog.objects.get().outcome != "stream_error"  # a missing [DONE] would have been one

    def test_a_stream_failing_after_its_first_chunk_raises(self, catalogue, upstreams):
        upstreams.a.configure(cut_after=1)

        async def scenario():
            chunks = await AsyncGateway().chat.completions.create(
                model="chat-model@prov-a", messages=MESSAGES, stream=True
            )
            seen = []
            with pytest.raises(GatewayError) as caught:
                async for chunk in chunks:
                    seen.append(chunk)
            return seen, caught.value

        seen, error = run(scenario)
        assert len(seen) == 1 and error.code == "stream_interrupted"

    def test_errors_raise_with_the_http_status(self, catalogue):
        async def scenario():
            await AsyncGateway().chat.completions.create(model="nope", messages=MESSAGES)

        with pytest.raises(GatewayError) as caught:
            run(scenario)
        assert caught.value.status == 404 and caught.value.code == "model_not_found"


@pytest.mark.django_db(transaction=True)
class TestSyncGateway:
    def test_completion_and_stream(self, catalogue, upstreams):
        client = Gateway()
        try:
            answer = client.chat.completions.create(model="chat-model@prov-c", messages=MESSAGES)
            assert answer["choices"][0]["message"]["content"] == "1 2 3 4 5"
            chunks = list(client.chat.completions.create(model="chat-model@prov-c", messages=MESSAGES, stream=True))
            assert chunks[0]["object"] == "chat.completion.chunk" and len(chunks) == 6
            with pytest.raises(GatewayError):
                client.chat.completions.create(model="chat-model", messages=[])
        finally:
            client.close()
        assert RequestLog.objects.count() == 2
