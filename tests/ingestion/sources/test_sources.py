"""Source adapters against a real HTTP server on loopback replaying recorded responses and injecting faults."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from ingestion.sources import (
    SOURCES,
    HuggingFaceAdapter,
    SourceAdapter,
    SourceError,
    SourceErrorKind,
)
from ingestion.sources.base import CAPABILITIES, MODALITIES
from ingestion.sources.huggingface import parameters_from_name
from tests.ingestion.sources.support import ADAPTERS, FIELDS, FIRST_PATH, KEY, KEYED, failing, run

pytest_plugins = ["tests.replay.fixtures"]


def serve_openai_list(replay_server, data: list) -> None:
    """`GET /v1/models` answers an OpenAI-style list of `data`."""
    replay_server.route("GET", "/v1/models", json={"object": "list", "data": data})


class TestRegistry:
    def test_every_source_is_registered_under_its_name(self):
        from ingestion.sources import HTTP_SOURCES

        assert list(HTTP_SOURCES) == list(ADAPTERS)
        assert set(SOURCES) - set(HTTP_SOURCES) == {"openrouter"}  # reads the snapshot archive, not HTTP
        for name in HTTP_SOURCES:
            assert isinstance(SOURCES[name], SourceAdapter) and SOURCES[name].name == name

    def test_tiers_providers_and_key_references(self):
        keys = {name: adapter.key_env for name, adapter in SOURCES.items() if name != "openrouter"}
        assert keys == {
            "openai": "OPENAI_API_KEY",
            "anthropic": "ANTHROPIC_API_KEY",
            "google": "GEMINI_API_KEY",
            "mistral": "MISTRAL_API_KEY",
            "cohere": "CO_API_KEY",
            "xai": "XAI_API_KEY",
            "deprecations": None,
            "huggingface": "HF_TOKEN",
        }
        assert {name: a.tier for name, a in SOURCES.items()} == {
            **dict.fromkeys(KEYED, 1),
            "deprecations": 2,
            "huggingface": 3,
            "openrouter": 1,
        }
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
        serve_openai_list(
            replay_server,
            [
                {
                    "id": "ft:gpt-4o-mini-2024-07-18:acme::x1",
                    "object": "model",
                    "created": 1721260800,
                    "owned_by": "acme",
                },
                {"id": "gpt-4.5-preview", "object": "model", "created": 1740700800, "shutdown_date": "2025-07-14"},
            ],
        )
        (only,) = build("openai").fetch(client=client, base_url=replay_server.url, api_key=KEY)
        assert only.fields == {"release_date": "2025-02-28", "sunset_date": "2025-07-14", "status": "deprecated"}


class TestOddItems:
    def test_odd_items_and_values_are_skipped_not_fatal(self, build, replay_server, client):
        serve_openai_list(
            replay_server,
            [
                {"id": 5},
                "mistral-tiny",
                {
                    "id": "ok",
                    "capabilities": "yes",
                    "aliases": "x",
                    "max_context_length": "big",
                    "deprecation": "soon",
                },
            ],
        )
        (only,) = build("mistral").fetch(client=client, base_url=replay_server.url, api_key=KEY)
        assert (only.external_id, only.fields, only.aliases) == ("ok", {}, ())

    def test_a_page_of_nothing_but_odd_items_is_a_schema_change(self, build, replay_server, client):
        serve_openai_list(replay_server, [{"model": "gpt-4o"}])
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
            "name": "Claude Opus 4.1",
            "release_date": "2025-08-05",
            "context_window": 200000,
            "max_output": 32000,
            "capabilities": ["reasoning", "vision"],
            "input_modalities": ["text", "image", "pdf"],
        }
        assert found["claude-3-haiku-20240307"].fields["capabilities"] == ["vision"]

    def test_epoch_created_at_means_unknown(self, build, replay_server, client):
        replay_server.route(
            "GET",
            "/v1/models",
            json={
                "data": [
                    {"type": "model", "id": "claude-x", "display_name": "X", "created_at": "1970-01-01T00:00:00Z"},
                ],
                "has_more": False,
                "first_id": "claude-x",
                "last_id": "claude-x",
            },
        )
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
            "name": "Gemini 2.5 Pro",
            "description": "Stable release (June 17th, 2025) of Gemini 2.5 Pro",
            "context_window": 1048576,
            "max_output": 65536,
            "capabilities": ["reasoning", "temperature"],
        }
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
            "description": "Official mistral-large-2512 Mistral AI model",
            "context_window": 262144,
            "capabilities": ["tools", "vision"],
            "input_modalities": ["image", "text"],
        }
        assert found["mistral-medium-2312"].fields | {"description": None} == {
            "description": None,
            "context_window": 32000,
            "input_modalities": ["text"],
            "deprecation_date": "2024-11-30",
            "status": "deprecated",
            "successor": "mistral-medium-2604",
        }
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
            "context_window": 256000,
            "capabilities": ["structured_output", "tools"],
        }
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
            "release_date": "2025-04-04",
            "input_modalities": ["text"],
            "output_modalities": ["text"],
        }
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
            "status": "deprecated",
            "deprecation_date": "2025-11-18",
            "sunset_date": "2026-02-17",
            "successor": "gpt-5.1-chat-latest",
        }
        assert found[("anthropic", "claude-3-5-sonnet-20240620")].fields == {
            "status": "deprecated",
            "sunset_date": "2025-10-28",
            "successor": "claude-sonnet-4-5-20250929",
        }
        assert "successor" not in found[("amazon-bedrock", "Claude 3.7 Sonnet")].fields  # prose, not an id
        assert ("google-vertex", "Imagen 4 Preview models") in found and ("azure", "DeepSeek-V3") in found
        # one notice naming several Cohere ids is one observation per id
        assert {"command-r-03-2024", "command-r", "command-r-plus"} <= {i for p, i in found if p == "cohere"}
        native_audio = found[("google", "gemini-2.5-flash-native-audio-preview-09-2025")]
        assert "successor" not in native_audio.fields  # "replaced by itself"

    def test_the_older_feed_with_wordy_dates(self, build, replay_server, client, recorded_sources_dir):
        replay_server.route(
            "GET", "/d/v1/deprecations.json", file=recorded_sources_dir / "deprecations/v1_deprecations_2025-08-26.json"
        )
        found = build("deprecations").fetch(client=client, base_url=f"{replay_server.url}/d")
        by_id = {o.external_id: o for o in found}
        assert len(found) == 69  # 61 notices, four of which name several ids
        assert by_id["anthropic.claude-opus-4-20250514-v1:0"].fields == {
            "status": "deprecated",
            "deprecation_date": "2025-07-15",
            "sunset_date": "2026-01-15",
        }


class TestHuggingFace:
    def test_walks_every_lab_through_link_headers(self, build, replay_server, client):
        found = run(build("huggingface"), replay_server, client, key=None)
        pages = replay_server.requests_to("/api/models")
        assert len(pages) == 12 and len(found) == 68
        assert [p.param("author") for p in pages[::2]] == list(HuggingFaceAdapter.authors)
        assert pages[0].query["expand[]"] == [
            "createdAt",
            "tags",
            "safetensors",
            "cardData",
            "pipeline_tag",
            "library_name",
        ]
        assert pages[0].param("cursor") is None and pages[1].param("cursor")
        assert all("authorization" not in p.headers for p in pages)
        assert found["meta-llama/Llama-3.3-70B-Instruct"].fields == {
            "release_date": "2024-12-06",
            "canonical_url": "https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct",
            "license": "llama3.3",
            "open_weights": True,
            "parameters_total": 70553706496,
        }
        qwen = found["Qwen/Qwen3-235B-A22B"].fields
        assert (qwen["parameters_total"], qwen["parameters_active"]) == (235_000_000_000, 22_000_000_000)
        scout = found["meta-llama/Llama-4-Scout-17B-16E-Instruct"].fields
        assert scout["parameters_active"] == 17_000_000_000 and "parameters_total" not in scout
        assert scout["license"] == "llama4"  # "other" + the card's license_name
        mixtral = found["mistralai/Mixtral-8x7B-Instruct-v0.1"].fields
        assert mixtral["parameters_total"] == 46702792704 and "parameters_active" not in mixtral
        assert all(o.provider is None for o in found.values())

    def test_token_is_sent_and_licence_falls_back_to_the_card(self, build, replay_server, client):
        replay_server.route(
            "GET",
            "/api/models",
            json=[{"id": "Qwen/Qwen3-8B", "tags": ["safetensors"], "cardData": {"license": "apache-2.0"}}],
        )
        (only,) = build("huggingface", authors=("Qwen",)).fetch(client=client, base_url=replay_server.url, api_key=KEY)
        assert only.fields["license"] == "apache-2.0" and only.fields["parameters_total"] == 8_000_000_000
        assert replay_server.requests[0].headers["authorization"] == f"Bearer {KEY}"

    def test_a_next_link_to_another_host_is_refused(self, build, replay_server, client):
        replay_server.route(
            "GET",
            "/api/models",
            json=[{"id": "Qwen/Qwen3-8B"}],
            headers={"Link": '<https://evil.example/api/models?cursor=x>; rel="next"'},
        )
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
