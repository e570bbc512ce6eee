"""The ranked score of a model's providers: who serves this model best right now.

    score = 0.4·uptime + 0.3·ttft + 0.2·price + 0.1·total_time        (each component normalised to [0, 1])

Only measured offers are scored. An offer is measured when it has probes of its own in the window: counted health
checks (success or failure) or successful latency probes. An offer with none has no score (`score: None`,
`measured: False`), whatever its price: it is listed after every measured offer, and its provider's API health is
never lent to it (that is the provider's figure, shown as such).

Raw values, per measured offer (mapping) of the model, over the last 7 days:

- uptime: successes / (successes + failures) of the offer's own health checks, as the seed defines it ("computed
  from health records"); latency probes, excluded checks and missing checks do not count. Ranked on the 95% Wilson
  lower bound, so 50/50 is not "as good as" 2000/2000.
- ttft, total_time: medians of successful latency probes in milliseconds (an offer without streaming gets its
  first token with the whole answer: its TTFT is its total time).
- price: the blended price per million tokens, (3·input + output) / 4.

Normalisation, relative to the best measured offer of the same model so no absolute scale has to be guessed:

- uptime: lower_bound / best lower_bound (the best offer gets 1.0).
- lower-is-better values (ttft, total_time, price): 1 / (1 + log2(value / best)): the best gets 1.0, twice the best
  0.5, four times 0.33, ten times 0.23. The log ratio means an outlier 100x slower only pushes itself down; everyone
  else keeps their score. Values are floored (1 ms, $0.01 per million) so a free or instant offer keeps ratios finite.

Missing data among measured offers:

- a component no measured offer has (no prices anywhere, no latency probes yet) drops out and the remaining weights
  are renormalised to sum to 1;
- a component some measured offers lack is imputed for them as the worst normalised value among the offers that
  have it, and at most 0.5 (marked `imputed`): not knowing is never better than the worst measured offer, nor than
  one twice as slow as the best;
- a measured offer with fewer than 50 counted uptime samples or 20 latency samples is ranked, but marked
  provisional.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from catalog.pricing import blended_price as catalogue_blended_price

WEIGHTS = {"uptime": 0.4, "ttft": 0.3, "price": 0.2, "total_time": 0.1}
LOWER_IS_BETTER = ("ttft", "price", "total_time")
FLOORS = {"ttft": 1.0, "total_time": 1.0, "price": 0.01}
WILSON_Z = 1.96
IMPUTED_CAP = 0.5
NOT_MEASURED = "not measured: no health checks or latency probes of its own in the window"


def wilson_lower_bound(successes: int, trials: int, z: float = WILSON_Z) -> float | None:
    """The lower end of the Wilson score interval of a success ratio: small samples are pulled down, big ones not."""
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    margin = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, (centre - margin) / (1 + z2 / trials))


def blended_price(price_input: float | None, price_output: float | None) -> float | None:
    """The catalogue's blended price per million tokens (input 3:1 over output), as a float."""
    value = catalogue_blended_price(price_input, price_output)
    return None if value is None else float(value)


def log_ratio_score(value: float, best: float, floor: float) -> float:
    return 1 / (1 + math.log2(max(value, floor) / max(best, floor)))


@dataclass
class OfferFigures:
    """One offer of the model with the raw figures the score is made of."""

    key: int  # mapping id
    successes: int = 0
    failures: int = 0
    latency_samples: int = 0
    median_ttft_ms: float | None = None
    median_total_ms: float | None = None
    price_input: float | None = None
    price_output: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def uptime_samples(self) -> int:
        return self.successes + self.failures

    @property
    def measured(self) -> bool:
        """Probed on its own in the window: counted health checks or successful latency probes."""
        return self.uptime_samples > 0 or self.latency_samples > 0

    @property
    def uptime(self) -> float | None:
        return self.successes / self.uptime_samples if self.uptime_samples else None

    def ranked_value(self, component: str) -> float | None:
        """The value a component is normalised from (uptime: its lower bound, not the plain ratio)."""
        if component == "uptime":
            return wilson_lower_bound(self.successes, self.uptime_samples)
        if component == "ttft":
            return self.median_ttft_ms
        if component == "total_time":
            return self.median_total_ms
        return blended_price(self.price_input, self.price_output)

    def describe(self, component: str) -> dict:
        """The raw figures shown beside a component, so users can see why it scored what it did."""
        if component == "uptime":
            lower = self.ranked_value("uptime")
            return {"raw": self.uptime, "lower_bound": lower, "samples": self.uptime_samples}
        if component == "price":
            return {"raw": self.ranked_value("price"), "input": self.price_input, "output": self.price_output}
        return {"raw": self.ranked_value(component), "samples": self.latency_samples}


@dataclass
class Ranked:
    candidate: OfferFigures
    score: float | None
    measured: bool
    provisional: bool
    provisional_reasons: list[str]
    components: dict[str, dict]


def _normalise(component: str, values: dict[int, float]) -> dict[int, float]:
    if component == "uptime":
        best = max(values.values())
        return {key: (value / best if best > 0 else 0.0) for key, value in values.items()}
    best = min(values.values())
    return {key: log_ratio_score(value, best, FLOORS[component]) for key, value in values.items()}


def rank(
    candidates: list[OfferFigures], *, min_uptime_samples: int = 50, min_latency_samples: int = 20
) -> tuple[list[Ranked], dict[str, float]]:
    """Score and order the candidates; returns them best first and the effective (renormalised) weights.

    Only measured candidates are normalised and scored; unmeasured ones come last with no score."""
    measured = [c for c in candidates if c.measured]
    normalised: dict[str, dict[int, float]] = {}
    for component in WEIGHTS:
        values = {c.key: v for c in measured if (v := c.ranked_value(component)) is not None}
        if values:
            normalised[component] = _normalise(component, values)
    weight_sum = sum(WEIGHTS[c] for c in normalised)
    effective = {c: WEIGHTS[c] / weight_sum for c in normalised} if weight_sum else {}
    # A measured candidate missing a component gets the lowest normalised value of the others, at most the cap.
    imputed = {component: min(*scores.values(), IMPUTED_CAP) for component, scores in normalised.items()}

    ranked = []
    for candidate in candidates:
        components, score = {}, 0.0
        for component in WEIGHTS:
            entry = {**candidate.describe(component), "normalised": None, "imputed": False}
            entry["weight"] = effective.get(component, 0.0)
            if component in normalised and candidate.measured:
                scores = normalised[component]
                entry["imputed"] = candidate.key not in scores
                entry["normalised"] = scores.get(candidate.key, imputed[component])
                score += effective[component] * entry["normalised"]
            components[component] = entry
        reasons = [] if candidate.measured else [NOT_MEASURED]
        if candidate.uptime_samples < min_uptime_samples:
            reasons.append(f"{candidate.uptime_samples} uptime samples (< {min_uptime_samples})")
        if candidate.latency_samples < min_latency_samples:
            reasons.append(f"{candidate.latency_samples} latency samples (< {min_latency_samples})")
        ranked.append(
            Ranked(
                candidate=candidate,
                score=score if effective and candidate.measured else None,
                measured=candidate.measured,
                provisional=bool(reasons),
                provisional_reasons=reasons,
                components=components,
            )
        )
    ranked.sort(key=lambda r: (not r.measured, r.score is None, -(r.score or 0), r.candidate.key))
    return ranked, effective
