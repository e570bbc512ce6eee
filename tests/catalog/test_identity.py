"""The identity rules on crafted facts: each rule catches its kind (real and unseen-like names) and leaves real
near-pairs (`gpt-4o`/`gpt-4o-mini`, `llama-3.1-8b`/`llama-3.1-70b`, `claude-sonnet-4`/`claude-sonnet-4-5`) alone."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog.identity import (
    DUPLICATE,
    ERROR,
    LIFECYCLE,
    MISMATCH,
    MISSING,
    MIXED,
    WARNING,
    Finding,
    ModelFacts,
    OfferFacts,
    catalogue_findings,
    identity,
)

TODAY = dt.date(2026, 6, 1)


def model(slug: str, **facts) -> ModelFacts:
    defaults = {"name": slug, "creator": "lab", "family": "fam", "release_date": dt.date(2025, 1, 1)}
    return ModelFacts(slug=slug, **{**defaults, **facts})


def offer(provider: str, provider_model_id: str, model_slug: str, **facts) -> OfferFacts:
    return OfferFacts(provider=provider, provider_model_id=provider_model_id, model=model_slug, **facts)


def findings(models, offers=(), kind: str | None = None) -> list[Finding]:
    found = catalogue_findings(models, offers, today=TODAY)
    return [f for f in found if kind is None or f.kind == kind]


def pairs(found: list[Finding]) -> set[tuple[str, str]]:
    return {(f.severity, f.subject) for f in found}


class TestIdentityTokens:
    @pytest.mark.parametrize(
        ("name", "bucket", "expected"),
        [
            ("qwen3-32b", "sizes", {"32b"}),
            ("DeepSeek-R1-671B", "sizes", {"671b"}),
            ("mixtral-8x22b-instruct", "sizes", {"8x22b"}),
            ("qwen3-0.6b", "sizes", {"0.6b"}),
            ("gemma-3-270m", "sizes", {"0.27b"}),
            ("Qwen3.5-397B-A17B", "active", {"a17b"}),
            ("qwen3.5-397b", "versions", {"3.5"}),
            ("claude-sonnet-4-5", "versions", {"4.5"}),
            ("mistral-7b-instruct-v0.1", "versions", {"0.1"}),
            ("llama-v3p1-70b-instruct", "versions", {"3.1"}),
            ("mistral-small-2506", "stamps", {"2506"}),
            ("claude-sonnet-4-20250514", "stamps", {"20250514"}),
            ("gpt-4o-2024-05-13", "stamps", {"20240513"}),
            ("gpt-4o-mini", "variants", {"mini"}),
            ("qwen2.5-vl-72b-instruct", "variants", {"vl", "instruct"}),
            ("Qwen3-Coder-480B-A35B-Instruct", "variants", {"code", "instruct"}),
        ],
    )
    def test_tokens_are_classified(self, name, bucket, expected):
        assert getattr(identity(name), bucket) == expected

    @pytest.mark.parametrize(
        ("served", "own"),
        [
            ("@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", "deepseek-r1-distill-qwen-32b"),
            ("databricks-claude-sonnet-4", "claude-sonnet-4"),
            ("route/mistral-small-2503", "mistral-small-2503"),
            ("us.anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3.5-sonnet-20240620"),
            ("qwen3.5:397b", "Qwen3.5 397B"),
            ("deepseek/deepseek-r1:free", "deepseek-r1"),
        ],
    )
    def test_vendor_prefixes_and_routing_tags_are_not_identity(self, served, own):
        assert identity(served).key == identity(own).key


class TestDuplicates:
    @pytest.mark.parametrize(
        ("first", "second"),
        [("qwen3.5-397b", "qwen3.5-397b-a17b"), ("orca-9-300b", "orca-9-300b-a20b")],
    )
    def test_active_parameters_alone_are_an_error(self, first, second):
        found = findings([model(first), model(second)], kind=DUPLICATE)
        assert pairs(found) == {(ERROR, f"model {second}")}
        assert first in found[0].message

    @pytest.mark.parametrize(
        ("first", "second"),
        [("claude-3-5-sonnet", "claude-3.5-sonnet"), ("zeta-2-5-pro", "zeta-2.5-pro")],
    )
    def test_punctuation_alone_is_an_error(self, first, second):
        assert pairs(findings([model(first), model(second)], kind=DUPLICATE)) == {(ERROR, f"model {second}")}

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ("qwen3-next-80b", "qwen3-next-80b-a3b-instruct"),
            ("mistral-small-2506", "mistral-small-3.2-24b-instruct-2506"),
            ("mistral-nemo", "mistral-nemo-instruct-2407"),
            ("orca-medium-2611", "orca-medium-4.1-40b-instruct-2611"),
        ],
    )
    def test_noise_beyond_punctuation_is_a_warning(self, first, second):
        assert pairs(findings([model(first), model(second)], kind=DUPLICATE)) == {(WARNING, f"model {second}")}

    def test_versioned_and_dated_names_of_one_release_month_are_a_warning(self):
        versioned = model("mistral-large-3-675b", release_date=dt.date(2025, 12, 2))
        dated = model("mistral-large-2512", name="Mistral Large Dec")
        found = findings([versioned, dated], kind=DUPLICATE)
        assert pairs(found) == {(WARNING, "model mistral-large-3-675b")}

    def test_version_in_the_display_name_joins_a_dated_slug(self):
        versioned = model("mistral-small-3.1-24b-instruct", name="Mistral Small 3.1 24B")
        dated = model("mistral-small-2503", name="Mistral Small 3.1")
        assert pairs(findings([versioned, dated], kind=DUPLICATE)) == {
            (WARNING, "model mistral-small-3.1-24b-instruct")
        }

    def test_equal_display_names_are_an_error(self):
        found = findings([model("devstral-2512", name="Devstral 2"), model("devstral-medium", name="Devstral 2")])
        assert (ERROR, "model devstral-medium") in pairs([f for f in found if "display name" in f.message])

    @pytest.mark.parametrize(
        ("pointer", "alias", "dated"),
        [
            ("mistral-large", "mistral-large-latest", ["mistral-large-2411", "mistral-large-2512"]),
            ("zeta-pro", "zeta/zeta-pro-latest", ["zeta-pro-2609"]),
        ],
    )
    def test_a_latest_pointer_kept_as_a_model_is_an_error(self, pointer, alias, dated):
        models = [model(pointer, aliases=(alias,)), *(model(slug) for slug in dated)]
        found = findings(models, kind=DUPLICATE)
        assert pairs(found) == {(ERROR, f"model {pointer}")}
        assert all(slug in found[0].message for slug in dated)

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ("gpt-4o", "gpt-4o-mini"),
            ("llama-3.1-8b", "llama-3.1-70b"),
            ("claude-sonnet-4", "claude-sonnet-4-5"),
            ("mistral-large-2411", "mistral-large-2512"),
            ("qwen3-30b-a3b", "qwen3-30b-a6b"),
            ("gemini-2.5-flash", "gemini-2.5-flash-lite"),
            ("deepseek-r1", "deepseek-r1-distill-qwen-32b"),
            ("qwen3-235b-a22b-instruct-2507", "qwen3-235b-a22b-thinking-2507"),
            ("grok-4", "grok-4-fast"),
            ("gpt-4", "gpt-4-turbo"),
            ("o3", "o4-mini"),
        ],
    )
    def test_legitimate_near_pairs_are_separate_models(self, first, second):
        assert findings([model(first), model(second)], kind=DUPLICATE) == []


class TestOfferMismatch:
    def test_distill_offer_on_the_full_model_is_an_error_when_the_distill_exists(self):
        models = [model("deepseek-r1", parameters_total=671_000_000_000), model("deepseek-r1-distill-qwen-32b")]
        offers = [offer("cloudflare", "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", "deepseek-r1")]
        found = findings(models, offers, kind=MISMATCH)
        assert pairs(found) == {(ERROR, "offer cloudflare:@cf/deepseek-ai/deepseek-r1-distill-qwen-32b")}
        assert "deepseek-r1-distill-qwen-32b" in found[0].message

    def test_distill_offer_on_the_full_model_is_a_warning_without_the_distill(self):
        models = [model("deepseek-r1", parameters_total=671_000_000_000)]
        offers = [offer("cloudflare", "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", "deepseek-r1")]
        found = findings(models, offers, kind=MISMATCH)
        assert pairs(found) == {(WARNING, "offer cloudflare:@cf/deepseek-ai/deepseek-r1-distill-qwen-32b")}
        assert "distill" in found[0].message

    def test_size_against_stated_parameters_is_a_warning(self):
        found = findings([model("orca-r2", parameters_total=400_000_000_000)], [offer("host", "orca-r2-8b", "orca-r2")])
        assert pairs(found) == {(WARNING, "offer host:orca-r2-8b")}

    @pytest.mark.parametrize(
        ("offer_id", "wrong", "right"),
        [
            ("databricks-claude-sonnet-4", "claude-sonnet-4-5", "claude-sonnet-4"),
            ("route/mistral-small-2503", "mistral-small-2603", "mistral-small-2503"),
            ("Qwen/Qwen3-235B-A22B-Instruct-2507", "qwen3-235b-a22b", "qwen3-235b-a22b-instruct-2507"),
            ("acme/zeta-9-mini-2701", "zeta-9", "zeta-9-mini"),
        ],
    )
    def test_an_offer_that_spells_another_model_is_an_error(self, offer_id, wrong, right):
        found = findings([model(wrong), model(right)], [offer("host", offer_id, wrong)], kind=MISMATCH)
        assert pairs(found) == {(ERROR, f"offer host:{offer_id}")}
        assert right in found[0].message

    @pytest.mark.parametrize(
        ("offer_id", "wrong"),
        [
            ("databricks-claude-sonnet-4", "claude-sonnet-4-5"),
            ("route/mistral-small-2503", "mistral-small-2603"),
            ("acme/zeta-70b-coder", "zeta-7b"),
        ],
    )
    def test_a_contradicting_offer_alone_is_a_warning(self, offer_id, wrong):
        assert pairs(findings([model(wrong)], [offer("host", offer_id, wrong)], kind=MISMATCH)) == {
            (WARNING, f"offer host:{offer_id}")
        }

    def test_an_alias_on_the_wrong_model_is_an_error_and_vouches_for_no_offer(self):
        models = [model("claude-sonnet-4-5", aliases=("databricks-claude-sonnet-4",)), model("claude-sonnet-4")]
        offers = [offer("databricks", "databricks-claude-sonnet-4", "claude-sonnet-4-5")]
        assert pairs(findings(models, offers, kind=MISMATCH)) == {
            (ERROR, "alias databricks-claude-sonnet-4"),
            (ERROR, "offer databricks:databricks-claude-sonnet-4"),
        }

    def test_a_moving_latest_pointer_that_matches_an_older_model_is_only_a_warning(self):
        current = model("devstral-2512", name="Devstral 2", aliases=("devstral-medium-latest",))
        offers = [offer("mistral", "devstral-medium-latest", "devstral-2512")]
        found = findings([current, model("devstral-medium-2507")], offers, kind=MISMATCH)
        assert pairs(found) == {
            (WARNING, "alias devstral-medium-latest"),
            (WARNING, "offer mistral:devstral-medium-latest"),
        }
        assert "devstral-medium-2507" in next(f.message for f in found if f.offer)

    @pytest.mark.parametrize(
        ("offer_id", "slug", "aliases"),
        [
            ("gpt-4o-2024-08-06", "gpt-4o", ()),
            ("openai/gpt-4o:extended", "gpt-4o", ()),
            ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "llama-3.3-70b-instruct", ()),
            ("llama-3.3-70b-versatile", "llama-3.3-70b-instruct", ()),
            ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5", ()),
            ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5", ()),
            ("accounts/fireworks/models/llama-v3p1-70b-instruct", "llama-3.1-70b-instruct", ()),
            ("gpt-oss:120b", "gpt-oss-120b", ()),
            ("Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8", "qwen3-coder-480b-a35b-instruct", ()),
            ("nvidia/Llama-3_1-Nemotron-Ultra-253B-v1", "llama-3.1-nemotron-ultra-253b", ()),
            ("grok-4-20-reasoning", "grok-4.20-reasoning", ()),
            ("qwen/qwen3-235b-a22b-07-25", "qwen3-235b-a22b-instruct-2507", ()),
            ("sonnet-latest", "claude-sonnet-4-5", ("sonnet-latest",)),
        ],
    )
    def test_spellings_of_the_same_model_pass(self, offer_id, slug, aliases):
        assert findings([model(slug, aliases=aliases)], [offer("host", offer_id, slug)], kind=MISMATCH) == []


class TestMixedModel:
    def test_aggregators_far_from_the_creators_price_are_a_warning(self):
        models = [model("mistral-large", creator="mistral")]
        offers = [
            offer("mistral", "mistral-large-latest", "mistral-large", price_input=0.5, price_output=1.5),
            *(
                offer(host, "mistralai/mistral-large", "mistral-large", price_input=2.0, price_output=6.0)
                for host in ("openrouter", "kilo", "nano-gpt")
            ),
        ]
        found = findings(models, offers, kind=MIXED)
        assert pairs(found) == {(WARNING, "model mistral-large")}
        assert "openrouter 6" in found[0].message

    def test_releases_at_one_provider_far_apart_are_a_warning(self):
        offers = [
            offer("openai", "gpt-4o-2024-05-13", "gpt-4o", price_input=5.0, price_output=15.0),
            offer("openai", "gpt-4o-2024-08-06", "gpt-4o", price_input=2.5, price_output=10.0),
            offer("openai", "gpt-4o-2024-11-20", "gpt-4o", price_input=2.5, price_output=10.0),
        ]
        found = findings([model("gpt-4o", creator="openai")], offers, kind=MIXED)
        assert pairs(found) == {(WARNING, "model gpt-4o")}
        assert "gpt-4o-2024-05-13 5" in found[0].message

    def test_serving_tiers_and_ordinary_spreads_pass(self):
        offers = [
            offer("deepseek", "deepseek-chat", "deepseek-v3", price_input=0.27, price_output=1.1),
            offer("togetherai", "deepseek-ai/DeepSeek-V3", "deepseek-v3", price_input=1.25, price_output=1.25),
            offer("nebius", "deepseek-ai/DeepSeek-V3", "deepseek-v3", price_input=0.5, price_output=1.5),
            offer("nebius", "deepseek-ai/DeepSeek-V3-fast", "deepseek-v3", price_input=2.0, price_output=6.0),
            offer("nano-gpt", "TEE/deepseek-v3", "deepseek-v3", price_input=0.3, price_output=1.0),
        ]
        assert findings([model("deepseek-v3", creator="deepseek")], offers, kind=MIXED) == []


class TestLifecycle:
    def test_retired_model_still_served_by_its_creator_is_an_error(self):
        found = findings([model("m", status="retired")], [offer("lab", "m", "m")], kind=LIFECYCLE)
        assert pairs(found) == {(ERROR, "model m")}
        assert "lab" in found[0].message

    def test_retired_model_served_only_by_other_platforms_is_a_warning(self):
        # The creator's shutdown is about its own API; a platform hosting the weights keeps its own schedule.
        found = findings([model("m", status="retired")], [offer("host", "m", "m")], kind=LIFECYCLE)
        assert pairs(found) == {(WARNING, "model m")}
        assert "host" in found[0].message

    def test_a_derived_retirement_still_served_is_only_a_warning(self):
        found = findings([model("m", status="retired", status_derived=True)], [offer("h", "m", "m")], kind=LIFECYCLE)
        assert pairs(found) == {(WARNING, "model m")}

    def test_past_sunset_still_served_is_an_error_and_a_future_one_is_not(self):
        past = model("old", status="deprecated", deprecation_date=dt.date(2025, 1, 1), sunset_date=dt.date(2025, 6, 30))
        future = model(
            "new", status="deprecated", deprecation_date=dt.date(2026, 1, 1), sunset_date=dt.date(2027, 1, 1)
        )
        offers = [offer("lab", "old", "old"), offer("lab", "new", "new")]
        assert pairs(findings([past, future], offers, kind=LIFECYCLE)) == {(ERROR, "model old")}

    def test_a_retired_offer_keeps_a_retired_model_quiet(self):
        offers = [offer("h", "m", "m", status="retired", retirement_date=dt.date(2025, 1, 1))]
        assert findings([model("m", status="retired", sunset_date=dt.date(2025, 1, 1))], offers, kind=LIFECYCLE) == []

    def test_status_against_dates(self):
        undated = model("undated", status="deprecated")
        backwards = model("backwards", deprecation_date=dt.date(2026, 9, 1), sunset_date=dt.date(2026, 8, 1))
        assert pairs(findings([undated, backwards], kind=LIFECYCLE)) == {
            (WARNING, "model undated"),
            (ERROR, "model backwards"),
        }

    def test_successor_self_and_loops_are_errors(self):
        models = [
            model("a", successor="a"),
            model("b", successor="c"),
            model("c", successor="b"),
            model("d", successor="b"),
        ]
        assert pairs(findings(models, kind=LIFECYCLE)) == {(ERROR, "model a"), (ERROR, "model b"), (ERROR, "model c")}

    def test_active_offer_past_its_retirement_date_is_a_warning(self):
        offers = [offer("azure", "m-0613", "m", retirement_date=dt.date(2025, 10, 1))]
        assert pairs(findings([model("m")], offers, kind=LIFECYCLE)) == {(WARNING, "offer azure:m-0613")}


class TestMissingMetadata:
    def test_each_missing_field_is_a_warning(self):
        found = findings([model("bare", creator=None, family=None, release_date=None)], kind=MISSING)
        assert sorted(f.message for f in found) == ["no creator", "no family", "no release_date"]
        assert {f.severity for f in found} == {WARNING}
