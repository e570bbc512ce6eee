"""The fake OpenAI-compatible provider itself: what later issues (the gateway) can rely on."""

from __future__ import annotations

import json

import httpx
import pytest

from telemetry.conf import ProbeConfig
from telemetry.probes import LATENCY, ProbeTarget, probe_run


def chat(server, model="fake-model", stream=False, **extra) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream, **extra}
    return httpx.post(f"{server.url}/chat/completions", json=body, timeout=5)


class TestFakeProvider:
    def test_plain_json_completion_has_content_and_usage(self, fake_provider):
        fake_provider.configure(tokens=3)
        body = chat(fake_provider).json()
        assert body["object"] == "chat.completion"
        assert body["choices"][0]["message"]["content"] == "1 2 3"
        assert body["usage"]["completion_tokens"] == 3

    def test_stream_is_sse_chunks_then_done(self, fake_provider):
        fake_provider.configure(tokens=2)
        response = chat(fake_provider, stream=True, stream_options={"include_usage": True})
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line[6:] for line in response.text.split("\n\n") if line.startswith("data: ")]
        assert events[-1] == "[DONE]"
        chunks = [json.loads(event) for event in events[:-1]]
        assert [c["choices"][0]["delta"].get("content") for c in chunks[:2]] == ["1 ", "2 "]
        assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 2

    def test_models_are_listed_and_retrievable(self, fake_provider):
        fake_provider.configure(models=["a", "b"])
        assert [m["id"] for m in httpx.get(f"{fake_provider.url}/models").json()["data"]] == ["a", "b"]
        assert httpx.get(f"{fake_provider.url}/models/b").status_code == 200
        assert httpx.get(f"{fake_provider.url}/models/c").status_code == 404

    def test_rate_limit_carries_retry_after(self, fake_provider):
        fake_provider.configure(status=429, retry_after=7)
        response = chat(fake_provider)
        assert response.status_code == 429 and response.headers["retry-after"] == "7"

    def test_every_nth_request_fails_per_model(self, fake_provider):
        fake_provider.configure("flaky", error_every=3, error_status=503)
        statuses = [chat(fake_provider, model="flaky").status_code for _ in range(6)]
        assert statuses == [200, 200, 503, 200, 200, 503]
        assert chat(fake_provider, model="steady").status_code == 200

    def test_seeded_error_rate_is_reproducible(self, fake_provider):
        runs = []
        for _ in range(2):
            fake_provider.reset()
            fake_provider.configure(error_rate=0.5, seed=11)
            runs.append([chat(fake_provider).status_code for _ in range(20)])
        assert runs[0] == runs[1] and 0 < runs[0].count(500) < 20

    @pytest.mark.parametrize("count", [200])
    def test_serves_hundreds_of_concurrent_streams(self, fake_provider, count):
        fake_provider.configure(first_token_delay=0.2, tokens=4)
        targets = [
            ProbeTarget(
                kind=LATENCY,
                provider_id=1,
                mapping_id=i,
                label=str(i),
                base_url=fake_provider.url,
                api_key="k",
                model=f"m{i}",
            )
            for i in range(count)
        ]
        config = ProbeConfig(concurrency=count, timeout=30, connect_timeout=10, max_tokens=16, prompt="hi")
        results = probe_run(targets, config)
        assert {r.outcome for r in results} == {"success"}
        assert fake_provider.max_in_flight > count // 2  # they really were open at the same time
