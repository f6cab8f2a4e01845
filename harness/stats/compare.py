"""Statistical comparison of reproduced results with claimed ones (pure, no I/O).

Every function returns a :class:`harness.models.Comparison` whose verdict is ``pass``,
``fail`` or ``error`` (the comparison cannot be made), with the numbers behind it and one
sentence of evidence. The tests, with o = reproduced, c = claimed:

* Scalar, absolute tolerance a:  pass iff |o - c| <= a                 (test ``threshold``)
* Scalar, relative tolerance r:  pass iff |o - c| <= r |c|             (c is the reference)
  Both allow eps = 1e-12 * max(1, |o|, |c|) of float slack, so exactly-at-tolerance passes.
* Scalar from counts, shot-noise tolerance (test ``shot-noise-z``): a parametric bootstrap
  (B multinomial(N, p_hat) resamples of the observed distribution p_hat) gives mean m_obs
  and sd se_obs of the metric at the reproduced shot count N1, and m_claim, se_claim at the
  claimed shot count N2. Metrics such as fidelity or TVD to the ideal are biased by finite
  shots, differently for N1 != N2, so the expected difference b = m_obs - m_claim (0 when
  N1 = N2) is subtracted: pass iff |o - c - b| <= z_{1-alpha/2} sqrt(se_obs^2 + se_claim^2);
  approximate two-sided p-value 2 (1 - Phi(|o - c - b| / sqrt(se_obs^2 + se_claim^2))).
* Counts vs counts: identical counts pass outright (test ``exact``, the strongest evidence).
  Exact tolerance: anything else fails. Distance tolerance: pass iff the statistic between
  the two empirical distributions (tvd, hellinger distance or infidelity 1 - F, see
  :mod:`harness.stats.metrics`) is <= the stated value. Shot-noise tolerance (tests
  ``permutation-tvd`` / ``permutation-infidelity``, formerly ``bootstrap-*``): a Monte
  Carlo permutation test of H0
  "both samples come from one distribution": pool the shots, n = n1 + n2; B times deal
  N1 of the N1 + N2 pooled shots to sample one without replacement (multivariate
  hypergeometric, size=(B,)) and the rest to sample two; T_b = statistic of each pair;
  p = (1 + #{T_b >= T_obs}) / (B + 1); pass iff p >= alpha. The reported threshold is the
  (1 - alpha) quantile of T_b. Exact in level for any sparsity (cells with few or no
  shots), where chi-square and G-tests are not. Drawing the pairs as multinomials of the
  pooled frequencies instead (with replacement) is NOT valid for sparse counts: on
  10-qubit counts with 500 + 500 shots it raised false alarms in ~100% of trials at
  alpha 0.01 (an empirical distribution is more concentrated than the truth, so its
  resampled pairs look too alike); the permutation test held 1%.
* Repeated trials: see :mod:`harness.stats.trials`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np

from harness.errors import ComparisonError
from harness.models import Comparison
from harness.stats.distributions import norm_ppf, norm_sf
from harness.stats.metrics import (
    Distribution,
    common_width,
    hellinger_distance,
    hellinger_fidelity,
    metric_rows,
    normalise_counts,
    probabilities,
    tvd,
)
from harness.tolerances import (
    AbsoluteTolerance,
    DistanceTolerance,
    ExactTolerance,
    RelativeTolerance,
    ShotNoiseTolerance,
)

EPS = 1e-12
N_BOOT = 2000
ScalarTolerance = AbsoluteTolerance | RelativeTolerance | ExactTolerance
AnyTolerance = (
    AbsoluteTolerance | RelativeTolerance | DistanceTolerance | ShotNoiseTolerance | ExactTolerance
)
BootStatistic = Literal["tvd", "infidelity"]
_ROW_CELLS = 4_000_000  # bootstrap rows are drawn in chunks of at most this many cells
#: over more outcomes than this, the permutation null is drawn by groups of outcomes
LARGE_TABLE = 1 << 14
#: outcome-draws one test may make (N_BOOT draws over LARGE_TABLE outcomes), and the least
#: draws it makes however large the table (docs/statistics.md, Counts over many outcomes)
DRAW_BUDGET = N_BOOT * LARGE_TABLE
MIN_DRAWS = 199
#: the least resamples a shot-noise sd is estimated from (its error is about 7%)
MIN_RESAMPLES = 100


def fmt(x: float) -> str:
    if x == 0 or 1e-3 <= abs(x) < 1e4:
        return f"{x:.4f}"
    return f"{x:.4g}"


def slack(*values: float) -> float:
    return EPS * max(1.0, *(abs(v) for v in values))


def error_comparison(test: str, evidence: str, **fields: Any) -> Comparison:
    return Comparison(verdict="error", test=test, evidence=evidence, **fields)


# --- scalars --------------------------------------------------------------------------


def _scalar_threshold(claimed: float, tolerance: ScalarTolerance) -> tuple[float, str]:
    if isinstance(tolerance, AbsoluteTolerance):
        return tolerance.value, f"the absolute tolerance {fmt(tolerance.value)}"
    if isinstance(tolerance, RelativeTolerance):
        limit = tolerance.value * abs(claimed)
        return limit, f"the relative tolerance {tolerance.value:.4g} x |claimed| = {fmt(limit)}"
    return 0.0, "the exact tolerance"


def compare_scalar(observed: float, claimed: float, tolerance: AnyTolerance) -> Comparison:
    """|observed - claimed| against an absolute, relative (or exact) tolerance."""
    if not isinstance(tolerance, AbsoluteTolerance | RelativeTolerance | ExactTolerance):
        return error_comparison(
            "threshold", f"a {tolerance.kind} tolerance does not apply to a scalar"
        )
    test = "exact" if isinstance(tolerance, ExactTolerance) else "threshold"
    if not (math.isfinite(observed) and math.isfinite(claimed)):
        return error_comparison(
            test, f"reproduced value {observed} or claim {claimed} is not finite"
        )
    diff = observed - claimed
    limit, what = _scalar_threshold(claimed, tolerance)
    ok = abs(diff) <= limit + slack(observed, claimed)
    verb = "is within" if ok else "exceeds"
    return Comparison(
        verdict="pass" if ok else "fail",
        test=test,
        observed=observed,
        claimed=claimed,
        difference=diff,
        statistic="|difference|",
        statistic_value=abs(diff),
        threshold=limit,
        evidence=f"reproduced {fmt(observed)} vs claimed {fmt(claimed)}: "
        f"difference {fmt(diff)} {verb} {what}",
    )


def _resample(
    keys: list[str],
    counts: np.ndarray,
    shots: int,
    metric_fn: Callable[[Mapping[str, int]], float],
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """(mean, sd) of metric_fn over ``n_boot`` multinomial(shots, p_hat) resamples.

    A metric of :func:`harness.stats.metrics.bind_metric` takes all resamples at once
    (numpy); any other function is called once per resample, on its nonzero counts.
    """
    p = counts / counts.sum()
    step = max(1, _ROW_CELLS // len(keys))  # the resamples held at once
    parts = []
    for start in range(0, n_boot, step):
        rows = rng.multinomial(shots, p, size=min(step, n_boot - start))
        values = metric_rows(metric_fn, keys, rows)
        if values is None:
            values = np.array(
                [metric_fn({keys[j]: int(row[j]) for j in np.flatnonzero(row)}) for row in rows])
        parts.append(values)
    values = np.concatenate(parts)
    return float(np.mean(values)), float(np.std(values, ddof=1))


def resample_count(outcomes: int, n_boot: int) -> int:
    """The resamples a shot-noise bootstrap draws: ``n_boot``, or fewer where each costs
    more than DRAW_BUDGET / n_boot outcomes, never fewer than MIN_RESAMPLES."""
    return min(n_boot, max(MIN_RESAMPLES, DRAW_BUDGET // max(1, outcomes)))


def shot_noise_sd(
    counts: Mapping[str, int],
    metric_fn: Callable[[Mapping[str, int]], float],
    seed: int = 0,
    n_boot: int = 500,
) -> float:
    """Shot-noise sd of ``metric_fn(counts)``: its sd over multinomial resamples."""
    keys = [k for k, n in counts.items() if n > 0]
    if not keys:
        raise ComparisonError("no shots to estimate the shot noise from")
    x = np.array([counts[k] for k in keys], dtype=float)
    return _resample(keys, x, int(x.sum()), metric_fn, resample_count(len(keys), n_boot),
                     np.random.default_rng(seed))[1]


def compare_scalar_shot_noise(
    observed_counts: Mapping[str, int],
    claimed: float,
    metric_fn: Callable[[Mapping[str, int]], float],
    shots_claimed: int,
    alpha: float = 0.01,
    seed: int = 0,
    n_boot: int = N_BOOT,
) -> Comparison:
    """A scalar metric of counts vs its claimed value, allowing for shot noise on both sides.

    ``metric_fn`` maps counts to the metric (e.g. ``harness.stats.metrics.bind_metric(...)``).
    """
    test = "shot-noise-z"
    keys = [k for k, n in observed_counts.items() if n > 0]
    counts = np.array([observed_counts[k] for k in keys], dtype=float)
    if counts.sum() <= 0 or shots_claimed < 1:
        return error_comparison(test, "no shots to estimate the shot noise from")
    shots = int(counts.sum())
    rng = np.random.default_rng(seed)
    n_boot = resample_count(len(keys), n_boot)
    try:
        observed = float(metric_fn(observed_counts))
        mean_obs, se_obs = _resample(keys, counts, shots, metric_fn, n_boot, rng)
        mean_claim, se_claim = _resample(keys, counts, shots_claimed, metric_fn, n_boot, rng)
    except ComparisonError as exc:
        return error_comparison(test, exc.message)
    noise = {
        "se_observed": se_obs,
        "se_claimed": se_claim,
        "bias_shift": mean_obs - mean_claim if shots != shots_claimed else 0.0,
        "shots": shots,
        "shots_claimed": shots_claimed,
    }
    return _shot_noise_verdict(observed, claimed, noise, alpha)


def _z_and_p(excess: float, se: float, ok: bool) -> tuple[float, float]:
    if se > 0:
        z = excess / se
        return z, float(2 * norm_sf(z))
    return (0.0, 1.0) if ok else (math.inf, 0.0)


def _shot_noise_verdict(
    observed: float, claimed: float, noise: dict[str, float], alpha: float
) -> Comparison:
    diff = observed - claimed
    excess = abs(diff - noise["bias_shift"])
    se = math.hypot(noise["se_observed"], noise["se_claimed"])
    z_crit = norm_ppf(1 - alpha / 2)
    limit = z_crit * se
    ok = excess <= limit + slack(observed, claimed)
    z, p = _z_and_p(excess, se, ok)
    verb = "is within" if ok else "exceeds"
    shift = f" after a bias shift of {fmt(noise['bias_shift'])}" if noise["bias_shift"] else ""
    return Comparison(
        verdict="pass" if ok else "fail",
        test="shot-noise-z",
        observed=observed,
        claimed=claimed,
        difference=diff,
        statistic="|difference - bias_shift|",
        statistic_value=excess,
        threshold=limit,
        p_value=p,
        alpha=alpha,
        evidence=f"reproduced {fmt(observed)} vs claimed {fmt(claimed)}: difference "
        f"{fmt(diff)}{shift} {verb} the shot-noise allowance {fmt(limit)} "
        f"(z = {z:.2f}, p = {p:.3g}, alpha {alpha:g})",
        details={**noise, "z": z, "z_critical": z_crit},
    )


# --- counts ---------------------------------------------------------------------------


def align_counts(
    observed: Mapping[str, int], claimed: Mapping[str, int]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Both samples in binary keys of one width, as arrays over the outcomes seen in either."""
    width = common_width(observed, claimed)
    a = {k: n for k, n in normalise_counts(observed, width).items() if n}
    b = {k: n for k, n in normalise_counts(claimed, width).items() if n}
    if not a or not b:
        raise ComparisonError("reproduced or recorded counts hold no shots")
    keys = sorted(a.keys() | b.keys())
    x = np.array([a.get(k, 0) for k in keys], dtype=np.int64)
    y = np.array([b.get(k, 0) for k in keys], dtype=np.int64)
    return keys, x, y


