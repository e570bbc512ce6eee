"""The production probes against a real OpenAI-compatible server on loopback: what each answer counts as."""

from __future__ import annotations

import pytest

from telemetry.classification import ErrorClass, Outcome
from telemetry.models import HealthCheck, LatencySample
from telemetry.probes import HEALTH, LATENCY
from telemetry.services import telemetry_probe_round
from tests.telemetry.conftest import KEY

pytestmark = pytest.mark.django_db

FAST = {"timeout": 2.0, "concurrency": 8}


def latency_round(**overrides):
    return telemetry_probe_round(kind=LATENCY, **{**FAST, **overrides})


def only_sample() -> LatencySample:
    (sample,) = LatencySample.objects.all()
    return sample


class TestLatencyProbe:
    def test_streamed_answer_is_a_success_with_ttft_total_and_usage_tokens(
        self, fake_provider, make_provider, make_mapping
    ):
        make_mapping(make_provider("fast"))
        fake_provider.configure(tokens=7)
        latency_round()
        sample = only_sample()
        assert sample.outcome == Outcome.SUCCESS and sample.status_code == 200 and sample.error_class == ""
        assert 0 < sample.ttft_ms <= sample.total_ms
        assert sample.output_tokens == 7 and sample.tokens_from_usage
        assert sample.tokens_per_second > 0

    @pytest.mark.parametrize("ending", [b"\r\n", b"\r"], ids=["crlf", "bare-cr"])
    def test_every_sse_line_ending_is_read(self, fake_provider, make_provider, make_mapping, ending):
        make_mapping(make_provider("fast"))
        fake_provider.configure(tokens=3, line_ending=ending)
        latency_round()
        sample = only_sample()
        assert sample.outcome == Outcome.SUCCESS and sample.error_class == ""
        assert sample.output_tokens == 3 and sample.ttft_ms is not None

    def test_request_is_a_small_fixed_streaming_completion_with_usage_requested(
        self, fake_provider, make_provider, make_mapping
    ):
        make_mapping(make_provider("fast"), provider_model_id="org/model-x")
        latency_round(max_tokens=16)
        (request,) = fake_provider.requests
        assert request["path"] == "/v1/chat/completions"
        assert request["json"]["model"] == "org/model-x"
        assert request["json"]["stream"] is True and request["json"]["max_tokens"] == 16
        assert request["json"]["stream_options"] == {"include_usage": True}
        assert request["headers"]["authorization"] == f"Bearer {KEY}"

    def test_tokens_are_counted_from_chunks_when_usage_is_missing(self, fake_provider, make_provider, make_mapping):
        make_mapping(make_provider("fast"))
        fake_provider.configure(tokens=4, include_usage=False)
        latency_round()
        sample = only_sample()
        assert sample.outcome == Outcome.SUCCESS
        assert sample.output_tokens == 4 and not sample.tokens_from_usage

    def test_sync_only_offer_is_probed_without_streaming_its_ttft_is_its_total_time(
        self, fake_provider, make_provider, make_mapping
    ):
        make_mapping(make_provider("batchy"), delivery_modes=["sync"])
        latency_round()
        sample = only_sample()
        assert fake_provider.requests[0]["json"]["stream"] is False
        # Without streaming the first token comes with the whole answer.
        assert sample.outcome == Outcome.SUCCESS and sample.ttft_ms == sample.total_ms > 0
        assert sample.output_tokens == 5 and sample.tokens_from_usage

    @pytest.mark.parametrize(
        ("behaviour", "outcome", "error_class", "status"),
        [
            ({"status": 500}, Outcome.FAILURE, ErrorClass.SERVER_ERROR, 500),
            ({"status": 503}, Outcome.FAILURE, ErrorClass.SERVER_ERROR, 503),
            ({"status": 429, "retry_after": 7}, Outcome.EXCLUDED, ErrorClass.RATE_LIMITED, 429),
            ({"status": 401}, Outcome.EXCLUDED, ErrorClass.AUTH, 401),
            ({"status": 404}, Outcome.EXCLUDED, ErrorClass.CONFIG, 404),
            ({"empty": True}, Outcome.FAILURE, ErrorClass.EMPTY_STREAM, 200),
            ({"malformed": True}, Outcome.FAILURE, ErrorClass.MALFORMED, 200),
            ({"cut_after": 2}, Outcome.FAILURE, ErrorClass.STREAM_CUT, 200),
            ({"cut_after": 5, "tokens": 5}, Outcome.FAILURE, ErrorClass.STREAM_CUT, 200),
        ],
    )
    def test_answer_classification(
        self, fake_provider, make_provider, make_mapping, behaviour, outcome, error_class, status
    ):
        make_mapping(make_provider("flaky"))
        fake_provider.configure(**behaviour)
        latency_round()
        sample = only_sample()
        assert (sample.outcome, sample.error_class, sample.status_code) == (outcome, error_class, status)

    def test_a_nul_in_an_error_body_is_stored_as_an_escape(self, fake_provider, make_provider, make_mapping):
        make_mapping(make_provider("odd"))
        fake_provider.configure(status=500, error_body=b"bad \x00 thing")
        latency_round()
        sample = only_sample()
        assert sample.error_class == ErrorClass.SERVER_ERROR and "bad \\x00 thing" in sample.error_message

    @pytest.mark.parametrize("delivery", [["stream"], ["sync"]])
    def test_an_answer_without_end_is_malformed_at_the_cap_not_read_to_the_deadline(
        self, fake_provider, make_provider, make_mapping, settings, delivery
    ):
        """A streamed event, or a JSON answer, that never ends: the probe reads TELEMETRY_MAX_RESPONSE_BYTES of it
        and fails it as malformed, instead of holding all that arrives until the deadline."""
        settings.TELEMETRY_MAX_RESPONSE_BYTES = 1024 * 1024
        make_mapping(make_provider("endless"), delivery_modes=delivery)
        fake_provider.configure(endless=True)
        latency_round(timeout=30)
        sample = only_sample()
        assert (sample.outcome, sample.error_class) == (Outcome.FAILURE, ErrorClass.MALFORMED)
        assert "1,048,576 bytes" in sample.error_message and sample.total_ms < 10_000

    def test_stall_mid_stream_is_a_timeout_bounded_by_the_probe_deadline(
        self, fake_provider, make_provider, make_mapping
    ):
        make_mapping(make_provider("stuck"))
        fake_provider.configure(stall_after_first=True)
        latency_round(timeout=0.5)
        sample = only_sample()
        assert (sample.outcome, sample.error_class) == (Outcome.FAILURE, ErrorClass.TIMEOUT)
        assert sample.ttft_ms is not None  # the first token came, then nothing
        assert sample.total_ms < 5000  # the deadline (0.5 s), not the stall, bounded it

    def test_a_hanging_provider_never_delays_the_others(self, fake_provider, make_provider, make_mapping):
        stuck = make_provider("stuck")
        make_mapping(stuck, provider_model_id="stall-model")
        for i in range(6):
            make_mapping(make_provider(f"healthy-{i}"), provider_model_id=f"good-{i}")
        fake_provider.configure("stall-model", stall_after_first=True)
        finished = []
        latency_round(timeout=1.0, concurrency=4, on_result=lambda r: finished.append(r.target.label))
        # The stalled probe started first but finished last: the others ran past it on free slots.
        assert finished[-1] == "stuck/stall-model"
        assert LatencySample.objects.filter(outcome=Outcome.SUCCESS).count() == 6

    def test_connection_refused_is_a_failure(self, make_provider, make_mapping):
        make_mapping(make_provider("gone", api_base_url="http://127.0.0.1:9/v1"))
        latency_round()
        assert (only_sample().outcome, only_sample().error_class) == (Outcome.FAILURE, ErrorClass.CONNECT_ERROR)

    def test_offer_without_a_key_is_not_configured_nothing_is_sent_or_stored(
        self, fake_provider, make_provider, make_mapping, monkeypatch
    ):
        make_mapping(make_provider("keyless", api_key_env="NO_SUCH_KEY_VARIABLE"))
        monkeypatch.delenv("NO_SUCH_KEY_VARIABLE", raising=False)
        (result,) = latency_round().results
        assert (result.outcome, result.error_class) == (Outcome.NOT_CONFIGURED, ErrorClass.NO_KEY)
        assert fake_provider.requests == [] and not LatencySample.objects.exists()

    def test_provider_without_compatible_endpoint_is_not_configured(self, fake_provider, make_provider, make_mapping):
        make_mapping(make_provider("custom", openai_compatible=False))
        (result,) = latency_round().results
        assert result.error_class == ErrorClass.NO_ENDPOINT and fake_provider.requests == []

    def test_key_echoed_by_the_provider_is_redacted_before_storing(self, fake_provider, make_provider, make_mapping):
        make_mapping(make_provider("echo"))
        fake_provider.configure(status=401, echo_key_in_error=True)
        latency_round()
        sample = only_sample()
        assert KEY not in sample.error_message and "[redacted]" in sample.error_message

    def test_retired_offers_are_not_probed(self, fake_provider, make_provider, make_mapping):
        make_mapping(make_provider("old"), status="retired")
        assert latency_round().results == []


