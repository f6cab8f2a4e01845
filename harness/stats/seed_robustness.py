"""Seed robustness: do the deposited seeds give typical results, or the best of many?

With ``--fresh-seeds K`` every seeded experiment also runs with K new seeds. For each claim:

* the claim's percentile among the K fresh-seed values (shown for every claim);
* with two or more deposited seeds (and two or more fresh ones), a combined permutation test
  of "the values at the deposited seeds and at the fresh seeds come from one distribution".
  p < alpha (0.02 by default) flags the claim "seed-sensitive": its seeds sit in a tail of
  what the experiment gives (e.g. the best 5 of 20 seeds were reported). Under the default
  policy a flagged claim keeps Reproduced away;
* a single deposited seed cannot be judged this way: even a value above all K fresh values
  has probability 1/(K+1) for an honest seed, so it is reported, never flagged.

The test (``npc-location-rank-spread``) is Pesarin's nonparametric combination (NPC) of three
components, each a statistic of the labelling of the pooled n_d + K values:

* location: |Welch t| of deposited vs fresh;
* rank: two-sided Mann-Whitney |U - n_d K / 2| (midranks for ties);
* spread: deposited sample variance / fresh sample variance, where SMALL is extreme (a
  best-k-of-n selection keeps the top of the distribution, whose spread is much narrower).

Every label assignment of the pooled values is enumerated when there are at most
``EXACT_LIMIT`` (20,000) of them (n_d = 5: K <= 15), otherwise ``SAMPLED`` (10,000) random
assignments from a fixed numpy seed are used, plus the observed one. For each component
every assignment gets its permutation p-value (share of assignments at least as extreme);
they are combined by Fisher's -2 sum log p, and the overall p is the share of assignments
whose combined statistic is at least the observed one. Under honest seeds (deposited and
fresh values exchangeable, e.g. iid) the enumerated test is exact whatever the metric's
distribution and its ties (discrete accuracies), and the sampled one is a standard Monte
Carlo permutation test.

Why the combined test: a PennyLane classifier whose 20 seeds give test accuracy 0.776 +/-
0.063 (step 1/39), deposited as its best five (0.851 +/- 0.012), against 10 fresh seeds
(0.751 +/- 0.126, e.g. 24 24 25 25 27 31 31 34 36 36 / 39): Welch p = 0.033, not flagged at
0.02; the combined test gives p = 0.012 (spread component p = 0.0007: the deposited variance
is 1/120 of the fresh one) and flags it. How the fresh values lie matters: of all 2010 sets
of ten fresh values between 19/39 and 36/39 with that mean and sd (to 3 decimals), 67% are
flagged; of the 13 that stay inside the 20 seeds' range 0.59-0.87, 4. A fresh sd twice the
seeds' sd is itself unlikely for fresh seeds of the same experiment.

Measured by benchmarks/validity/seed_check.py (1000 trials per cell, 5 deposited seeds,
cherry-picked = the best 5 of 20; notebook accuracies on 39 test points, per-seed true
accuracy ~ N(0.78, sd), and a fidelity-like success fraction of 1000 shots), flag rates at
alpha 0.02, combined test / Welch:

metric                 cherry, K = 10   cherry, K = 20   honest, K = 10   honest, K = 20
accuracy sd 0.06       64.2% / 68.2%    78.8% / 87.2%    2.3% / 2.5%      1.5% / 2.6%
accuracy sd 0.09       67.4% / 67.5%    81.6% / 91.1%    2.1% / 2.2%      2.5% / 3.2%
accuracy sd 0.13       70.5% / 73.3%    82.7% / 91.7%    2.1% / 2.5%      2.3% / 3.4%
fidelity-like          63.1% / 63.7%    78.3% / 84.5%    2.1% / 1.9%      2.4% / 3.0%

So the combined test holds its level (exactly when enumerated; Welch runs 2.5-3.4% at
K = 20) but on average it is not more powerful than Welch: 0-4 points lower at K = 10 and
6-10 points lower at K = 20. A permutation test takes its reference distribution from the
pooled values, and under cherry-picking those contain the selected cluster; Welch's
normal-theory reference does not.
No level-0.02 test reaches 80% at K = 10 here: even the most powerful rank test against this
alternative (the rank of the lowest deposited value, one-sided) reached 0.71 (normal, 400
simulations).

alpha stays 0.02. At 0.05 the combined test flags 81-87% of cherry-picked deposits at K = 10
(92-93% at K = 20) but 3-5% of honest ones (500 trials per cell), so under the strict policy
one honest deposit in twenty would lose Reproduced; at 0.01 it flags 50-57% (K = 10) and
66-69% (K = 20).

Power: against the reference alternative "the deposited n_d values are the best n_d of 4 n_d
seeds" (normal seed-to-seed distribution; the three statistics are affine-invariant, so only
n_d and K matter) the power at the K used and the smallest K in ``LADDER`` with power >= 0.8
are estimated by seeded Monte Carlo (``POWER_SIMS`` simulations, ``POWER_PERMS`` assignments
each) and cached per (n_d, K, alpha). A test that does not flag is reported as "typical" only
when that power is at least 0.8; otherwise it is "inconclusive" and says how many fresh seeds
would be enough.

Pure functions; no I/O.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from harness.intake.manifest import MANIFEST_NAME
from harness.models import BadgeKey, ClaimResult, Finding, SeedCheck

DEFAULT_ALPHA = 0.02
TEST_NAME = "npc-location-rank-spread"
COMPONENTS = ("location", "rank", "spread")
EXACT_LIMIT = 20_000
SAMPLED = 10_000
PERM_SEED = 20_261_122
POWER_TARGET = 0.8
POWER_SIMS = 400
POWER_PERMS = 2_000
POWER_SEED = 4_242
LADDER = (5, 10, 15, 20, 30, 40, 60, 80)
SELECTION_FACTOR = 4  # reference alternative: the best n_d of SELECTION_FACTOR * n_d seeds

Outcome = Literal["seed-sensitive", "typical", "inconclusive"]
Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


def percentile(value: float, sample: Sequence[float]) -> float:
    """Share of ``sample`` below ``value``, ties counted half."""
    data = np.asarray(sample, dtype=float)
    return float((np.sum(data < value) + 0.5 * np.sum(data == value)) / data.size)


@lru_cache(maxsize=16)
def _assignments(n: int, n_d: int, limit: int, sample: int, seed: int) -> Ints:
    """The deposited group of every assignment (n_d x assignments indices into the pooled
    values); column 0 is the observed labelling (the first n_d values). All C(n, n_d)
    assignments when there are at most ``limit``, else the observed one plus ``sample`` random
    ones drawn from ``seed``."""
    if math.comb(n, n_d) <= limit:
        idx = np.array(list(itertools.combinations(range(n), n_d)), dtype=np.int64)
    else:
        keys = np.random.default_rng(seed).random((sample, n))
        drawn = np.argpartition(keys, n_d - 1, axis=1)[:, :n_d].astype(np.int64)
        idx = np.vstack([np.arange(n_d, dtype=np.int64)[None, :], drawn])
    out = np.ascontiguousarray(idx.T)
    out.flags.writeable = False
    return out


def _group_sums(rows: Floats, idx: Ints) -> Floats:
    """Sum of each row's values over each assignment's deposited group: (Q, n) -> (Q, M)."""
    q, n = rows.shape
    m = idx.shape[1]
    if q <= 24:  # a few rows: gathering beats a matrix product (and BLAS thread start-up)
        out: Floats = rows[:, idx[0]]
        for members in idx[1:]:
            out += rows[:, members]
        return out
    member = np.zeros((n, m))
    member[idx, np.arange(m)[None, :]] = 1.0
    product: Floats = rows @ member
    return product


def _doubled_ranks(z: Floats) -> Floats:
    """Twice the midranks (1..n, ties given their mean rank) down each column: integers."""
    n, s = z.shape
    order = np.argsort(z, axis=0, kind="stable")
    zs = np.take_along_axis(z, order, axis=0)
    new = np.ones((n + 1, s), dtype=bool)  # new[i]: sorted value i starts a tie run
    new[1:n] = zs[1:] != zs[:-1]
    pos = np.arange(n + 1, dtype=float)[:, None]
    first = np.maximum.accumulate(np.where(new, pos, 0.0), axis=0)[:n]
    last = np.flip(np.minimum.accumulate(np.flip(np.where(new[1:], pos[:n], n), 0), axis=0), 0)
    ranks = np.empty_like(z)
    np.put_along_axis(ranks, order, first + last + 2, axis=0)
    return ranks


def _upper_counts(x: Floats) -> Ints:
    """For every entry, how many entries of its row (last axis) are >= it."""
    m = x.shape[-1]
    order = np.argsort(x, axis=-1)
    xs = np.take_along_axis(x, order, axis=-1)
    new = np.ones(xs.shape, dtype=bool)
    new[..., 1:] = xs[..., 1:] != xs[..., :-1]
    below = np.maximum.accumulate(np.where(new, np.arange(m), 0), axis=-1)
    out = np.empty(x.shape, dtype=np.int64)
    np.put_along_axis(out, order, m - below, axis=-1)
    return out


def _upper_counts_int(keys: Ints, top: int) -> Ints:
    """_upper_counts for integer keys in 0..top (rows = first axis), by counting."""
    s, _ = keys.shape
    flat = (keys + np.arange(s)[:, None] * (top + 1)).ravel()
    hist = np.bincount(flat, minlength=s * (top + 1)).reshape(s, top + 1)
    at_least = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]
    return np.take_along_axis(at_least, keys, axis=1)


def npc_pvalues(
    deposited: Floats, fresh: Floats, assignments: Ints | None = None
) -> tuple[Floats, Floats]:
    """The combined test for every column: ``deposited`` (n_d x S) against ``fresh`` (K x S),
    over ``assignments`` (n_d x M indices, column 0 = observed; default: seed_check's).
    Returns the combined p-values (S,) and the component p-values (3, S): location, rank,
    spread."""
    n_d, k = deposited.shape[0], fresh.shape[0]
    n = n_d + k
    idx = (
        assignments
        if assignments is not None
        else _assignments(n, n_d, EXACT_LIMIT, SAMPLED, PERM_SEED)
    )
    m = idx.shape[1]
    z = np.vstack([deposited, fresh]).astype(float)
    s = z.shape[1]
    sd = z.std(axis=0)
    z = (z - z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)  # all three are affine-invariant
    rows = np.concatenate([z.T, (z * z).T, _doubled_ranks(z).T])  # (3 S, n)
    sums = _group_sums(rows, idx)  # (3 S, M): deposited sum, sum of squares, rank sum
    s_d, q_d, r_d = sums[:s], sums[s : 2 * s], sums[2 * s :]
    q_t = (z * z).sum(axis=0)[:, None]  # n, or 0 when every value is equal
    sq = s_d * s_d  # the fresh sum is -s_d: z has mean 0
    ss_d = np.maximum(q_d - sq / n_d, 0.0)  # sums of squares about the group means
    ss_f = np.maximum(q_t - q_d - sq / k, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Welch t^2 up to a constant factor: (mean_d - mean_f)^2 = sq (1/n_d + 1/k)^2
        location = sq / (ss_d / (n_d * (n_d - 1)) + ss_f / (k * (k - 1)))
        # -(share of the deposited sum of squares): monotone in -var_d / var_f
        spread = -ss_d / (ss_d + ss_f)
    np.copyto(location, 0.0, where=np.isnan(location))  # 0/0: every value equal
    np.copyto(spread, -0.5, where=np.isnan(spread))
    # 2 |U - n_d K / 2|, an integer in 0..n_d K
    rank = np.rint(np.abs(r_d - n_d * (n + 1))).astype(np.int64)
    # rounding makes equal statistics from sums taken in another order compare equal
    counts = (
        _upper_counts(np.round(location, 9)),
        _upper_counts_int(rank, n_d * k),
        _upper_counts(np.round(spread, 9)),
    )
    # Fisher's -2 sum log p is largest where the product of the counts is smallest; the
    # product is an exact integer in float64 (m**3 < 2**53)
    product = counts[0] * counts[1].astype(float) * counts[2]
    overall = (product <= product[:, :1]).mean(axis=1)
    return overall, np.stack([c[:, 0] for c in counts]) / m


@lru_cache(maxsize=512)
def power(n_d: int, k: int, alpha: float = DEFAULT_ALPHA) -> float:
    """Seeded Monte Carlo power of the test with n_d deposited and k fresh seeds against the
    best n_d of 4 n_d normal seeds (POWER_SIMS simulations, POWER_PERMS assignments each).
    Common random numbers across k: the deposits and the first k fresh values are shared."""
    rng = np.random.default_rng(POWER_SEED + n_d)
    pool = rng.standard_normal((SELECTION_FACTOR * n_d, POWER_SIMS))
    deposited = np.sort(pool, axis=0)[-n_d:]
    fresh = rng.standard_normal((max(k, LADDER[-1]), POWER_SIMS))[:k]
    idx = _assignments(n_d + k, n_d, POWER_PERMS, POWER_PERMS, PERM_SEED)
    p, _ = npc_pvalues(deposited, fresh, idx)
    return float(np.mean(p < alpha))


@lru_cache(maxsize=128)
def fresh_needed(n_d: int, alpha: float = DEFAULT_ALPHA) -> int | None:
    """The smallest K in LADDER whose power reaches POWER_TARGET (None: none does)."""
    return next((k for k in LADDER if power(n_d, k, alpha) >= POWER_TARGET), None)


def npc_test(
    deposited: Sequence[float] | Floats, fresh: Sequence[float] | Floats
) -> tuple[float, dict[str, float]]:
    """The combined permutation p-value and the component p-values (location, rank,
    spread) of deposited vs fresh values (each at least two)."""
    d = np.asarray(deposited, dtype=float)
    f = np.asarray(fresh, dtype=float)
    if d.size < 2 or f.size < 2:
        raise ValueError("the combined test needs at least two deposited and two fresh values")
    p, comp = npc_pvalues(d[:, None], f[:, None])
    return float(p[0]), {name: float(comp[i, 0]) for i, name in enumerate(COMPONENTS)}


def _fmt_p(p: float) -> str:
    return f"{p:.2g}"


def seed_check(
    claimed: float,
    deposited: Sequence[float],
    fresh: Sequence[float],
    alpha: float = DEFAULT_ALPHA,
    correlated: bool = False,
) -> SeedCheck:
    """``correlated``: the deposited seeds share shots (harness.stats.correlated_seeds), so
    their spread is no estimate of seed-to-seed variance and the test is not run."""
    f = np.asarray(fresh, dtype=float)
    d = np.asarray(deposited, dtype=float)
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

    p, comps = npc_test(d, f)
    flagged = p < alpha
    n_d, k = int(d.size), int(f.size)
    v_d, v_f = float(d.var(ddof=1)), float(f.var(ddof=1))
    ratio = v_d / v_f if v_f > 0 else None
    pw = power(n_d, k, alpha)
    needed = fresh_needed(n_d, alpha)
    selection = f"best-{n_d}-of-{SELECTION_FACTOR * n_d} selection"
    if flagged:
        outcome: Outcome = "seed-sensitive"
        verdict = (
            f"seed-sensitive: the {n_d} deposited seeds are extreme among {k} fresh seeds "
            f"(combined permutation test of location, rank and spread, p = {_fmt_p(p)} < "
            f"{alpha:g}): {_components(d, f, comps, ratio)}"
        )
    elif pw >= POWER_TARGET:
        outcome = "typical"
        verdict = (
            f"the deposited seeds are typical (combined permutation p = {_fmt_p(p)} >= "
            f"{alpha:g}; power {pw:.2f} at {k} fresh seeds against a {selection})"
        )
    else:
        outcome = "inconclusive"
        more = (
            f"{needed} fresh seeds would give {POWER_TARGET:.0%}"
            if needed is not None
            else f"even {LADDER[-1]} fresh seeds would not give {POWER_TARGET:.0%}"
        )
        verdict = (
            f"inconclusive: not flagged (combined permutation p = {_fmt_p(p)} >= {alpha:g}), "
            f"but {k} fresh seeds detect a {selection} only {pw:.0%} of the time; {more}"
        )
    return base.model_copy(
        update={
            "p_value": p,
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


def _components(d: Floats, f: Floats, comps: dict[str, float], ratio: float | None) -> str:
    """The three components of a flagged check, in words."""
    up = d.mean() >= f.mean()
    median = np.median(f)
    beyond = int(np.sum(d > median) if up else np.sum(d < median))
    u = float(np.sum(d[:, None] > f[None, :]) + 0.5 * np.sum(d[:, None] == f[None, :]))
    v_d, v_f = float(d.var(ddof=1)), float(f.var(ddof=1))
    spread = (
        f"deposited variance {ratio:.2g} times the fresh variance (fresh sd "
        f"{1 / math.sqrt(ratio):.2g} times the deposited sd)"
        if ratio
        else f"deposited variance {v_d:.2g}, fresh variance {v_f:.2g}"
    )
    return (
        f"deposited mean {d.mean():.4g} vs fresh {f.mean():.4g} (difference "
        f"{d.mean() - f.mean():+.3g}, p = {_fmt_p(comps['location'])}); {beyond} of {d.size} "
        f"deposited values {'above' if up else 'below'} the fresh median (Mann-Whitney U = "
        f"{u:g} of a possible {d.size * f.size}, p = {_fmt_p(comps['rank'])}); {spread} "
        f"(p = {_fmt_p(comps['spread'])})"
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
