"""Equivalence tests (TOST) of repeated trials and their power (pure, no I/O).

Test ``tost``: two one-sided t-tests of H0: mu <= c - m and
  H0: mu >= c + m, with t_L = (xbar - c + m) / se, t_U = (xbar - c - m) / se,
  se = s / sqrt(n), df = n - 1; p = max(p_L, p_U); equivalence (pass) iff p < alpha.
  Power at mu = c and sigma = s (exact, integrating over the chi-square law of s):
  power = int_0^{u*} [2 Phi(delta - t_crit sqrt(u / df)) - 1] f_chi2(u; df) du with
  delta = m sqrt(n) / s, t_crit = t_{1-alpha, df}, u* = df (delta / t_crit)^2.

Test ``tost-welch`` (two independent samples, reproduced x vs deposited per-seed y):
  the same two one-sided tests on d = xbar - ybar against +/- m with
  se = sqrt(s_x^2 / n_x + s_y^2 / n_y) and the Welch-Satterthwaite
  df = se^4 / ((s_x^2/n_x)^2 / (n_x - 1) + (s_y^2/n_y)^2 / (n_y - 1)). Power (approximate):
  the integral above with delta = m / se and df = the Welch df, i.e. treating se_hat^2 as
  se^2 chi2_df / df (Satterthwaite), at d = 0 and the observed variances.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from harness.errors import ComparisonError
from harness.models import Comparison
from harness.stats.compare import error_comparison, fmt, slack
from harness.stats.distributions import chi2_isf, chi2_pdf, norm_cdf, t_cdf, t_ppf, t_sf
from harness.stats.outcome import Outcome, equivalence, more_trials, trials_to_decide
from harness.tolerances import Spread

Values = Sequence[float] | npt.NDArray[np.floating[Any]]  # per-trial values


def spread_to_sd(spread: Spread) -> float:
    """The sample sd behind a stated spread: sd as is, se * sqrt(n), ci half-width / t * sqrt(n)."""
    if spread.kind == "sd":
        return spread.value
    if spread.kind == "se":
        return spread.value * math.sqrt(spread.n)
    if spread.n < 2:
        raise ComparisonError("a confidence interval over one trial gives no sd")
    t = t_ppf((1 + spread.level) / 2, spread.n - 1)
    return spread.value / t * math.sqrt(spread.n)


def tost_power(sd: float, n: int, margin: float, alpha: float = 0.05) -> float:
    """Power of the one-sample TOST when the true mean equals the claim and sigma = sd."""
    if n < 2 or margin <= 0:
        return 0.0
    if sd <= 0:
        return 1.0
    return tost_power_delta(margin * math.sqrt(n) / sd, n - 1, alpha)


def tost_power_delta(delta: float, df: float, alpha: float) -> float:
    """TOST power at a zero true difference for delta = margin / se, when the estimated se
    is se * sqrt(chi2_df / df) (exact for one sample; Satterthwaite's law for Welch)."""
    from scipy import integrate  # loads scipy.optimize and scipy.linalg: only for the power

    t_crit = t_ppf(1 - alpha, df)
    upper = df * (delta / t_crit) ** 2

    def integrand(u: float) -> float:
        inner = 2.0 * norm_cdf(delta - t_crit * math.sqrt(u / df)) - 1.0
        return float(inner * chi2_pdf(u, df))

    # beyond the chi-square's 1 - 1e-14 quantile nothing is left to integrate; without the
    # cap, quad misses the mass near df on a huge interval (tiny sd) and returns ~0
    high = min(upper, chi2_isf(1e-14, df))
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
    return t_pvalues(mean, sd / math.sqrt(n), n - 1, low, high)


def t_pvalues(mean: float, se: float, df: float, low: float, high: float) -> dict[str, float]:
    """The two one-sided t-tests of low < mean < high (se 0: decided by the mean alone)."""
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
        "p_lower": t_sf(t_l, df),
        "p_upper": t_cdf(t_u, df),
        "se": se,
        "df": df,
    }


def _tost_check(sd: float, n: int, margin: float, alpha: float, step: float | None) -> str | None:
    if n < 2:
        return f"TOST needs at least two trials, got {n}"
    if not (math.isfinite(sd) and sd >= 0):
        return f"the standard deviation {sd} is not a finite non-negative number"
    return _margin_check(margin, alpha, step)


def _margin_check(margin: float, alpha: float, step: float | None) -> str | None:
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
    t_crit = t_ppf(1 - alpha, n - 1)
    settled = settle(mean, t["se"], n, t_crit, claimed, margin, alpha)
    return Comparison(
        verdict=settled.outcome,
        test="tost",
        observed=mean,
        claimed=claimed,
        difference=mean - claimed,
        statistic="t_min",
        statistic_value=min(t["t_lower"], -t["t_upper"]),
        p_value=p,
        alpha=alpha,
        power=power,
        evidence=f"mean {fmt(mean)} (sd {fmt(sd)}, n {n}) vs claimed {fmt(claimed)}: "
        + tost_wording(margin, alpha, p, power, settled, "TOST"),
        details={
            **t,
            "margin": margin,
            "sd": sd,
            "n": n,
            "t_critical": t_crit,
            **settled.details(),
        },
    )


OUTCOME_WORD = {"pass": "equivalent", "fail": "contradicted", "inconclusive": "inconclusive"}


