"""Source adapters against a real HTTP server on loopback replaying recorded responses and injecting faults."""

from __future__ import annotations

import logging
import re
import time

import httpx
import pytest

from ingestion.sources import (
    SOURCES,
    AnthropicAdapter,
    CohereAdapter,
    DeprecationsAdapter,
    GoogleAdapter,
    HuggingFaceAdapter,
    MistralAdapter,
    OpenAIAdapter,
    RetryPolicy,
    SourceAdapter,
    SourceError,
    SourceErrorKind,
    XAIAdapter,
    make_client,
)
from ingestion.sources.base import CAPABILITIES, MODALITIES
from ingestion.sources.http import retry_after_seconds
from ingestion.sources.huggingface import parameters_from_name

pytest_plugins = ["tests.replay.fixtures"]

KEY = "sk-test-5f3c9a1e77d04b2b"
ADAPTERS = {
    "openai": OpenAIAdapter,
    "anthropic": AnthropicAdapter,
    "google": GoogleAdapter,
    "mistral": MistralAdapter,
    "cohere": CohereAdapter,
    "xai": XAIAdapter,
    "deprecations": DeprecationsAdapter,
    "huggingface": HuggingFaceAdapter,
}
KEYED = [name for name, cls in ADAPTERS.items() if cls.key_required]
FIRST_PATH = {"xai": "/v1/models", "google": "/v1beta/models", "deprecations": "/v1/deprecations.json",
              "huggingface": "/api/models"}  # fmt: skip
FIELDS = {"name", "release_date", "status", "deprecation_date", "sunset_date", "successor", "context_window",
          "max_output", "input_modalities", "output_modalities", "capabilities", "open_weights", "parameters_total",
          "parameters_active", "license", "canonical_url", "description"}  # fmt: skip


@pytest.fixture(autouse=True)
def _clear_cache():
    """These tests touch neither the cache nor the database: replace the project-wide cache reset."""
    yield


@pytest.fixture
def client():
    with make_client(timeout=5.0) as http_client:
        yield http_client


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def build(sleeps):
    """An adapter with fast retries (3 tries, waits recorded instead of slept) and a short timeout."""

    def _build(name: str, **attributes):
        retry = RetryPolicy(
            attempts=3, backoff=0.01, backoff_max=0.02, retry_after_max=0.05, jitter=0, sleep=sleeps.append
        )
        adapter = ADAPTERS[name](retry=retry, timeout=attributes.pop("timeout", 2.0))
        for key, value in attributes.items():
            setattr(adapter, key, value)
        return adapter

    return _build


def run(adapter, server, client, *, key: str | None = KEY, **kwargs):
    """Fetch from the source's recorded routes (mounted here unless the test mounted them to add faults)."""
    base_url = server.url if server.routes() else server.mount(adapter.name)
    found = adapter.fetch(client=client, base_url=base_url, api_key=key, **kwargs)
    return {(o.provider, o.external_id) if o.source == "deprecations" else o.external_id: o for o in found}


def failing(adapter, server, client, *, key: str | None = KEY) -> SourceError:
    with pytest.raises(SourceError) as caught:
        adapter.fetch(client=client, base_url=server.url, api_key=key)
    return caught.value


class TestRegistry:
    def test_every_source_is_registered_under_its_name(self):
        from ingestion.sources import HTTP_SOURCES

        assert list(HTTP_SOURCES) == list(ADAPTERS)
        assert set(SOURCES) - set(HTTP_SOURCES) == {"openrouter"}  # reads the snapshot archive, not HTTP
        for name in HTTP_SOURCES:
            assert isinstance(SOURCES[name], SourceAdapter) and SOURCES[name].name == name

    def test_tiers_providers_and_key_references(self):
        keys = {name: adapter.key_env for name, adapter in SOURCES.items() if name != "openrouter"}
        assert keys == {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "google": "GEMINI_API_KEY",
                        "mistral": "MISTRAL_API_KEY", "cohere": "CO_API_KEY", "xai": "XAI_API_KEY",
                        "deprecations": None, "huggingface": "HF_TOKEN"}  # fmt: skip
        assert {name: a.tier for name, a in SOURCES.items()} == {**dict.fromkeys(KEYED, 1), "deprecations": 2,
                                                                 "huggingface": 3, "openrouter": 1}  # fmt: skip
        assert all(SOURCES[name].provider == name for name in KEYED)


