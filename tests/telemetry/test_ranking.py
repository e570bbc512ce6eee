"""The ranking formula on hand-computed figures (the README's worked example), provisional marks, missing data."""

from __future__ import annotations

import pytest

from telemetry.ranking import OfferFigures, blended_price, log_ratio_score, rank, wilson_lower_bound

FIGURES = (
    "successes",
    "failures",
    "latency_samples",
    "median_ttft_ms",
    "median_total_ms",
    "price_input",
    "price_output",
)
WORKED_EXAMPLE = [
    # key, successes, failures, latency samples, median TTFT ms, median total ms, price in, price out
    (1, 2000, 16, 672, 300, 1200, 0.60, 2.40),
    (2, 2016, 0, 672, 600, 900, 0.20, 0.60),
    (3, 40, 0, 10, 30_000, 45_000, 0.90, 0.90),
]


def worked_example() -> list[OfferFigures]:
    """The README's example: A is fastest, B is cheapest and never failed, C is a 100x-slow outlier with 40 samples."""
    return [OfferFigures(key, **dict(zip(FIGURES, row, strict=True))) for key, *row in WORKED_EXAMPLE]


def by_key(ranked) -> dict:
    return {entry.candidate.key: entry for entry in ranked}


class TestBuildingBlocks:
    def test_wilson_lower_bound_by_hand(self):
        # p = 2000/2016, z = 1.96: (p + z²/2n − z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n)
        assert wilson_lower_bound(2000, 2016) == pytest.approx(0.987146, abs=1e-6)
        assert wilson_lower_bound(2016, 2016) == pytest.approx(0.998098, abs=1e-6)
        assert wilson_lower_bound(40, 40) == pytest.approx(0.912375, abs=1e-6)
        assert wilson_lower_bound(0, 0) is None

    def test_small_perfect_samples_rank_below_big_nearly_perfect_ones(self):
        assert wilson_lower_bound(50, 50) < wilson_lower_bound(1990, 2000)

    def test_blended_price_weights_input_three_to_one(self):
        assert blended_price(0.60, 2.40) == pytest.approx(1.05)  # (3·0.60 + 2.40) / 4
        assert blended_price(None, 2.40) is None

    @pytest.mark.parametrize(("ratio", "expected"), [(1, 1.0), (2, 0.5), (4, 1 / 3), (100, 0.130824)])
    def test_log_ratio_score(self, ratio, expected):
        assert log_ratio_score(300 * ratio, 300, 1.0) == pytest.approx(expected, abs=1e-6)


class TestWorkedExample:
    def test_scores_match_the_hand_computation(self):
        ranked, weights = rank(worked_example())
        assert weights == pytest.approx({"uptime": 0.4, "ttft": 0.3, "price": 0.2, "total_time": 0.1})
        a, b, c = (by_key(ranked)[key] for key in (1, 2, 3))
        # A: uptime 0.987146/0.998098 = 0.989027; ttft best = 1; price 1/(1+log2(1.05/0.30)) = 0.356207;
        #    total 1/(1+log2(1200/900)) = 0.706695 → 0.4·0.989027 + 0.3·1 + 0.2·0.356207 + 0.1·0.706695 = 0.837522
        assert a.components["uptime"]["normalised"] == pytest.approx(0.989027, abs=1e-6)
        assert a.components["price"]["normalised"] == pytest.approx(0.356207, abs=1e-6)
        assert a.components["total_time"]["normalised"] == pytest.approx(0.706695, abs=1e-6)
        assert a.score == pytest.approx(0.837522, abs=1e-6)
        # B: 0.4·1 + 0.3·(1/(1+log2 2) = 0.5) + 0.2·1 + 0.1·1 = 0.85
        assert b.components["ttft"]["normalised"] == pytest.approx(0.5)
        assert b.score == pytest.approx(0.85)
        # C: 0.4·(0.912375/0.998098 = 0.914114) + 0.3·(1/(1+log2 100) = 0.130824)
        #    + 0.2·(1/(1+log2 3) = 0.386853) + 0.1·(1/(1+log2 50) = 0.150515) = 0.497315
        assert c.score == pytest.approx(0.497315, abs=1e-6)
        assert [entry.candidate.key for entry in ranked] == [2, 1, 3]

    def test_components_show_raw_values_and_sample_counts(self):
        a = by_key(rank(worked_example())[0])[1]
        assert a.components["uptime"]["raw"] == pytest.approx(2000 / 2016)
        assert a.components["uptime"]["lower_bound"] == pytest.approx(0.987146, abs=1e-6)
        assert a.components["uptime"]["samples"] == 2016
        assert a.components["ttft"] == {
            "raw": 300,
            "samples": 672,
            "normalised": 1.0,
            "imputed": False,
            "weight": pytest.approx(0.3),
        }
        assert a.components["price"]["raw"] == pytest.approx(1.05)
        assert (a.components["price"]["input"], a.components["price"]["output"]) == (0.60, 2.40)

    def test_an_outlier_only_pushes_itself_down(self):
        with_outlier = by_key(rank(worked_example())[0])
        without = by_key(rank(worked_example()[:2])[0])
        assert with_outlier[1].score == pytest.approx(without[1].score)
        assert with_outlier[2].score == pytest.approx(without[2].score)

    def test_too_few_samples_is_ranked_but_provisional(self):
        ranked = by_key(rank(worked_example())[0])
        assert not ranked[1].provisional and not ranked[2].provisional
        assert ranked[3].provisional and ranked[3].score is not None
        assert ranked[3].provisional_reasons == ["40 uptime samples (< 50)", "10 latency samples (< 20)"]