class Settled:
    """The (1 - 2 alpha) interval of an estimate and what it says about claimed +/- m."""

    def __init__(
        self, low: float, high: float, outcome: Outcome, needed: int | None, level: float
    ) -> None:
        self.low, self.high, self.outcome, self.needed, self.level = (
            low, high, outcome, needed, level)

    def details(self) -> dict[str, Any]:
        return {"ci_low": self.low, "ci_high": self.high, "ci_level": self.level,
                "trials_to_decide": self.needed}


def settle(
    estimate: float, se: float, n: int, t_crit: float, center: float, margin: float,
    alpha: float,
) -> Settled:
    low, high = estimate - t_crit * se, estimate + t_crit * se
    outcome = equivalence(low, high, center, margin)
    needed = (
        trials_to_decide(estimate, se, n, (center - margin, center + margin), alpha)
        if outcome == "inconclusive" else None
    )
    return Settled(low, high, outcome, needed, 1 - 2 * alpha)


def tost_wording(
    margin: float, alpha: float, p: float, power: float, settled: Settled, label: str
) -> str:
    band = f"+/-{fmt(margin)}"
    interval = f"its {settled.level:.0%} interval [{fmt(settled.low)}, {fmt(settled.high)}]"
    if settled.outcome == "pass":
        result = (f"equivalent within {band}: {interval} lies inside the claim {band} "
                  f"({label} p = {p:.3g} < alpha {alpha:g}")
    elif settled.outcome == "fail":
        result = (f"contradicted: {interval} lies entirely outside the claim {band} "
                  f"({label} p = {p:.3g}")
    else:
        result = (f"inconclusive: {interval} reaches past the edge of the claim {band}, so "
                  f"neither equivalence nor a contradiction is shown ({label} p = {p:.3g}; "
                  f"{more_trials(settled.needed)}")
    if power < 0.8:
        return f"{result}; low power at this n: an honest claim passes {power:.0%} of the time)"
    return f"{result}; power {power:.2f})"




# --- two samples: Welch TOST ----------------------------------------------------------


def tost_welch(
    reproduced: Values,
    claimed_values: Values,
    margin: float,
    alpha: float = 0.05,
    step: float | None = None,
) -> Comparison:
    """Welch two-sample TOST: is mean(reproduced) - mean(claimed_values) within +/- margin?

    For a reproduction run with its own independent seeds against deposited per-seed values
    (unequal variances and sizes allowed; Welch-Satterthwaite df). Power is approximate: the
    exact one-sample integral with df = the Welch df, at a zero true difference and the
    observed variances (Satterthwaite's chi-square law for the estimated se).
    """
    x = np.asarray(reproduced, dtype=float)
    y = np.asarray(claimed_values, dtype=float)
    problem = _welch_check(x, y, margin, alpha, step)
    if problem is not None:
        return error_comparison("tost-welch", problem, alpha=alpha)
    t = _welch_pvalues(x, y, margin)
    p = max(t["p_lower"], t["p_upper"])
    power = 1.0 if t["se"] == 0 else tost_power_delta(margin / t["se"], t["df"], alpha)
    mean_x, mean_y = float(x.mean()), float(y.mean())
    sd_x, sd_y = float(x.std(ddof=1)), float(y.std(ddof=1))
    t_crit = t_ppf(1 - alpha, t["df"])
    settled = settle(mean_x - mean_y, t["se"], int(x.size), t_crit, 0.0, margin, alpha)
    label = f"Welch TOST, df {t['df']:.1f},"
    return Comparison(
        verdict=settled.outcome,
        test="tost-welch",
        observed=mean_x,
        claimed=mean_y,
        difference=mean_x - mean_y,
        statistic="t_min",
        statistic_value=min(t["t_lower"], -t["t_upper"]),
        p_value=p,
        alpha=alpha,
        power=power,
        evidence=f"reproduced mean {fmt(mean_x)} (sd {fmt(sd_x)}, n {x.size}) vs deposited "
        f"mean {fmt(mean_y)} (sd {fmt(sd_y)}, n {y.size}), difference {fmt(mean_x - mean_y)}: "
        + tost_wording(margin, alpha, p, power, settled, label),
        details={
            **t,
            "margin": margin,
            "sd_reproduced": sd_x,
            "sd_claimed": sd_y,
            "n_reproduced": int(x.size),
            "n_claimed": int(y.size),
            "t_critical": t_crit,
            **settled.details(),
        },
    )


def _welch_check(
    x: np.ndarray, y: np.ndarray, margin: float, alpha: float, step: float | None
) -> str | None:
    if min(x.size, y.size) < 2:
        return f"Welch TOST needs at least two values on each side, got {x.size} and {y.size}"
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return "a reproduced or deposited trial value is not finite"
    return _margin_check(margin, alpha, step)


def welch_df(var_x: float, n_x: int, var_y: float, n_y: int) -> float:
    """Welch-Satterthwaite df of mean(x) - mean(y) from the sample variances (ddof=1).

    Both variances zero: the limit is undefined; n_x + n_y - 2 is returned.
    """
    a, b = var_x / n_x, var_y / n_y
    if a + b == 0:
        return float(n_x + n_y - 2)
    return (a + b) ** 2 / (a**2 / (n_x - 1) + b**2 / (n_y - 1))


def _welch_pvalues(x: np.ndarray, y: np.ndarray, margin: float) -> dict[str, float]:
    var_x, var_y = float(x.var(ddof=1)), float(y.var(ddof=1))
    se = math.sqrt(var_x / x.size + var_y / y.size)
    df = welch_df(var_x, int(x.size), var_y, int(y.size))
    return t_pvalues(float(x.mean() - y.mean()), se, df, -margin, margin)