class TestOpenAI:
    def test_lists_every_model_with_its_release_date_and_bearer_key(self, build, replay_server, client):
        found = run(build("openai"), replay_server, client)
        assert len(found) == 123
        assert found["gpt-4o-2024-08-06"].fields == {"release_date": "2024-08-06"}
        assert found["gpt-4o-2024-08-06"].provider == "openai"
        (request,) = replay_server.requests
        assert request.headers["authorization"] == f"Bearer {KEY}"

    def test_fine_tunes_are_skipped_and_a_shutdown_date_is_a_sunset(self, build, replay_server, client):
        replay_server.route("GET", "/v1/models", json={"object": "list", "data": [
            {"id": "ft:gpt-4o-mini-2024-07-18:acme::x1", "object": "model", "created": 1721260800, "owned_by": "acme"},
            {"id": "gpt-4.5-preview", "object": "model", "created": 1740700800, "shutdown_date": "2025-07-14"},
        ]})  # fmt: skip
        (only,) = build("openai").fetch(client=client, base_url=replay_server.url, api_key=KEY)
        assert only.fields == {"release_date": "2025-02-28", "sunset_date": "2025-07-14", "status": "deprecated"}


class TestOddItems:
    def test_odd_items_and_values_are_skipped_not_fatal(self, build, replay_server, client):
        replay_server.route("GET", "/v1/models", json={"object": "list", "data": [
            {"id": 5}, "mistral-tiny",
            {"id": "ok", "capabilities": "yes", "aliases": "x", "max_context_length": "big", "deprecation": "soon"},
        ]})  # fmt: skip
        (only,) = build("mistral").fetch(client=client, base_url=replay_server.url, api_key=KEY)
        assert (only.external_id, only.fields, only.aliases) == ("ok", {}, ())

    def test_a_page_of_nothing_but_odd_items_is_a_schema_change(self, build, replay_server, client):
        replay_server.route("GET", "/v1/models", json={"object": "list", "data": [{"model": "gpt-4o"}]})
        error = failing(build("openai"), replay_server, client)
        assert error.kind == SourceErrorKind.SCHEMA and "none of the 1 items has a string 'id'" in error.message


class TestAnthropic:
    def test_follows_the_cursor_with_version_header(self, build, replay_server, client):
        found = run(build("anthropic", page_size=10), replay_server, client)
        assert len(found) == 19
        first, second = replay_server.requests_to("/v1/models")
        assert first.param("after_id") is None and first.param("limit") == "10"
        assert second.param("after_id") == "claude-opus-4-1-20250805"
        assert {first.headers["x-api-key"], second.headers["anthropic-version"]} == {KEY, "2023-06-01"}
        assert "authorization" not in first.headers
        assert found["claude-opus-4-1-20250805"].fields == {
            "name": "Claude Opus 4.1", "release_date": "2025-08-05", "context_window": 200000, "max_output": 32000,
            "capabilities": ["reasoning", "vision"], "input_modalities": ["text", "image", "pdf"],
        }  # fmt: skip
        assert found["claude-3-haiku-20240307"].fields["capabilities"] == ["vision"]

    def test_epoch_created_at_means_unknown(self, build, replay_server, client):
        replay_server.route("GET", "/v1/models", json={"data": [
            {"type": "model", "id": "claude-x", "display_name": "X", "created_at": "1970-01-01T00:00:00Z"},
        ], "has_more": False, "first_id": "claude-x", "last_id": "claude-x"})  # fmt: skip
        (only,) = build("anthropic").fetch(client=client, base_url=replay_server.url, api_key=KEY)
        assert only.fields == {"name": "X"}

    def test_has_more_without_a_cursor_is_a_schema_error(self, build, replay_server, client):
        replay_server.route("GET", "/v1/models", json={"data": [], "has_more": True})
        error = failing(build("anthropic"), replay_server, client)
        assert error.kind == SourceErrorKind.SCHEMA and "last_id" in error.message