class TestMissingData:
    def test_component_missing_for_every_offer_drops_out_and_weights_renormalise(self):
        candidates = worked_example()
        for candidate in candidates:
            candidate.price_input = candidate.price_output = None
        ranked, weights = rank(candidates)
        # 0.4 + 0.3 + 0.1 = 0.8 remain: uptime 0.5, ttft 0.375, total 0.125.
        assert weights == pytest.approx({"uptime": 0.5, "ttft": 0.375, "total_time": 0.125})
        b = by_key(ranked)[2]
        assert b.components["price"] == {
            "raw": None,
            "input": None,
            "output": None,
            "normalised": None,
            "imputed": False,
            "weight": 0.0,
        }
        # B: 0.5·1 + 0.375·0.5 + 0.125·1 = 0.8125
        assert b.score == pytest.approx(0.8125)

    def test_component_missing_for_one_offer_gets_the_worst_value_seen_and_is_marked(self):
        candidates = worked_example()
        candidates[1].median_total_ms = None  # B never completed an answer in the window
        ranked = by_key(rank(candidates)[0])
        # Total times measured: A 1200 (best, 1.0) and C 45000 (1/(1+log2 37.5) = 0.160544): B gets the worst.
        assert ranked[2].components["total_time"]["normalised"] == pytest.approx(0.160544, abs=1e-6)
        assert ranked[2].components["total_time"]["imputed"] and not ranked[1].components["total_time"]["imputed"]

    def test_imputed_value_is_never_more_than_half_marks(self):
        candidates = worked_example()[:2]
        candidates[0].median_ttft_ms = None  # A has no TTFT; B alone has one, so the worst seen is B's 1.0
        ranked = by_key(rank(candidates)[0])
        assert ranked[1].components["ttft"] == {
            "raw": None,
            "samples": 672,
            "normalised": 0.5,
            "imputed": True,
            "weight": pytest.approx(0.3),
        }

    def test_an_unprobed_cheap_offer_has_no_score_and_sorts_after_the_measured_one(self):
        measured = OfferFigures(
            1,
            successes=2016,
            latency_samples=672,
            median_ttft_ms=400,
            median_total_ms=900,
            price_input=3.0,
            price_output=9.0,
        )
        unprobed = OfferFigures(2, price_input=0.1, price_output=0.1)
        ranked, _ = rank([unprobed, measured])
        # Only measured offers are normalised: the measured one is the best (and only) price, 1.0 everywhere.
        assert [(e.candidate.key, e.score, e.measured) for e in ranked] == [
            (1, pytest.approx(1.0), True),
            (2, None, False),
        ]
        assert ranked[1].provisional and ranked[1].provisional_reasons[0].startswith("not measured")
        assert all(component["normalised"] is None for component in ranked[1].components.values())

    def test_imputation_uses_the_worst_among_those_measured(self):
        candidates = worked_example()
        candidates[1].price_input = None  # B's price unknown
        ranked = by_key(rank(candidates)[0])
        # Best measured price is now C (0.90); A scores 1/(1+log2(1.05/0.90)) = 0.818068, the worst, capped at 0.5.
        assert ranked[2].components["price"]["normalised"] == 0.5
        assert ranked[2].components["price"]["imputed"]

    def test_nothing_measured_and_no_prices_gives_no_score(self):
        ranked, weights = rank([OfferFigures(1), OfferFigures(2)])
        assert weights == {} and all(entry.score is None for entry in ranked)
        assert all(entry.provisional for entry in ranked)

    def test_free_offer_keeps_ratios_finite(self):
        free = OfferFigures(1, successes=60, price_input=0, price_output=0)
        paid = OfferFigures(2, successes=60, price_input=0.10, price_output=0.10)
        ranked = by_key(rank([free, paid])[0])
        # Prices are floored at $0.01 per million: 0.10 is 10x the floor → 1/(1+log2 10) = 0.231378
        assert ranked[1].components["price"]["normalised"] == 1.0
        assert ranked[2].components["price"]["normalised"] == pytest.approx(0.231378, abs=1e-6)