def _row_statistic(which: BootStatistic, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """TVD or infidelity (1 - F) between distributions along the last axis."""
    if which == "tvd":
        return np.asarray(0.5 * np.abs(p - q).sum(axis=-1), dtype=float)
    return np.asarray(np.clip(1.0 - np.sqrt(p * q).sum(axis=-1) ** 2, 0.0, 1.0), dtype=float)


def permutation_null(
    x: np.ndarray, y: np.ndarray, which: BootStatistic, n_boot: int, seed: int
) -> np.ndarray:
    """``n_boot`` draws of the statistic under H0 by re-splitting the pooled shots.

    Each draw deals N1 of the N1 + N2 pooled shots to the first sample without replacement
    (multivariate hypergeometric) and the rest to the second: a Monte Carlo permutation test.
    Over more than LARGE_TABLE outcomes the same draws are made by groups of outcomes with
    one pooled count (:mod:`harness.stats.permutation`): the same law, another random stream.
    """
    pooled = x + y
    n1, n2 = int(x.sum()), int(y.sum())
    rng = np.random.default_rng(seed)
    if len(pooled) > LARGE_TABLE:
        return _grouped_null(pooled, n1, n2, which, n_boot, rng)
    chunk = max(1, _ROW_CELLS // max(1, len(pooled)))
    out = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        a = rng.multivariate_hypergeometric(pooled, n1, size=size)
        out[start : start + size] = _row_statistic(which, a / n1, (pooled - a) / n2)
    return out


def _grouped_null(pooled: np.ndarray, n1: int, n2: int, which: BootStatistic, n_boot: int,
                  rng: np.random.Generator) -> np.ndarray:
    from harness.stats.permutation import grouped_sums

    if which == "tvd":
        return 0.5 * grouped_sums(pooled, n1, n_boot,
                                  lambda a, c: np.abs(a / n1 - (c - a) / n2), rng)
    sums = grouped_sums(pooled, n1, n_boot, lambda a, c: np.sqrt(a / n1 * ((c - a) / n2)), rng)
    return np.asarray(np.clip(1.0 - sums**2, 0.0, 1.0), dtype=float)


def permutation_draws(x: np.ndarray, y: np.ndarray, n_boot: int, alpha: float) -> int:
    """The draws a permutation test makes: ``n_boot``, or fewer where a draw costs more
    than DRAW_BUDGET / n_boot outcomes, never fewer than 2 / alpha - 1 nor 199 (so that
    p can fall below alpha)."""
    from harness.stats.permutation import draw_cost

    pooled = x + y
    cost = draw_cost(pooled) if len(pooled) > LARGE_TABLE else len(pooled)
    least = max(MIN_DRAWS, math.ceil(2 / alpha) - 1)
    return min(n_boot, max(least, DRAW_BUDGET // max(1, cost)))


def _counts_details(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    return {
        "shots_observed": int(x.sum()),
        "shots_claimed": int(y.sum()),
        "outcomes": len(x),
        "outcomes_differing": int(np.count_nonzero(x != y)),
    }


def _identical(x: np.ndarray, y: np.ndarray) -> Comparison:
    return Comparison(
        verdict="pass",
        test="exact",
        statistic="tvd",
        statistic_value=0.0,
        threshold=0.0,
        evidence=f"reproduced counts are identical to the recorded counts ({int(x.sum())} shots "
        f"over {len(x)} outcomes), the strongest evidence of reproduction",
        details=_counts_details(x, y),
    )


def _not_identical(x: np.ndarray, y: np.ndarray) -> Comparison:
    t = float(_row_statistic("tvd", x / x.sum(), y / y.sum()))
    details = _counts_details(x, y)
    return Comparison(
        verdict="fail",
        test="exact",
        statistic="tvd",
        statistic_value=t,
        threshold=0.0,
        evidence=f"reproduced counts differ from the recorded counts in "
        f"{details['outcomes_differing']} of {len(x)} outcomes (TVD {fmt(t)}); "
        "the claim requires identical counts",
        details=details,
    )


def _infidelity(p: Distribution, q: Distribution) -> float:
    return 1.0 - hellinger_fidelity(p, q)


_DISTANCES: dict[str, Callable[[Distribution, Distribution], float]] = {
    "tvd": tvd,
    "hellinger": hellinger_distance,
    "infidelity": _infidelity,
}


def _distance(keys: list[str], x: np.ndarray, y: np.ndarray, tol: DistanceTolerance) -> Comparison:
    p = probabilities(dict(zip(keys, x.tolist(), strict=True)))
    q = probabilities(dict(zip(keys, y.tolist(), strict=True)))
    value = _DISTANCES[tol.statistic](p, q)
    ok = value <= tol.value + slack(value, tol.value)
    verb = "is within" if ok else "exceeds"
    return Comparison(
        verdict="pass" if ok else "fail",
        test="threshold",
        statistic=tol.statistic,
        statistic_value=value,
        threshold=tol.value,
        evidence=f"{tol.statistic} between reproduced and recorded counts is {fmt(value)}, "
        f"which {verb} the stated distance {fmt(tol.value)}",
        details=_counts_details(x, y),
    )


def _bootstrap_test(
    x: np.ndarray, y: np.ndarray, which: BootStatistic, alpha: float, n_boot: int, seed: int
) -> Comparison:
    observed = float(_row_statistic(which, x / x.sum(), y / y.sum()))
    n_boot = permutation_draws(x, y, n_boot, alpha)
    null = permutation_null(x, y, which, n_boot, seed)
    p = float((1 + np.count_nonzero(null >= observed - EPS)) / (n_boot + 1))
    limit = float(np.quantile(null, 1 - alpha))
    ok = p >= alpha
    verdict = "consistent with" if ok else "not explained by"
    return Comparison(
        verdict="pass" if ok else "fail",
        test=f"permutation-{which}",
        statistic=which,
        statistic_value=observed,
        threshold=limit,
        p_value=p,
        alpha=alpha,
        evidence=f"{which} {fmt(observed)} between reproduced and recorded counts is "
        f"{verdict} shot noise (permutation p = {p:.3g}, alpha {alpha:g}; "
        f"{1 - alpha:.0%} of same-distribution pairs reach {fmt(limit)})",
        details={**_counts_details(x, y), "n_boot": n_boot, "seed": seed},
    )


_BOOT_TESTS: dict[str | None, BootStatistic] = {
    None: "tvd",
    "auto": "tvd",
    "permutation-tvd": "tvd",
    "permutation-infidelity": "infidelity",
    # the names of the first version, kept for manifests that use them
    "bootstrap-tvd": "tvd",
    "bootstrap-infidelity": "infidelity",
}


def compare_counts(
    observed: Mapping[str, int],
    claimed: Mapping[str, int],
    tolerance: AnyTolerance,
    seed: int = 0,
    n_boot: int = N_BOOT,
    test: str | None = None,
) -> Comparison:
    """Reproduced counts vs recorded counts (identical, distance or shot-noise bootstrap).

    ``test`` picks the bootstrap statistic under a shot-noise tolerance:
    ``permutation-tvd`` (default, also ``auto``) or ``permutation-infidelity`` (the first
    version called them ``bootstrap-tvd`` / ``bootstrap-infidelity``; both names work).
    """
    try:
        aligned = align_counts(observed, claimed)
    except ComparisonError as exc:
        return error_comparison("exact", exc.message)
    return compare_aligned(aligned, tolerance, seed, n_boot, test)


Aligned = tuple[list[str], np.ndarray, np.ndarray]


def compare_aligned(
    aligned: Aligned,
    tolerance: AnyTolerance,
    seed: int = 0,
    n_boot: int = N_BOOT,
    test: str | None = None,
) -> Comparison:
    """:func:`compare_counts` of counts already aligned by :func:`align_counts` (claims on
    one run share its alignment)."""
    keys, x, y = aligned
    if np.array_equal(x, y):
        return _identical(x, y)
    if isinstance(tolerance, ExactTolerance):
        return _not_identical(x, y)
    if isinstance(tolerance, DistanceTolerance):
        return _distance(keys, x, y, tolerance)
    if isinstance(tolerance, ShotNoiseTolerance):
        which = _BOOT_TESTS.get(test)
        if which is None:
            return error_comparison(
                str(test), f"test '{test}' does not apply to a shot-noise tolerance"
            )
        return _bootstrap_test(x, y, which, tolerance.alpha, n_boot, seed)
    return error_comparison("threshold", f"a {tolerance.kind} tolerance does not apply to counts")