class TestGoogle:
    def test_reads_both_real_pages_with_the_key_in_a_header(self, build, replay_server, client):
        found = run(build("google"), replay_server, client)
        first, second = replay_server.requests_to("/v1beta/models")
        assert first.param("pageToken") is None and first.param("pageSize") == "50"
        assert second.param("pageToken") == "Ch9tb2RlbHMvdmVvLTMuMS1nZW5lcmF0ZS1wcmV2aWV3"
        assert all(r.headers["x-goog-api-key"] == KEY and "key" not in r.query for r in (first, second))
        assert len(found) == 65  # 50 + 45, less the 30 ids both real pages carry
        assert found["gemini-2.5-pro"].fields == {
            "name": "Gemini 2.5 Pro", "description": "Stable release (June 17th, 2025) of Gemini 2.5 Pro",
            "context_window": 1048576, "max_output": 65536, "capabilities": ["reasoning", "temperature"],
        }  # fmt: skip
        assert found["gemini-3-pro-preview"].fields["status"] == "preview"
        assert found["gemini-embedding-001"].fields["capabilities"] == ["embeddings"]
        assert found["gemma-3-27b-it"].fields["name"] == "Gemma 3 27B"  # only on page 2


class TestMistral:
    def test_aliases_capabilities_and_deprecations(self, build, replay_server, client):
        found = run(build("mistral"), replay_server, client)
        assert len(found) == 56
        large = found["mistral-large-2512"]
        assert large.aliases == ("mistral-large-latest",)
        assert large.fields == {
            "description": "Official mistral-large-2512 Mistral AI model", "context_window": 262144,
            "capabilities": ["tools", "vision"], "input_modalities": ["image", "text"],
        }  # fmt: skip
        assert found["mistral-medium-2312"].fields | {"description": None} == {
            "description": None, "context_window": 32000, "input_modalities": ["text"],
            "deprecation_date": "2024-11-30", "status": "deprecated", "successor": "mistral-medium-2604",
        }  # fmt: skip
        # `created` is the request time on every entry: never a release date
        assert not any("release_date" in o.fields for o in found.values())


class TestCohere:
    def test_follows_page_tokens_and_reads_features(self, build, replay_server, client):
        found = run(build("cohere"), replay_server, client)
        first, second = replay_server.requests_to("/v1/models")
        assert first.param("page_token") is None and second.param("page_token")
        assert first.headers["authorization"] == f"Bearer {KEY}"
        assert len(found) == 35
        assert found["command-a-03-2025"].fields == {
            "context_window": 256000, "capabilities": ["structured_output", "tools"],
        }  # fmt: skip
        assert found["command-r-plus"].fields["status"] == "deprecated"
        assert found["command-a-vision-07-2025"].fields["capabilities"] == ["vision"]
        assert found["embed-english-v3.0"].fields == {"context_window": 1024, "capabilities": ["embeddings"]}


class TestXAI:
    def test_language_models_enrich_the_plain_listing(self, build, replay_server, client):
        found = run(build("xai"), replay_server, client)
        assert [r.path for r in replay_server.requests] == ["/v1/models", "/v1/language-models"]
        assert len(found) == 17
        assert found["grok-3"].aliases == ("grok-3-latest", "grok-3-beta")
        assert found["grok-3"].fields == {
            "release_date": "2025-04-04", "input_modalities": ["text"], "output_modalities": ["text"],
        }  # fmt: skip
        assert found["grok-2-vision-1212"].fields["capabilities"] == ["vision"]
        assert found["grok-imagine-video"].fields == {"release_date": "2026-01-28"}  # not a language model

    def test_a_failed_enrichment_keeps_the_listing_as_partial(self, build, replay_server, client):
        base_url = replay_server.mount("xai")
        replay_server.fault("status", path="/v1/language-models", status=502)
        with pytest.raises(SourceError) as caught:
            build("xai").fetch(client=client, base_url=base_url, api_key=KEY)
        assert caught.value.kind == SourceErrorKind.HTTP and len(caught.value.partial) == 17


