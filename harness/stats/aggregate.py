"""Aggregate claims over a group of circuits or notebook runs (pure, no I/O).

"The mean heavy-output probability over 100 Quantum Volume circuits is 0.70":

* ``mean`` — the (1 - 2 alpha) t interval of the mean, se = sd / sqrt(N). The sd of the
  per-circuit values already holds both parts of the variance: circuit-to-circuit variation
  and each circuit's shot noise (a circuit's value is its true value plus shot noise), so
  the interval is valid for the population of circuits the group was drawn from. The
  shot-noise part alone is reported beside it when it is known.
* ``median`` — a seeded bootstrap interval of the median.
* ``fraction_above`` — the share of values above ``above``, with its Clopper-Pearson
  interval.

Decided like every equivalence claim (harness.stats.outcome): pass when the interval lies
inside claimed +/- margin, fail when it lies entirely outside, inconclusive otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from harness.errors import ComparisonError
from harness.models import Comparison
from harness.stats.bootstrap import bootstrap_ci
from harness.stats.compare import error_comparison, fmt
from harness.stats.distributions import t_ppf
from harness.stats.outcome import equivalence, more_trials, trials_to_decide

Statistic = Literal["mean", "median", "fraction_above"]


def aggregate(
    values: Sequence[float],
    statistic: Statistic,
    claimed: float,
    margin: float,
    alpha: float = 0.05,
    above: float | None = None,
    shot_se: float | None = None,
    what: str = "circuits",
    seed: int = 0,
) -> Comparison:
    test = f"aggregate-{statistic}"
    x = np.asarray(values, dtype=float)
    if x.size < 2 or not np.all(np.isfinite(x)):
        return error_comparison(test, f"an aggregate needs at least two finite values, got "
                                f"{x.size}")
    level = 1 - 2 * alpha
    try:
        estimate, low, high, how = _interval(x, statistic, level, above, seed)
    except ComparisonError as exc:
        return error_comparison(test, exc.message)
    outcome = equivalence(low, high, claimed, margin)
    name = {"mean": "mean", "median": "median",
            "fraction_above": f"fraction above {fmt(above or 0.0)}"}[statistic]
    word, verb = {"pass": ("equivalent", "lies inside"),
                  "fail": ("contradicted", "lies entirely outside"),
                  "inconclusive": ("inconclusive", "reaches past the edge of")}[outcome]
    evidence = (f"{name} {fmt(estimate)} over {x.size} {what} vs claimed {fmt(claimed)}: "
                f"{word}: its {level:.0%} interval [{fmt(low)}, {fmt(high)}] ({how}) {verb} "
                f"the claim +/-{fmt(margin)}")
    se = float(x.std(ddof=1) / math.sqrt(x.size))
    if outcome == "inconclusive" and statistic == "mean":
        needed = trials_to_decide(estimate, se, int(x.size),
                                  (claimed - margin, claimed + margin), alpha)
        evidence += f"; {more_trials(needed, what)}"
    if shot_se is not None and statistic == "mean":
        evidence += (f"; of its se {fmt(se)}, shot noise alone is {fmt(shot_se)}, the rest is "
                     f"{what[:-1]}-to-{what[:-1]} variation")
    return Comparison(
        verdict=outcome,
        test=test,
        observed=estimate,
        claimed=claimed,
        difference=estimate - claimed,
        statistic=name,
        statistic_value=estimate,
        threshold=margin,
        alpha=alpha,
        evidence=evidence,
        details={"ci_low": low, "ci_high": high, "ci_level": level, "n": int(x.size),
                 "se": se, "sd": float(x.std(ddof=1)), "shot_noise_se": shot_se,
                 "interval": how, "values": [float(v) for v in x], "margin": margin},
    )


def _interval(
    x: np.ndarray, statistic: Statistic, level: float, above: float | None, seed: int
) -> tuple[float, float, float, str]:
    if statistic == "mean":
        mean, se = float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))
        t = t_ppf((1 + level) / 2, x.size - 1)
        return mean, mean - t * se, mean + t * se, f"t, se {fmt(se)}"
    if statistic == "median":
        low, high = bootstrap_ci(x, level=level, seed=seed, statistic=np.median)
        return float(np.median(x)), low, high, "bootstrap"
    if above is None:
        raise ComparisonError("fraction_above needs `above`")
    k = int(np.sum(x > above))
    from scipy import stats  # Clopper-Pearson as scipy finds it (root of binom.sf), rarely

    ci = stats.binomtest(k, int(x.size)).proportion_ci(confidence_level=level, method="exact")
    return k / x.size, float(ci.low), float(ci.high), f"Clopper-Pearson, {k} of {x.size}"