class TestConcurrency:
    def test_in_flight_requests_never_exceed_the_configured_concurrency(
        self, fake_provider, make_provider, make_mapping
    ):
        provider = make_provider("wide")
        for i in range(24):
            make_mapping(provider, provider_model_id=f"m-{i}")
        fake_provider.configure(first_token_delay=0.05)
        summary = latency_round(concurrency=5)
        assert summary.outcomes == {"success": 24}
        assert 1 < fake_provider.max_in_flight <= 5

    def test_connections_are_reused_across_probes(self, fake_provider, make_provider, make_mapping):
        provider = make_provider("reuse")
        for i in range(20):
            make_mapping(provider, provider_model_id=f"m-{i}")
        latency_round(concurrency=3)
        connections = {request["client"] for request in fake_provider.requests}
        assert len(fake_provider.requests) == 20 and len(connections) <= 3


class TestHealthProbe:
    def test_provider_api_and_each_offer_are_checked(self, fake_provider, make_provider, make_mapping):
        provider = make_provider("listing")
        make_mapping(provider, provider_model_id="fake-model")
        make_mapping(provider, provider_model_id="unlisted")
        telemetry_probe_round(kind=HEALTH, **FAST)
        paths = sorted(request["path"] for request in fake_provider.requests)
        assert paths == ["/v1/models", "/v1/models/fake-model", "/v1/models/unlisted"]
        by_target = {
            (check.mapping.provider_model_id if check.mapping else None): check
            for check in HealthCheck.objects.select_related("mapping")
        }
        assert by_target[None].outcome == Outcome.SUCCESS and by_target[None].response_ms > 0
        assert by_target["fake-model"].outcome == Outcome.SUCCESS
        # A 404 for one offer is our mapping's problem (wrong id), not the provider's downtime.
        assert (by_target["unlisted"].outcome, by_target["unlisted"].error_class) == (
            Outcome.EXCLUDED,
            ErrorClass.CONFIG,
        )

    def test_server_errors_on_health_are_failures(self, fake_provider, make_provider, make_mapping):
        make_mapping(make_provider("down"))
        fake_provider.configure(status=502)
        telemetry_probe_round(kind=HEALTH, **FAST)
        assert set(HealthCheck.objects.values_list("outcome", flat=True)) == {Outcome.FAILURE}

    def test_only_the_chosen_provider_is_probed(self, fake_provider, make_provider, make_mapping):
        make_mapping(make_provider("one"))
        make_mapping(make_provider("two"))
        telemetry_probe_round(kind=HEALTH, provider_slug="two", **FAST)
        assert set(HealthCheck.objects.values_list("provider__slug", flat=True)) == {"two"}


class TestMisconfiguredEndpoints:
    def test_an_unusable_base_url_is_our_config_error_and_the_round_goes_on(
        self, fake_provider, make_provider, make_mapping
    ):
        make_mapping(make_provider("typo", api_base_url="ftp://example.invalid/v1"))
        make_mapping(make_provider("fine"))
        summary = latency_round()
        by_label = {r.target.label.split("/")[0]: r for r in summary.results}
        assert (by_label["typo"].outcome, by_label["typo"].error_class) == (Outcome.EXCLUDED, ErrorClass.CONFIG)
        assert by_label["fine"].outcome == Outcome.SUCCESS