class TestDeprecations:
    def test_maps_the_real_feed(self, build, replay_server, client):
        found = run(build("deprecations"), replay_server, client, key=None)
        assert "authorization" not in replay_server.requests[0].headers
        assert found[("openai", "chatgpt-4o-latest")].fields == {
            "status": "deprecated", "deprecation_date": "2025-11-18", "sunset_date": "2026-02-17",
            "successor": "gpt-5.1-chat-latest",
        }  # fmt: skip
        assert found[("anthropic", "claude-3-5-sonnet-20240620")].fields == {
            "status": "deprecated", "sunset_date": "2025-10-28", "successor": "claude-sonnet-4-5-20250929",
        }  # fmt: skip
        assert "successor" not in found[("amazon-bedrock", "Claude 3.7 Sonnet")].fields  # prose, not an id
        assert ("google-vertex", "Imagen 4 Preview models") in found and ("azure", "DeepSeek-V3") in found
        # one notice naming several Cohere ids is one observation per id
        assert {"command-r-03-2024", "command-r", "command-r-plus"} <= {i for p, i in found if p == "cohere"}
        native_audio = found[("google", "gemini-2.5-flash-native-audio-preview-09-2025")]
        assert "successor" not in native_audio.fields  # "replaced by itself"

    def test_the_older_feed_with_wordy_dates(self, build, replay_server, client, recorded_sources_dir):
        replay_server.route("GET", "/d/v1/deprecations.json",
                            file=recorded_sources_dir / "deprecations/v1_deprecations_2025-08-26.json")  # fmt: skip
        found = build("deprecations").fetch(client=client, base_url=f"{replay_server.url}/d")
        by_id = {o.external_id: o for o in found}
        assert len(found) == 69  # 61 notices, four of which name several ids
        assert by_id["anthropic.claude-opus-4-20250514-v1:0"].fields == {
            "status": "deprecated", "deprecation_date": "2025-07-15", "sunset_date": "2026-01-15",
        }  # fmt: skip


class TestHuggingFace:
    def test_walks_every_lab_through_link_headers(self, build, replay_server, client):
        found = run(build("huggingface"), replay_server, client, key=None)
        pages = replay_server.requests_to("/api/models")
        assert len(pages) == 12 and len(found) == 68
        assert [p.param("author") for p in pages[::2]] == list(HuggingFaceAdapter.authors)
        assert pages[0].query["expand[]"] == ["createdAt", "tags", "safetensors", "cardData", "pipeline_tag",
                                              "library_name"]  # fmt: skip
        assert pages[0].param("cursor") is None and pages[1].param("cursor")
        assert all("authorization" not in p.headers for p in pages)
        assert found["meta-llama/Llama-3.3-70B-Instruct"].fields == {
            "release_date": "2024-12-06", "canonical_url": "https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct",
            "license": "llama3.3", "open_weights": True, "parameters_total": 70553706496,
        }  # fmt: skip
        qwen = found["Qwen/Qwen3-235B-A22B"].fields
        assert (qwen["parameters_total"], qwen["parameters_active"]) == (235_000_000_000, 22_000_000_000)
        scout = found["meta-llama/Llama-4-Scout-17B-16E-Instruct"].fields
        assert scout["parameters_active"] == 17_000_000_000 and "parameters_total" not in scout
        assert scout["license"] == "llama4"  # "other" + the card's license_name
        mixtral = found["mistralai/Mixtral-8x7B-Instruct-v0.1"].fields
        assert mixtral["parameters_total"] == 46702792704 and "parameters_active" not in mixtral
        assert all(o.provider is None for o in found.values())

    def test_token_is_sent_and_licence_falls_back_to_the_card(self, build, replay_server, client):
        replay_server.route("GET", "/api/models", json=[{"id": "Qwen/Qwen3-8B", "tags": ["safetensors"],
                                                         "cardData": {"license": "apache-2.0"}}])  # fmt: skip
        (only,) = build("huggingface", authors=("Qwen",)).fetch(client=client, base_url=replay_server.url, api_key=KEY)
        assert only.fields["license"] == "apache-2.0" and only.fields["parameters_total"] == 8_000_000_000
        assert replay_server.requests[0].headers["authorization"] == f"Bearer {KEY}"

    def test_a_next_link_to_another_host_is_refused(self, build, replay_server, client):
        replay_server.route("GET", "/api/models", json=[{"id": "Qwen/Qwen3-8B"}],
                            headers={"Link": '<https://evil.example/api/models?cursor=x>; rel="next"'})  # fmt: skip
        error = failing(build("huggingface", authors=("Qwen",)), replay_server, client)
        assert error.kind == SourceErrorKind.SCHEMA and "evil.example" in error.message
        assert [o.external_id for o in error.partial] == ["Qwen/Qwen3-8B"] and len(replay_server.requests) == 1

    @pytest.mark.parametrize(
        ("model_id", "expected"),
        [
            ("meta-llama/Llama-3.3-70B-Instruct", {"parameters_total": 70 * 10**9}),
            ("Qwen/Qwen3-30B-A3B", {"parameters_total": 30 * 10**9, "parameters_active": 3 * 10**9}),
            ("Qwen/Qwen3-0.6B", {"parameters_total": 600_000_000}),
            ("meta-llama/Llama-4-Maverick-17B-128E-Instruct", {"parameters_active": 17 * 10**9}),
            ("mistralai/Mixtral-8x22B-Instruct-v0.1", {}),
            ("google/gemma-3n-E4B-it", {}),
            ("deepseek-ai/DeepSeek-V3", {}),
            ("google/gemma-2-27b-it", {"parameters_total": 27 * 10**9}),
        ],
    )
    def test_parameter_counts_from_names(self, model_id, expected):
        assert parameters_from_name(model_id) == expected


