"""A claim's fresh-seed check in words: the numbers of :mod:`harness.stats.seed_robustness`
(the one-sided lowest-seed test, its power, the fresh seeds it needs) as the SeedCheck a
report shows, and the findings a seed-sensitive claim raises."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from harness.intake.manifest import MANIFEST_NAME
from harness.models import BadgeKey, ClaimResult, Finding, SeedCheck
from harness.stats.seed_robustness import (
    DEFAULT_ALPHA,
    GUARD,
    LADDER,
    POWER_TARGET,
    SELECTION_FACTOR,
    TEST_NAME,
    Floats,
    fresh_needed,
    lowest_seed_test,
    percentile,
    power,
)
from harness.wording import plural

Outcome = Literal["seed-sensitive", "typical", "inconclusive"]
Better = Literal["higher", "lower"]


def _fmt_p(p: float) -> str:
    """"= 0.0037", or "< 0.0001" for the smallest p-values (the quadrature's relative error
    grows there)."""
    return f"= {p:.2g}" if p >= 1e-4 or p == 0 else "< 0.0001"


def seed_check(
    claimed: float,
    deposited: Sequence[float],
    fresh: Sequence[float],
    alpha: float = DEFAULT_ALPHA,
    correlated: bool = False,
    higher_is_better: bool = True,
) -> SeedCheck:
    """``correlated``: the deposited seeds share shots (harness.intake.correlated_seeds), so
    their spread is no estimate of seed-to-seed variance and the test is not run.
    ``higher_is_better``: the direction a flattering selection moves the metric (circuit
    tvd_ideal: lower; a notebook metric: its manifest's ``better``)."""
    f = np.asarray(fresh, dtype=float)
    d = np.asarray(deposited, dtype=float)
    better: Better = "higher" if higher_is_better else "lower"
    where = percentile(claimed, list(f))
    base = SeedCheck(
        fresh_n=int(f.size),
        fresh_mean=float(f.mean()),
        fresh_sd=float(f.std(ddof=1)) if f.size > 1 else 0.0,
        claimed=claimed,
        percentile=where,
        deposited_n=int(d.size),
        deposited_mean=float(d.mean()) if d.size else None,
        alpha=alpha,
        better=better,
        flagged=False,
        evidence="",
    )
    head = (
        f"the claim {claimed:.4g} sits at the {where:.0%} point of {f.size} fresh-seed "
        f"results (mean {base.fresh_mean:.4g}, sd {base.fresh_sd:.3g})"
    )
    untested = _untested(d, f, correlated)
    if untested is not None:
        why, skipped = untested
        return base.model_copy(update={"evidence": f"{head}; {why}", "outcome": skipped})

    t, p, perm, comps = lowest_seed_test(d, f, higher_is_better)
    guard = GUARD * alpha
    flagged = p < alpha and perm < guard
    n_d, k = int(d.size), int(f.size)
    v_d, v_f = float(d.var(ddof=1)), float(f.var(ddof=1))
    ratio = v_d / v_f if v_f > 0 else None
    pw = power(n_d, k, alpha)
    needed = fresh_needed(n_d, alpha)
    selection = f"best-{n_d}-of-{SELECTION_FACTOR * n_d} selection"
    direction = f"one-sided toward {better} values, the better direction"
    ps = _p_words(p, perm, alpha, guard)
    if flagged:
        outcome: Outcome = "seed-sensitive"
        verdict = (
            f"seed-sensitive: the {n_d} deposited seeds are a flattering selection among {k} "
            f"fresh seeds ({direction}: {_lowest_words(d, f, t, higher_is_better)}, {ps}): "
            f"{_components(d, f, comps, ratio, higher_is_better)}"
        )
    elif pw >= POWER_TARGET:
        outcome = "typical"
        verdict = (
            f"the deposited seeds are typical ({direction}: {ps}; power {pw:.2f} at {k} fresh "
            f"seeds against a {selection})"
        )
    else:
        outcome = "inconclusive"
        more = (
            f"{needed} fresh seeds would give {POWER_TARGET:.0%}"
            if needed is not None
            else f"even {LADDER[-1]} fresh seeds would not give {POWER_TARGET:.0%}"
        )
        verdict = (
            f"inconclusive: not flagged ({direction}: {ps}), but with "
            f"{plural(k, 'fresh seed')} the check detects a "
            f"{selection} only {pw:.0%} of the time; {more}"
        )
    return base.model_copy(
        update={
            "p_value": p,
            "permutation_p": perm,
            "flagged": flagged,
            "evidence": f"{head}; {verdict}",
            "test": TEST_NAME,
            "components": comps,
            "variance_ratio": ratio,
            "power": pw,
            "fresh_needed": needed,
            "outcome": outcome,
        }
    )


def _p_words(p: float, perm: float, alpha: float, guard: float) -> str:
    """The two p-values against their thresholds."""
    if p >= alpha:
        return f"p {_fmt_p(p)} >= {alpha:g}"
    return (
        f"normal-theory p {_fmt_p(p)} < {alpha:g}, permutation p {_fmt_p(perm)} "
        f"{'<' if perm < guard else '>='} {guard:g}"
    )


def _lowest_words(d: Floats, f: Floats, t: float, higher: bool) -> str:
    """The statistic in words: the worst deposited value against the fresh ones."""
    worst = d.min() if higher else d.max()
    if not math.isfinite(t):  # every fresh value equal
        return (
            f"the {'lowest' if higher else 'highest'} deposited value {worst:.4g} is "
            f"{'above' if higher else 'below'} the fresh values, all {f[0]:.4g}"
        )
    return (
        f"the {'lowest' if higher else 'highest'} deposited value {worst:.4g} is {t:.2f} fresh "
        f"sd {'above' if higher else 'below'} the fresh mean {f.mean():.4g}"
    )


def _untested(
    d: Floats, f: Floats, correlated: bool
) -> tuple[str, Outcome] | None:
    """Why the test is not run, and the outcome then; None: it is run."""
    if d.size < 2:
        return "one deposited seed cannot be tested against fresh seeds", "inconclusive"
    if correlated:
        return (
            "inconclusive: the deposited seeds share shots (correlated-seeds), so their "
            "spread is not seed-to-seed variance; never flagged for it",
            "inconclusive",
        )
    if f.size < 2:
        return "inconclusive: one fresh seed cannot test the deposited ones", "inconclusive"
    if np.ptp(np.concatenate([f, d])) == 0:
        return "every result is identical: the deposited seeds are typical", "typical"
    return None


def _components(
    d: Floats, f: Floats, comps: dict[str, float], ratio: float | None, higher: bool
) -> str:
    """The three components of a flagged check, in words (one-sided permutation p-values)."""
    median = np.median(f)
    beyond = int(np.sum(d > median) if higher else np.sum(d < median))
    wins = d[:, None] > f[None, :] if higher else d[:, None] < f[None, :]
    u = float(np.sum(wins) + 0.5 * np.sum(d[:, None] == f[None, :]))
    v_d, v_f = float(d.var(ddof=1)), float(f.var(ddof=1))
    spread = (
        f"deposited variance {ratio:.2g} times the fresh variance (fresh sd "
        f"{1 / math.sqrt(ratio):.2g} times the deposited sd)"
        if ratio
        else f"deposited variance {v_d:.2g}, fresh variance {v_f:.2g}"
    )
    side = "above" if higher else "below"
    return (
        f"deposited mean {d.mean():.4g} vs fresh {f.mean():.4g} (difference "
        f"{d.mean() - f.mean():+.3g}, p {_fmt_p(comps['location'])}); {beyond} of {d.size} "
        f"deposited values {side} the fresh median (Mann-Whitney U = {u:g} of a possible "
        f"{d.size * f.size}, p {_fmt_p(comps['rank'])}); {spread} "
        f"(p {_fmt_p(comps['spread'])})"
    )


def seed_findings(claims: Sequence[ClaimResult], policy: str = "strict") -> list[Finding]:
    """A finding per seed-sensitive claim; under the strict (default) policy it denies
    Reproduced, under ``report`` it is only shown."""
    blocks: tuple[BadgeKey, ...] = ("reproduced",) if policy == "strict" else ()
    return [
        Finding(
            code="seed-sensitive",
            severity="error" if blocks else "warning",
            file=MANIFEST_NAME,
            field=f"claims[{c.id}]",
            blocks=blocks,
            message=f"claim {c.id}: {c.seed_check.evidence}",
        )
        for c in claims
        if c.seed_check is not None and c.seed_check.flagged
    ]
