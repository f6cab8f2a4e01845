"""The bootstrap confidence-interval rule for repeated trials (pure, no I/O).

Test ``bootstrap-ci`` (non-normal metrics): pass iff the (1 - 2 alpha) bootstrap CI
  (BCa for n >= 3, percentile for n = 2; scipy.stats.bootstrap, seeded) of the reproduced
  mean lies inside [c - m, c + m], the confidence-interval inclusion form of TOST.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from harness.errors import ComparisonError
from harness.models import Comparison
from harness.stats.compare import error_comparison, fmt
from harness.stats.outcome import Outcome, equivalence, more_trials, trials_to_decide
from harness.stats.tost import OUTCOME_WORD, Values, tost_power

N_RESAMPLES = 2000


def bootstrap_ci(
    values: Values,
    level: float = 0.95,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    statistic: Callable[..., Any] = np.mean,
) -> tuple[float, float]:
    """Two-sided bootstrap confidence interval of ``statistic`` (scipy.stats.bootstrap).

    Resampled with ``numpy.random.default_rng(seed)``: BCa for n >= 3 (percentile if BCa
    gives no finite bounds), percentile for n = 2; all-equal data give (v, v), v the
    statistic of the data. Raises ComparisonError for no data or non-finite values.
    """
    low, high, _ = _bootstrap_interval(values, level, seed, n_resamples, statistic)
    return low, high


def _bootstrap_interval(
    values: Values,
    level: float,
    seed: int,
    n_resamples: int,
    statistic: Callable[..., Any],
) -> tuple[float, float, str]:
    data = np.asarray(values, dtype=float)
    if data.size == 0 or not np.all(np.isfinite(data)):
        raise ComparisonError("a bootstrap interval needs finite values, at least one")
    if not 0 < level < 1:
        raise ComparisonError(f"confidence level {level} is outside (0, 1)")
    if np.all(data == data[0]):
        v = float(statistic(data))
        return v, v, "degenerate"
    from scipy import stats  # stats.bootstrap: scipy.stats is slow to import, only here

    methods = ["BCa", "percentile"] if data.size >= 3 else ["percentile"]
    for method in methods:
        with warnings.catch_warnings():
            # BCa on lumpy data: nan bounds (checked below) with these two warnings
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            ci = stats.bootstrap(
                (data,),
                statistic,
                n_resamples=n_resamples,
                confidence_level=level,
                method=method,
                rng=np.random.default_rng(seed),
            ).confidence_interval
        low, high = float(ci.low), float(ci.high)
        if math.isfinite(low) and math.isfinite(high):
            break
    return low, high, method


def compare_bootstrap(
    values: Values,
    claimed: float,
    margin: float,
    level: float = 0.90,
    seed: int = 0,
) -> Comparison:
    """Equivalence by CI inclusion, for metrics too skewed for a t-test: pass iff the
    ``level`` bootstrap CI of the reproduced mean lies in [claimed - margin, claimed + margin]
    (level 1 - 2 alpha: 0.90 is the alpha 0.05 TOST's dual)."""
    test = "bootstrap-ci"
    if len(values) < 2:
        return error_comparison(
            test, f"a bootstrap CI needs at least two trials, got {len(values)}"
        )
    if not margin > 0:
        return error_comparison(test, "the equivalence margin must be positive")
    try:
        low, high, method = _bootstrap_interval(values, level, seed, N_RESAMPLES, np.mean)
    except ComparisonError as exc:
        return error_comparison(test, exc.message)
    mean = float(np.mean(values))
    reach = max(abs(low - claimed), abs(high - claimed))
    outcome = equivalence(low, high, claimed, margin)
    verb = {"pass": "lies inside", "fail": "lies entirely outside",
            "inconclusive": "reaches past the edge of"}[outcome]
    band = f"[{fmt(claimed - margin)}, {fmt(claimed + margin)}] (claimed +/-{fmt(margin)})"
    return Comparison(
        verdict=outcome,
        test=test,
        observed=mean,
        claimed=claimed,
        difference=mean - claimed,
        statistic="max |CI bound - claimed|",
        statistic_value=reach,
        threshold=margin,
        alpha=round((1 - level) / 2, 12),
        # the CI-inclusion rule is the dual of TOST at alpha = (1 - level) / 2: its power at
        # mu = claimed is approximated by that TOST's power with the sample sd
        power=tost_power(float(np.std(values, ddof=1)), len(values), margin, (1 - level) / 2),
        evidence=f"mean {fmt(mean)} (n {len(values)}) vs claimed {fmt(claimed)}: "
        f"{OUTCOME_WORD[outcome]}: its "
        f"{level:.0%} bootstrap CI [{fmt(low)}, {fmt(high)}] {verb} {band}"
        + _bootstrap_more(values, claimed, margin, outcome, (1 - level) / 2),
        details={
            "ci_low": low,
            "ci_high": high,
            "level": level,
            "method": method,
            "n": len(values),
            "n_resamples": N_RESAMPLES,
            "seed": seed,
            "margin": margin,
        },
    )


def _bootstrap_more(
    values: Values, claimed: float, margin: float, outcome: Outcome, alpha: float
) -> str:
    if outcome != "inconclusive":
        return ""
    n = len(values)
    se = float(np.std(values, ddof=1)) / math.sqrt(n)
    needed = trials_to_decide(
        float(np.mean(values)), se, n, (claimed - margin, claimed + margin), alpha
    )
    return f"; {more_trials(needed)}"