class TestEverySource:
    @pytest.mark.parametrize("name", list(ADAPTERS))
    def test_observations_use_catalogue_terms_only(self, name, build, replay_server, client):
        counts = []
        found = run(build(name), replay_server, client, progress=counts.append)
        assert counts and counts == sorted(counts) and counts[-1] == len(found)
        for observation in found.values():
            fields = observation.fields
            assert observation.source == name and set(fields) <= FIELDS, fields
            assert set(fields.get("input_modalities", [])) | set(fields.get("output_modalities", [])) <= MODALITIES
            assert set(fields.get("capabilities", [])) <= CAPABILITIES
            assert fields.get("status", "active") in {"active", "preview", "deprecated", "retired"}
            for key in ("release_date", "deprecation_date", "sunset_date"):
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", fields.get(key, "2000-01-01"))

    @pytest.mark.parametrize("name", KEYED)
    def test_no_key_means_not_configured_before_any_request(self, name, build, replay_server, client):
        error = failing(build(name), replay_server, client, key=None)
        assert error.kind == SourceErrorKind.NOT_CONFIGURED and ADAPTERS[name].key_env in error.message
        assert replay_server.requests == []

    @pytest.mark.parametrize("name", KEYED + ["huggingface"])
    def test_a_refused_key_is_an_auth_error_that_never_shows_the_key(self, name, build, replay_server, client, caplog):
        replay_server.mount(name)
        echo = {"error": {"message": f"Incorrect API key provided: {KEY}", "type": "invalid_request_error"}}
        replay_server.fault("status", status=401, body=echo)
        caplog.set_level(logging.DEBUG)
        error = failing(build(name), replay_server, client)
        assert error.kind == SourceErrorKind.AUTH and error.status_code == 401
        assert len(replay_server.requests) == 1  # no retry
        assert error.message.startswith(f"{name}: GET {FIRST_PATH.get(name, '/v1/models')}: HTTP 401")
        assert KEY not in f"{error} {error.message} {error!r} {error.args} {caplog.text}"

    def test_redirects_are_never_followed_even_by_an_eager_client(self, build, replay_server):
        replay_server.route("GET", "/v1/models", status=302, body=b"", headers={"Location": "http://evil.example/"})
        with httpx.Client(follow_redirects=True) as eager:
            error = failing(build("anthropic"), replay_server, eager)
        assert error.kind == SourceErrorKind.HTTP and "unexpected redirect (HTTP 302)" in error.message

    def test_an_echoed_key_in_another_error_body_is_redacted(self, build, replay_server, client):
        replay_server.route("GET", "/v1/models", status=404, json={"error": f"no such key {KEY}"})
        error = failing(build("openai"), replay_server, client)
        assert error.kind == SourceErrorKind.HTTP and KEY not in error.message and "[redacted]" in error.message


