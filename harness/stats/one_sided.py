"""One-sided (non-inferiority) claims: "test accuracy at least 0.90" (pure, no I/O).

With bound b = value - margin (at least) or value + margin (at most), the reproduced mean's
one-sided (confidence) interval decides: at least b passes when the lower confidence bound
mean - t * se is at least b, fails when even the upper bound mean + t * se is below b
(the claim is contradicted), and is inconclusive otherwise (harness.stats.outcome). The
p-value is the one-sided t-test of H0: mu < b (at least) or H0: mu > b (at most).
Over seeds: se = sd / sqrt(n), df = n - 1; one run: its shot-noise sd, z (df infinite).
"""

from __future__ import annotations

import math
from typing import Literal

from harness.models import Comparison
from harness.stats.compare import error_comparison, fmt
from harness.stats.distributions import norm_ppf, norm_sf, t_ppf, t_sf
from harness.stats.outcome import at_least, at_most, more_trials, trials_to_decide

Direction = Literal["at_least", "at_most"]


def one_sided(
    mean: float,
    se: float,
    df: float,
    n: int,
    value: float,
    margin: float,
    direction: Direction,
    confidence: float = 0.95,
) -> Comparison:
    test = "one-sided-t" if math.isfinite(df) else "one-sided-z"
    if not (math.isfinite(mean) and math.isfinite(se) and se >= 0):
        return error_comparison(test, f"reproduced mean {mean} or its se {se} is not finite")
    alpha = 1 - confidence
    crit = t_ppf(confidence, df) if math.isfinite(df) else norm_ppf(confidence)
    low, high = mean - crit * se, mean + crit * se
    bound = value - margin if direction == "at_least" else value + margin
    outcome = (at_least if direction == "at_least" else at_most)(low, high, bound)
    sign = 1.0 if direction == "at_least" else -1.0
    t = sign * (mean - bound) / se if se > 0 else (math.inf if sign * (mean - bound) >= 0
                                                    else -math.inf)
    p = t_sf(t, df) if math.isfinite(df) else norm_sf(t)
    words = "at least" if direction == "at_least" else "at most"
    side = f"lower bound {fmt(low)}" if direction == "at_least" else f"upper bound {fmt(high)}"
    other = f"upper bound {fmt(high)}" if direction == "at_least" else f"lower bound {fmt(low)}"
    head = (f"reproduced {fmt(mean)} (se {fmt(se)}, n {n}) vs claimed {words} {fmt(value)}"
            + (f" with margin {fmt(margin)} (bound {fmt(bound)})" if margin else "") + ": ")
    if outcome == "pass":
        why = f"shown: the {confidence:.0%} {side} is {words} {fmt(bound)} (p = {p:.3g})"
    elif outcome == "fail":
        why = f"contradicted: even the {confidence:.0%} {other} is not {words} {fmt(bound)}"
    else:
        needed = trials_to_decide(mean, se, n, (bound,), alpha) if n >= 2 else None
        why = (f"inconclusive: the {confidence:.0%} interval [{fmt(low)}, {fmt(high)}] "
               f"contains the bound {fmt(bound)} (p = {p:.3g}); "
               + (more_trials(needed) if n >= 2 else "more shots or seeds would decide"))
    return Comparison(
        verdict=outcome,
        test=test,
        observed=mean,
        claimed=value,
        difference=mean - value,
        statistic="t" if math.isfinite(df) else "z",
        statistic_value=t,
        threshold=bound,
        p_value=p,
        alpha=alpha,
        evidence=head + why,
        details={"ci_low": low, "ci_high": high, "se": se, "df": df, "n": n, "bound": bound,
                 "direction": direction, "margin": margin, "confidence": confidence},
    )
