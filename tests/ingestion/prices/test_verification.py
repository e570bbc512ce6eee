"""The agreement tolerance at its edges, and the vote among feeds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ingestion.prices.verification import feeds_consensus, normal_value, price_text, prices_agree, values_agree


class TestTolerance:
    @pytest.mark.parametrize(
        ("a", "b", "agree"),
        [
            ("100", "101", True),  # exactly 1% of the larger value
            ("100", "101.02", False),  # just past 1% of 101.02
            ("99", "100", True),  # 1% of the larger (100), not of the smaller
            ("98.99", "100", False),
            ("2.9999999999999996", "3", True),  # per-token floats scaled to per million
            ("0.000001", "0.000002", True),  # one stored unit apart: the absolute floor
            ("0.000001", "0.0000021", False),
            ("0", "0.000001", True),
            ("0", "0.0000011", False),
            ("3", "3.3", False),  # Bedrock's regional +10%
            ("0.15", "15000", False),  # a feed's ×100,000 error
        ],
    )
    def test_edges(self, a, b, agree):
        assert prices_agree(Decimal(a), Decimal(b)) is agree
        assert prices_agree(b, a) is agree

    def test_unset_agrees_only_with_unset(self):
        assert prices_agree(None, None)
        assert not prices_agree(None, "0")

    def test_tiers_agree_threshold_by_threshold(self):
        ours = [{"above": 200000, "input": "6", "output": "22.5"}]
        assert values_agree("price_tiers", ours, [{"above": 200000, "input": "6.01", "output": "22.5"}])
        assert not values_agree("price_tiers", ours, [{"above": 128000, "input": "6", "output": "22.5"}])
        assert not values_agree("price_tiers", ours, [])

    def test_billing_must_be_equal(self):
        assert values_agree("billing", "per_token", "per_token")
        assert not values_agree("billing", "per_token", "free_tier")


class TestStoredForm:
    def test_prices_are_rounded_to_six_places_without_trailing_zeros(self):
        assert price_text(Decimal("2.9999999999999996")) == "3"
        assert price_text("0.0750") == "0.075"
        assert price_text(Decimal("0E-6")) == "0"
        assert price_text("not a price") is None

    def test_tiers_keep_thresholds_and_round_prices(self):
        assert normal_value("price_tiers", [{"above": 200000, "input": Decimal("6.000")}]) == [
            {"above": 200000, "input": "6"}
        ]


class TestConsensus:
    def test_the_largest_agreeing_group_wins(self):
        value, members = feeds_consensus("price_input", {"a": "5", "b": "5.02", "c": "4"}, current="1")
        assert value == "5" and members == ["a", "b"]

    def test_a_tie_keeps_the_current_value_when_it_is_one_side(self):
        value, members = feeds_consensus("price_input", {"a": "5", "b": "4"}, current="4")
        assert value == "4" and members == ["b"]

    def test_a_tie_without_the_current_value_resolves_nothing(self):
        assert feeds_consensus("price_input", {"a": "5", "b": "4"}, current="1") is None

    def test_nothing_stated_resolves_nothing(self):
        assert feeds_consensus("price_input", {}, current="1") is None
