"""Repeated-trial claims: which test decides them (pure, no I/O). Identical per-seed values
pass outright; per-seed values are tested paired (TOST on the differences); otherwise a
one-sample TOST (:mod:`harness.stats.tost`), Welch's two-sample TOST, or the bootstrap
confidence-interval rule (:mod:`harness.stats.bootstrap`) when the claim asks for them."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from harness.models import Comparison
from harness.stats.bootstrap import compare_bootstrap
from harness.stats.compare import compare_scalar, fmt, slack
from harness.stats.distributions import norm_ppf, t_ppf
from harness.stats.tost import (
    Values,
    settle,
    t_pvalues,
    tost_one_sample,
    tost_welch,
)
from harness.tolerances import AbsoluteTolerance
from harness.units import deposited_precision


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
    test: str = "auto",
) -> Comparison:
    """A repeated-trial claim: identical per-seed values pass; with per-seed values a paired
    TOST on the differences; otherwise a one-sample TOST of the reproduced values against
    the claimed mean (one trial: a plain threshold at the margin). ``test`` may ask for
    Welch's two-sample TOST against the per-seed values (independent seeds) or for the
    bootstrap confidence-interval rule (non-normal metrics) instead."""
    if test == "tost-welch" and per_seed:
        return tost_welch(values, per_seed, margin, alpha, step)
    if test == "bootstrap-ci":
        return compare_bootstrap(values, claimed, margin)
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


def one_effective_trial(
    values: Values, sd: float, df: float, claimed: float, margin: float, why: str,
    alpha: float = 0.05,
) -> Comparison:
    """The mean of correlated trials as one trial with standard error ``sd`` (from independent
    trials, df = their number - 1, or from shot noise, df inf): the interval
    mean +/- t(1 - alpha, df) * sd, decided like TOST."""
    mean = float(np.mean(values))
    crit = t_ppf(1 - alpha, df) if math.isfinite(df) else norm_ppf(1 - alpha)
    settled = settle(mean, sd, 1, crit, claimed, margin, alpha)
    t = t_pvalues(mean, sd, df, claimed - margin, claimed + margin)
    word = {"pass": "equivalent", "fail": "contradicted", "inconclusive": "inconclusive "
            "(seeds more than `shots` apart, or a larger margin, would decide)"}[settled.outcome]
    return Comparison(
        verdict=settled.outcome,
        test="tost-one-trial",
        observed=mean,
        claimed=claimed,
        difference=mean - claimed,
        p_value=max(t["p_lower"], t["p_upper"]),
        alpha=alpha,
        evidence=f"{why}, the {settled.level:.0%} interval [{fmt(settled.low)}, "
        f"{fmt(settled.high)}] vs the claim {fmt(claimed)} +/-{fmt(margin)}: {word}",
        details={**t, "margin": margin, "sd_one_trial": sd, **settled.details(),
                 "trials_to_decide": None},
    )


