"""Comparative and rank-order claims: "model A beats model B" (pure, no I/O).

A claim states an order of two or more methods, best first. Every pair (i before j) the
order implies is tested one-sided for d = better_i - better_j > margin (better = the metric,
or its negative when lower is better):

* paired by seed when both ran with the same seeds (d per seed; one-sample t on d);
* otherwise Welch's two-sample t (one run each: their shot-noise sds, z).

Each pair gets a (1 - alpha / k) one-sided interval, k the number of pairs (Bonferroni), so
that the whole order holds at the stated confidence. A pair passes when its lower bound
exceeds the margin, fails when its upper bound does not (the stated order is contradicted:
the other method is as good or better), and is inconclusive otherwise. The claim passes when
every pair passes, fails when any pair fails, and is inconclusive otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.models import Comparison
from harness.stats.compare import error_comparison, fmt
from harness.stats.distributions import norm_ppf, norm_sf, t_ppf, t_sf
from harness.stats.outcome import Outcome, at_least
from harness.stats.tost import welch_df


@dataclass(frozen=True)
class Arm:
    """One method's values: per seed, or one value with its shot-noise sd."""

    label: str
    values: list[float]
    seeds: list[int]
    shot_se: float | None = None


def _se(arm: Arm, x: np.ndarray) -> float:
    """One value: its shot-noise sd (unknown, e.g. one notebook seed: infinite)."""
    if x.size == 1:
        return arm.shot_se if arm.shot_se is not None else math.inf
    return float(x.std(ddof=1) / math.sqrt(x.size))


def _difference(a: Arm, b: Arm, sign: float) -> tuple[float, float, float, str]:
    """(d, se, df, how) of sign * (mean a - mean b)."""
    x, y = np.asarray(a.values, dtype=float), np.asarray(b.values, dtype=float)
    if x.size >= 2 and a.seeds == b.seeds and x.size == y.size:
        d = sign * (x - y)
        return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size)), float(d.size - 1), \
            f"paired over {d.size} seeds"
    if x.size >= 2 and y.size >= 2:
        vx, vy = float(x.var(ddof=1)), float(y.var(ddof=1))
        se = math.sqrt(vx / x.size + vy / y.size)
        return sign * float(x.mean() - y.mean()), se, welch_df(vx, x.size, vy, y.size), "Welch"
    se = math.hypot(_se(a, x), _se(b, y))
    return sign * float(x.mean() - y.mean()), se, math.inf, "z with shot noise"


def _pair(a: Arm, b: Arm, sign: float, margin: float, alpha: float) -> dict[str, Any]:
    d, se, df, how = _difference(a, b, sign)
    crit = t_ppf(1 - alpha, df) if math.isfinite(df) else norm_ppf(1 - alpha)
    low, high = d - crit * se, d + crit * se
    outcome: Outcome = at_least(low, high, margin)
    if outcome == "pass" and low <= margin:  # "beats" is strict
        outcome = "inconclusive"
    t = (d - margin) / se if se > 0 else (math.inf if d > margin else -math.inf)
    p = t_sf(t, df) if math.isfinite(df) else norm_sf(t)
    return {"better": a.label, "worse": b.label, "difference": d, "se": se, "df": df,
            "ci_low": low, "ci_high": high, "p_value": p, "outcome": outcome, "how": how}


def compare_order(
    arms: list[Arm], higher_is_better: bool = True, margin: float = 0.0,
    confidence: float = 0.95,
) -> Comparison:
    test = "rank-order" if len(arms) > 2 else "comparative"
    if len(arms) < 2 or any(not a.values for a in arms):
        return error_comparison(test, "a comparison needs two or more methods with values")
    k = len(arms) * (len(arms) - 1) // 2
    alpha = (1 - confidence) / k
    sign = 1.0 if higher_is_better else -1.0
    pairs = [_pair(arms[i], arms[j], sign, margin, alpha)
             for i in range(len(arms)) for j in range(i + 1, len(arms))]
    outcomes = [p["outcome"] for p in pairs]
    verdict: Outcome = ("fail" if "fail" in outcomes else
                        "pass" if all(o == "pass" for o in outcomes) else "inconclusive")
    word = "higher" if higher_is_better else "lower"
    by = f" by more than {fmt(margin)}" if margin else ""
    lines = [f"{p['better']} vs {p['worse']}: difference {fmt(p['difference'])} "
             f"[{fmt(p['ci_low'])}, {fmt(p['ci_high'])}] ({p['how']}): {p['outcome']}"
             for p in pairs]
    head = {"pass": "the stated order holds",
            "fail": "contradicted: a stated pair does not hold (the second is as good, better, "
            "or behind by less than the margin)",
            "inconclusive": "inconclusive: not every stated pair is shown, none is "
            "contradicted"}[verdict]
    worst = max(pairs, key=lambda p: p["p_value"])
    return Comparison(
        verdict=verdict,
        test=test,
        observed=worst["difference"],
        claimed=margin,
        difference=worst["difference"] - margin,
        statistic="smallest pairwise lower bound",
        statistic_value=min(p["ci_low"] for p in pairs),
        threshold=margin,
        p_value=worst["p_value"],
        alpha=alpha,
        evidence=f"{head} ({word} is better{by}, {confidence:.0%} confidence over {k} "
        f"pair{'s' if k > 1 else ''}, Bonferroni): " + "; ".join(lines),
        details={"pairs": pairs, "confidence": confidence, "pairs_tested": k},
    )