FAULTS = [  # (fault, options, kind, words in the message, attempts made)
    ("timeout", {"seconds": 3}, SourceErrorKind.TIMEOUT, "no response within 0.2s", 3),
    ("status", {"status": 429, "retry_after": "1"}, SourceErrorKind.RATE_LIMITED, "HTTP 429, Retry-After 1s", 3),
    ("status", {"status": 500}, SourceErrorKind.HTTP, "HTTP 500", 3),
    ("malformed", {}, SourceErrorKind.MALFORMED, "not valid JSON", 1),
    ("truncated", {"mode": "length"}, SourceErrorKind.MALFORMED, "truncated", 3),
    ("truncated", {"mode": "cut"}, SourceErrorKind.MALFORMED, "truncated", 1),
    ("schema_change", {}, SourceErrorKind.SCHEMA, "unexpected response shape", 1),
]


class TestFaults:
    @pytest.mark.parametrize("name", list(ADAPTERS))
    @pytest.mark.parametrize(("fault", "options", "kind", "words", "attempts"), FAULTS, ids=lambda v: str(v)[:18])
    def test_each_fault_is_a_clear_typed_error(self, name, fault, options, kind, words, attempts, build, replay_server,
                                               client, sleeps):  # fmt: skip
        replay_server.mount(name)
        replay_server.fault(fault, **options)
        error = failing(build(name, timeout=0.2), replay_server, client)
        assert error.kind == kind and words in error.message
        assert error.message.startswith(f"{name}: GET {FIRST_PATH.get(name, '/v1/models')}")
        assert error.partial == [] and KEY not in str(error)
        assert len(replay_server.requests) == attempts
        if fault == "status" and options["status"] == 429:
            assert sleeps == [0.05, 0.05]  # Retry-After honoured up to the configured cap

    def test_a_passing_rate_limit_is_waited_out(self, build, replay_server, client, sleeps):
        replay_server.mount("openai")
        replay_server.fault("status", status=429, retry_after="0.02", times=1)
        assert len(run(build("openai"), replay_server, client)) == 123
        assert sleeps == [0.02] and len(replay_server.requests) == 3 - 1

    def test_a_passing_server_error_is_retried_with_backoff(self, build, replay_server, client, sleeps):
        replay_server.mount("cohere")
        replay_server.fault("status", path="/v1/models", query={"page_token": None}, status=503, times=2)
        assert len(run(build("cohere"), replay_server, client)) == 35
        assert sleeps == [0.01, 0.02]

    @pytest.mark.parametrize(
        ("name", "second_page", "kept"),
        [
            ("anthropic", {"after_id": "claude-opus-4-1-20250805"}, 10),
            ("cohere", {"page_token": "eyJhZnRlciI6ICJjb21tYW5kLXI3Yi0xMi0yMDI0In0="}, 20),
            ("google", {"pageToken": "Ch9tb2RlbHMvdmVvLTMuMS1nZW5lcmF0ZS1wcmV2aWV3"}, 50),
        ],
    )
    def test_a_failing_second_page_keeps_the_first_as_partial(self, name, second_page, kept, build, replay_server,
                                                               client):  # fmt: skip
        replay_server.mount(name)
        (route,) = replay_server.fault("status", query=second_page, status=500)
        error = failing(build(name, page_size=10), replay_server, client)
        assert error.kind == SourceErrorKind.HTTP and "gave up after 3 attempts" in error.message
        assert len(error.partial) == kept and route.hits == 3
        assert all(o.source == name for o in error.partial)

    def test_a_failing_lab_keeps_the_labs_read_before_it(self, build, replay_server, client):
        replay_server.mount("huggingface")
        replay_server.fault("malformed", query={"author": "CohereForAI", "cursor": None})
        error = failing(build("huggingface"), replay_server, client, key=None)
        assert error.kind == SourceErrorKind.MALFORMED
        assert {o.external_id.split("/")[0] for o in error.partial} == {"meta-llama", "mistralai"}


class TestReplayServer:
    def test_latency_applies_to_every_request(self, build, replay_server, client):
        replay_server.latency = 0.05
        started = time.monotonic()
        run(build("anthropic", page_size=10), replay_server, client)
        assert time.monotonic() - started >= 0.1

    def test_an_unknown_route_is_a_404(self, build, replay_server, client):
        error = failing(build("openai"), replay_server, client)
        assert error.kind == SourceErrorKind.HTTP and "HTTP 404" in error.message

    def test_retry_after_as_an_http_date(self):
        assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
        assert retry_after_seconds("2") == 2.0 and retry_after_seconds("soon") is None
