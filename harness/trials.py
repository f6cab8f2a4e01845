"""Repeated-trial claims: equivalence tests (TOST) and their power (pure, no I/O).

Test ``tost``: two one-sided t-tests of H0: mu <= c - m and
  H0: mu >= c + m, with t_L = (xbar - c + m) / se, t_U = (xbar - c - m) / se,
  se = s / sqrt(n), df = n - 1; p = max(p_L, p_U); equivalence (pass) iff p < alpha.
  Power at mu = c and sigma = s (exact, integrating over the chi-square law of s):
  power = int_0^{u*} [2 Phi(delta - t_crit sqrt(u / df)) - 1] f_chi2(u; df) du with
  delta = m sqrt(n) / s, t_crit = t_{1-alpha, df}, u* = df (delta / t_crit)^2.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Sequence

import numpy as np
from scipy import integrate, stats

from harness.compare import compare_scalar, error_comparison, fmt, slack
from harness.errors import ComparisonError
from harness.models import Comparison
from harness.qdata import AbsoluteTolerance, Spread


def spread_to_sd(spread: Spread) -> float:
    """The sample sd behind a stated spread: sd as is, se * sqrt(n), ci half-width / t * sqrt(n)."""
    if spread.kind == "sd":
        return spread.value
    if spread.kind == "se":
        return spread.value * math.sqrt(spread.n)
    if spread.n < 2:
        raise ComparisonError("a confidence interval over one trial gives no sd")
    t = float(stats.t.ppf((1 + spread.level) / 2, spread.n - 1))
    return spread.value / t * math.sqrt(spread.n)


def tost_power(sd: float, n: int, margin: float, alpha: float = 0.05) -> float:
    """Power of the one-sample TOST when the true mean equals the claim and sigma = sd."""
    if n < 2 or margin <= 0:
        return 0.0
    if sd <= 0:
        return 1.0
    df = n - 1
    delta = margin * math.sqrt(n) / sd
    t_crit = float(stats.t.ppf(1 - alpha, df))
    upper = df * (delta / t_crit) ** 2

    def integrand(u: float) -> float:
        inner = 2.0 * stats.norm.cdf(delta - t_crit * math.sqrt(u / df)) - 1.0
        return float(inner * stats.chi2.pdf(u, df))

    # beyond the chi-square's 1 - 1e-14 quantile nothing is left to integrate; without the
    # cap, quad misses the mass near df on a huge interval (tiny sd) and returns ~0
    high = min(upper, float(stats.chi2.isf(1e-14, df)))
    value, _ = integrate.quad(integrand, 0.0, high, limit=200, points=[min(df, high)])
    return float(min(max(value, 0.0), 1.0))


def tost_one_sample(
    values: Sequence[float],
    claimed: float,
    margin: float,
    alpha: float = 0.05,
    step: float | None = None,
) -> Comparison:
    """TOST equivalence of the mean of repeated trials (e.g. seeds) with the claim +/- margin."""
    data = np.asarray(values, dtype=float)
    if data.size < 2:
        return error_comparison("tost", f"TOST needs at least two trials, got {data.size}")
    if not np.all(np.isfinite(data)):
        return error_comparison("tost", "a reproduced trial value is not finite")
    return tost_from_summary(
        float(data.mean()), float(data.std(ddof=1)), int(data.size), claimed, margin, alpha, step
    )


def _tost_pvalues(mean: float, sd: float, n: int, low: float, high: float) -> dict[str, float]:
    df = n - 1
    se = sd / math.sqrt(n)
    if se == 0:
        inside = low < mean < high
        t_l = math.inf if mean > low else -math.inf
        t_u = -math.inf if mean < high else math.inf
        p = 0.0 if inside else 1.0
        return {"t_lower": t_l, "t_upper": t_u, "p_lower": p, "p_upper": p, "se": 0.0, "df": df}
    t_l, t_u = (mean - low) / se, (mean - high) / se
    return {
        "t_lower": t_l,
        "t_upper": t_u,
        "p_lower": float(stats.t.sf(t_l, df)),
        "p_upper": float(stats.t.cdf(t_u, df)),
        "se": se,
        "df": df,
    }


def _tost_check(sd: float, n: int, margin: float, alpha: float, step: float | None) -> str | None:
    if n < 2:
        return f"TOST needs at least two trials, got {n}"
    if not (math.isfinite(sd) and sd >= 0):
        return f"the standard deviation {sd} is not a finite non-negative number"
    if not 0 < alpha < 0.5:
        return f"alpha {alpha} is outside (0, 0.5)"
    if step is not None and margin < step - slack(step):
        return (
            f"tolerance below one step of the metric: unattainable "
            f"(margin {fmt(margin)} < step {fmt(step)})"
        )
    if margin <= 0:
        return "the equivalence margin must be positive"
    return None


def tost_from_summary(
    mean: float,
    sd: float,
    n: int,
    claimed: float,
    margin: float,
    alpha: float = 0.05,
    step: float | None = None,
) -> Comparison:
    """TOST from the mean, sample sd (ddof=1) and number of trials alone."""
    problem = _tost_check(sd, n, margin, alpha, step)
    if problem is not None:
        return error_comparison("tost", problem, observed=mean, claimed=claimed, alpha=alpha)
    t = _tost_pvalues(mean, sd, n, claimed - margin, claimed + margin)
    p = max(t["p_lower"], t["p_upper"])
    power = tost_power(sd, n, margin, alpha)
    ok = p < alpha
    return Comparison(
        verdict="pass" if ok else "fail",
        test="tost",
        observed=mean,
        claimed=claimed,
        difference=mean - claimed,
        statistic="t_min",
        statistic_value=min(t["t_lower"], -t["t_upper"]),
        p_value=p,
        alpha=alpha,
        power=power,
        evidence=_tost_evidence(mean, sd, n, claimed, margin, alpha, p, power, ok),
        details={
            **t,
            "margin": margin,
            "sd": sd,
            "n": n,
            "t_critical": float(stats.t.ppf(1 - alpha, n - 1)),
        },
    )


def _tost_evidence(
    mean: float,
    sd: float,
    n: int,
    claimed: float,
    margin: float,
    alpha: float,
    p: float,
    power: float,
    ok: bool,
) -> str:
    head = f"mean {fmt(mean)} (sd {fmt(sd)}, n {n}) vs claimed {fmt(claimed)}: "
    within = f"within +/-{fmt(margin)}"
    if ok:
        result = f"equivalent {within} (TOST p = {p:.3g} < alpha {alpha:g}"
    else:
        result = f"equivalence {within} not shown (TOST p = {p:.3g} >= alpha {alpha:g}"
    if power < 0.8:
        return f"{head}{result}; low power: an honest claim passes only {power:.0%} of the time)"
    return f"{head}{result}; power {power:.2f})"


def deposited_precision(value: float) -> float:
    """Half a unit in the last decimal place the deposit wrote (0.966667 -> 5e-7): a value
    reproduced to the precision it was deposited with counts as identical."""
    exponent = decimal.Decimal(repr(float(value))).as_tuple().exponent
    return 0.5 * 10.0 ** int(exponent) if isinstance(exponent, int) else 0.0


def _identical_trials(
    values: Sequence[float], per_seed: Sequence[float], claimed: float
) -> Comparison:
    mean = float(np.mean(values))
    return Comparison(
        verdict="pass",
        test="exact",
        observed=mean,
        claimed=claimed,
        difference=mean - claimed,
        statistic="max |per-seed difference|",
        statistic_value=0.0,
        threshold=0.0,
        evidence=f"every one of the {len(values)} per-seed values is identical to the "
        "deposited one (to the precision deposited), the strongest evidence of reproduction",
        details={"reproduced": list(values), "claimed_per_seed": list(per_seed)},
    )


def _mean_consistent(claimed: float, per_seed: Sequence[float]) -> bool:
    """Is the claimed mean the mean of the deposited per-seed values (to their precision)?"""
    rounding = deposited_precision(claimed) + max(deposited_precision(v) for v in per_seed)
    mean = float(np.mean(per_seed))
    return abs(claimed - mean) <= rounding + slack(claimed, mean)


def compare_trials(
    values: Sequence[float],
    claimed: float,
    margin: float,
    per_seed: Sequence[float] | None = None,
    step: float | None = None,
    alpha: float = 0.05,
) -> Comparison:
    """A repeated-trial claim: identical per-seed values pass; with per-seed values a paired
    TOST on the differences; otherwise a one-sample TOST of the reproduced values against
    the claimed mean (one trial: a plain threshold at the margin)."""
    if per_seed is not None and not _mean_consistent(claimed, per_seed):
        result = compare_trials(values, claimed, margin, None, step, alpha)
        note = (
            f"the claimed mean {fmt(claimed)} is not the mean {fmt(float(np.mean(per_seed)))} "
            "of the deposited per-seed values; tested against the claimed mean: "
        )
        return result.model_copy(update={"evidence": note + result.evidence})
    if per_seed is not None and len(per_seed) == len(values):
        diffs = [v - c for v, c in zip(values, per_seed, strict=True)]
        if all(
            abs(d) <= deposited_precision(c) + slack(v, c)
            for d, v, c in zip(diffs, values, per_seed, strict=True)
        ):
            return _identical_trials(values, per_seed, claimed)
        paired = tost_one_sample(diffs, 0.0, margin, alpha, step)
        mean = float(np.mean(values))
        return paired.model_copy(
            update={
                "test": "tost-paired",
                "observed": mean,
                "claimed": claimed,
                "difference": float(np.mean(diffs)),
                "evidence": "paired per seed: " + paired.evidence,
                "details": {
                    **paired.details,
                    "reproduced": list(values),
                    "claimed_per_seed": list(per_seed),
                },
            }
        )
    if len(values) >= 2:
        return tost_one_sample(values, claimed, margin, alpha, step)
    one = compare_scalar(
        float(values[0]), claimed, AbsoluteTolerance(kind="absolute", value=margin)
    )
    return one.model_copy(update={"evidence": "one trial: " + one.evidence})
