"""Seed robustness: do the deposited seeds give typical results, or the best of many?

With ``--fresh-seeds K`` every seeded experiment also runs with K new seeds. For each claim:

* the claim's percentile among the K fresh-seed values (shown for every claim);
* with two or more deposited seeds (and two or more fresh ones), a one-sided test of "the
  deposited seeds are a flattering selection": p < alpha (0.02 by default), confirmed by a
  permutation guard, flags the claim "seed-sensitive" (e.g. the best 5 of 20 seeds were
  reported). Under the default policy a flagged claim keeps Reproduced away;
* a single deposited seed cannot be judged this way: even a value above all K fresh values
  has probability 1/(K+1) for an honest seed, so it is reported, never flagged.

Cherry-picking is directional: authors keep the seeds that make the claim look better, and
which direction is better is known (``higher_is_better``; the values are negated when lower is
better, so everything below is written for "higher is better"). A deposit whose seeds happen to
be the worst is not flattering and is never flagged.

The test (``one-sided-lowest-seed``): the statistic is the lowest deposited value, in fresh
standard deviations above the fresh mean,

    T = (min(deposited) - mean(fresh)) / sd(fresh).

When the seed-to-seed distribution F is known, the likelihood ratio of "the n_d deposited
values are the best n_d of m seeds" against "n_d ordinary seeds" is proportional to
F(min deposited)^(m - n_d), so the lowest deposited value is the most powerful statistic for
every m (Neyman-Pearson); T estimates F from the fresh seeds. A high T needs all three kinds
of evidence at once: a high deposited location, a high rank of every deposited value (its
lowest one) and a narrow deposited spread.

* normal-theory p: P(T >= t) for n_d + K independent normal values, computed by quadrature
  (Gauss-Hermite over the fresh mean, Gauss-Legendre over the log of the fresh sd; relative
  error < 1e-7), no Monte Carlo. This p is the test's ``p_value``: p < alpha is needed to flag.
* guard: the permutation p of the same statistic over every assignment of the pooled values to
  "deposited" (n_d) and "fresh" (K) (all of them up to ``EXACT_LIMIT`` = 20,000, n_d = 5:
  K <= 15; else ``SAMPLED`` = 10,000 random ones from a fixed seed plus the observed one) must
  also be below ``GUARD`` * alpha (0.05). Under honest seeds (deposited and fresh values
  exchangeable) that permutation test is exact whatever the distribution and its ties
  (enumerated; sampled: up to Monte Carlo error), so the false-flag rate is at most 0.05 for
  any metric; for normal-like metrics it is about alpha. With few values the guard cannot
  pass (n_d = K = 2: 6 assignments), so nothing is flagged.

Why not a permutation test alone (exact at alpha): its reference distribution is taken from
the pooled values, which under cherry-picking contain the selected cluster, and at K = 10 no
exact level-0.02 test reaches 80% against a best-5-of-20 selection (the permutation version
of T: 72-77%, the one-sided combination of location, rank and spread: 70-75%). Measured by
benchmarks/validity/seed_check.py (1000 trials per cell; notebook accuracies on 39 test points
with seed-to-seed sd 0.06-0.13, a fidelity-like metric): this test flags 84-87% of
best-5-of-20 deposits at K = 10 and 94% at K = 20, 1.8-2.8% of honest deposits (2.3-2.6% for
the accuracies, 1.9-2.0% for the fidelity with 20,000 trials) and none of the worst 5 of 20
(docs/statistics.md has the tables and the candidates compared).

Also reported, for reading (they do not decide): the one-sided permutation p-values of the
three components, location (Welch t), rank (Mann-Whitney U, midranks for ties) and spread
(a small deposited/fresh variance ratio is extreme).

Power: against the reference alternative "the deposited n_d values are the best n_d of 4 n_d
seeds" (normal; T is affine-invariant, so only n_d and K matter) the power at the K used and
the smallest K in ``LADDER`` with power >= 0.8 are estimated by seeded Monte Carlo
(``POWER_SIMS`` simulations, the guard over ``POWER_PERMS`` assignments) and cached per
(n_d, K, alpha). A test that does not flag is reported as "typical" only when that power is at
least 0.8; otherwise it is "inconclusive" and says how many fresh seeds would be enough.

Pure functions; no I/O.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss
from numpy.typing import NDArray
from scipy import special

DEFAULT_ALPHA = 0.02
GUARD = 2.5  # the permutation p must also be below GUARD * alpha
TEST_NAME = "one-sided-lowest-seed"
COMPONENTS = ("location", "rank", "spread")
EXACT_LIMIT = 20_000
SAMPLED = 10_000
PERM_SEED = 20_261_122
POWER_TARGET = 0.8
POWER_SIMS = 1_000
POWER_PERMS = 1_000
POWER_SEED = 4_242
LADDER = (5, 10, 15, 20, 30, 40, 60, 80)
SELECTION_FACTOR = 4  # reference alternative: the best n_d of SELECTION_FACTOR * n_d seeds
HERMITE_NODES, LOG_SD_NODES = 64, 128
TAIL = 1e-40  # the fresh-sd quadrature covers all but 2 TAIL of its distribution
ZERO_VAR = 1e-12  # a fresh variance below this (pooled values standardised) is zero
CHUNK = 128

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]


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


def _default_assignments(n: int, n_d: int) -> Ints:
    return _assignments(n, n_d, EXACT_LIMIT, SAMPLED, PERM_SEED)


# --- the statistic and its normal-theory p ------------------------------------------------


def lowest_t(deposited: Floats, fresh: Floats) -> Floats:
    """T = (min deposited - mean fresh) / sd fresh down each column (n_d x S, K x S -> S);
    a zero fresh sd gives +inf, -inf or 0 by the sign of the numerator."""
    low = deposited.min(axis=0)
    mean = fresh.mean(axis=0)
    sd = fresh.std(axis=0, ddof=1)
    diff = low - mean
    scale = np.maximum(np.abs(low), np.abs(mean))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = diff / sd
    flat = sd <= 1e-12 * np.maximum(scale, 1e-300)
    out: Floats = np.where(flat, _infinite(diff, 1e-12 * scale), t)
    return out


def _infinite(diff: Floats, tol: Floats | float) -> Floats:
    """T when the fresh sd is zero: +inf or -inf by the sign of ``diff``, 0 within ``tol``."""
    out: Floats = np.where(diff > tol, np.inf, np.where(diff < -tol, -np.inf, 0.0))
    return out


@lru_cache(maxsize=128)
def _nodes(k: int) -> tuple[Floats, Floats, Floats]:
    """Quadrature for K standard normal fresh values: nodes of the fresh mean m ~ N(0, 1/K)
    (Gauss-Hermite), of the fresh sd s (s^2 ~ chi2(K-1) / (K-1); Gauss-Legendre in log s over
    all but 2 TAIL of its distribution) and the product weights (len m x len s)."""
    nu = k - 1
    u, wu = hermegauss(HERMITE_NODES)
    m = u / math.sqrt(k)
    lo = 0.5 * math.log(2 * special.gammaincinv(nu / 2, TAIL) / nu)
    hi = 0.5 * math.log(2 * special.gammainccinv(nu / 2, TAIL) / nu)
    v, wv = leggauss(LOG_SD_NODES)
    y = lo + (v + 1) / 2 * (hi - lo)
    s = np.exp(y)
    # density of log s: 2 (nu/2)^(nu/2) / Gamma(nu/2) s^nu exp(-nu s^2 / 2)
    log_density = (
        math.log(2) + nu / 2 * math.log(nu / 2) - special.gammaln(nu / 2) + nu * y
        - nu * s * s / 2
    )
    ws = wv / 2 * (hi - lo) * np.exp(log_density)
    weights = np.outer(wu / wu.sum(), ws)
    for a in (m, s, weights):
        a.flags.writeable = False
    return m, s, weights


def normal_p(t: Floats | float, n_d: int, k: int) -> Floats:
    """P(T >= t) when the n_d deposited and K fresh values are independent standard normal:
    the mean over the fresh mean m and sd s of P(every deposited value >= m + t s) =
    Phi(-(m + t s))^n_d."""
    m, s, weights = _nodes(k)
    tt = np.atleast_1d(np.asarray(t, dtype=float))
    finite = np.isfinite(tt)
    out = np.empty(tt.shape)
    x = np.where(finite, tt, 0.0)
    for i in range(0, tt.size, CHUNK):
        part = x[i : i + CHUNK, None, None]
        below = special.ndtr(-(m[None, :, None] + part * s[None, None, :])) ** n_d
        out[i : i + CHUNK] = np.einsum("tij,ij->t", below, weights)
    result: Floats = np.where(finite, np.clip(out, 0.0, 1.0), np.where(tt > 0, 0.0, 1.0))
    return result


@lru_cache(maxsize=512)
def critical(n_d: int, k: int, alpha: float = DEFAULT_ALPHA) -> float:
    """The t with normal_p(t) = alpha: the normal-theory p is below alpha iff T > t."""
    lo, hi = -1.0, 1.0
    while normal_p(lo, n_d, k)[0] < alpha:
        lo *= 2
    while normal_p(hi, n_d, k)[0] > alpha:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        if normal_p(mid, n_d, k)[0] > alpha:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


# --- permutations -------------------------------------------------------------------------


def _standardised(deposited: Floats, fresh: Floats) -> Floats:
    """The pooled values (n x S) centred and scaled per column: T and the components are
    affine-invariant, and comparable magnitudes let rounding merge equal statistics."""
    z = np.vstack([deposited, fresh]).astype(float)
    sd = z.std(axis=0)
    out: Floats = (z - z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
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


def _lowest_stats(z: Floats, s_d: Floats, q_d: Floats, idx: Ints) -> Floats:
    """T of every assignment: z (S, n) standardised values; s_d, q_d (S, M) the deposited
    sums and sums of squares; idx (n_d x M) the deposited groups."""
    n_d, n = idx.shape[0], z.shape[1]
    k = n - n_d
    low = z[:, idx[0]]
    for members in idx[1:]:
        np.minimum(low, z[:, members], out=low)
    s_f = z.sum(axis=1)[:, None] - s_d
    q_f = (z * z).sum(axis=1)[:, None] - q_d
    mean_f = s_f / k
    var_f = np.maximum(q_f - s_f * mean_f, 0.0) / (k - 1)
    diff = low - mean_f
    flat = var_f <= ZERO_VAR
    with np.errstate(divide="ignore", invalid="ignore"):
        t: Floats = diff / np.sqrt(var_f)
    if flat.any():
        t[flat] = _infinite(diff[flat], 1e-9)
    return t


def _share_at_least(stat: Floats) -> Floats:
    """Per row, the share of entries at least the first one (column 0: the observed
    labelling), with a relative tolerance of 1e-9 so that equal statistics from sums taken in
    another order count as equal."""
    obs = stat[:, :1]
    with np.errstate(invalid="ignore"):
        edge = np.where(np.isfinite(obs), obs - 1e-9 * (1 + np.abs(obs)), obs)
    share: Floats = (stat >= edge).mean(axis=1)
    return share


def permutation_p(deposited: Floats, fresh: Floats, assignments: Ints | None = None) -> Floats:
    """The permutation p of T for every column (n_d x S, K x S): the share of assignments
    (n_d x M indices, column 0 = observed; default seed_check's) whose T is at least the
    observed one."""
    n_d, k = deposited.shape[0], fresh.shape[0]
    idx = assignments if assignments is not None else _default_assignments(n_d + k, n_d)
    z = _standardised(deposited, fresh).T  # (S, n)
    s = z.shape[0]
    sums = _group_sums(np.concatenate([z, z * z]), idx)
    return _share_at_least(_lowest_stats(z, sums[:s], sums[s:], idx))


def flags(
    deposited: Floats, fresh: Floats, alpha: float = DEFAULT_ALPHA, assignments: Ints | None = None
) -> Bools:
    """The decision for every column, oriented so that higher is better: T above the normal
    critical value (normal-theory p < alpha) and permutation p < GUARD * alpha (computed only
    where the first holds)."""
    n_d, k = deposited.shape[0], fresh.shape[0]
    out = lowest_t(deposited, fresh) > critical(n_d, k, alpha)
    cols = np.flatnonzero(out)
    for i in range(0, cols.size, CHUNK):
        part = cols[i : i + CHUNK]
        perm = permutation_p(deposited[:, part], fresh[:, part], assignments)
        out[part] = perm < GUARD * alpha
    flagged: Bools = out
    return flagged


def permutation_pvalues(deposited: Floats, fresh: Floats) -> tuple[float, dict[str, float]]:
    """For one deposit (higher is better): the permutation p of T, and the one-sided
    permutation p-values of location (Welch t), rank (Mann-Whitney rank sum, midranks) and
    spread (small deposited share of the sum of squares), over seed_check's assignments."""
    n_d, k = deposited.size, fresh.size
    idx = _default_assignments(n_d + k, n_d)
    z = _standardised(deposited[:, None], fresh[:, None])[:, 0]
    ranks = _doubled_ranks(z[:, None])[:, 0]
    s_d, q_d, r_d = _group_sums(np.stack([z, z * z, ranks]), idx)
    lowest = _lowest_stats(z[None, :], s_d[None, :], q_d[None, :], idx)
    q_t = float((z * z).sum())
    ss_d = np.maximum(q_d - s_d * s_d / n_d, 0.0)
    ss_f = np.maximum(q_t - q_d - s_d * s_d / k, 0.0)  # the fresh sum is -s_d: z has mean 0
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(ss_d / (n_d * (n_d - 1)) + ss_f / (k * (k - 1)))
        location = s_d * (1 / n_d + 1 / k) / se
        spread = -ss_d / (ss_d + ss_f)
    location = np.where(np.isnan(location), 0.0, location)
    spread = np.where(np.isnan(spread), -0.5, spread)
    shares = _share_at_least(np.stack([lowest[0], location, r_d, spread]))
    return float(shares[0]), dict(zip(COMPONENTS, map(float, shares[1:]), strict=True))


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


# --- power --------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def power(n_d: int, k: int, alpha: float = DEFAULT_ALPHA) -> float:
    """Seeded Monte Carlo power of the test with n_d deposited and k fresh seeds against the
    best n_d of 4 n_d normal seeds (POWER_SIMS simulations, the guard over POWER_PERMS
    assignments). Common random numbers across k: the deposits and the first k fresh values
    are shared."""
    rng = np.random.default_rng(POWER_SEED + n_d)
    pool = rng.standard_normal((SELECTION_FACTOR * n_d, POWER_SIMS))
    deposited = np.sort(pool, axis=0)[-n_d:]
    fresh = rng.standard_normal((max(k, LADDER[-1]), POWER_SIMS))[:k]
    idx = _assignments(n_d + k, n_d, POWER_PERMS, POWER_PERMS, PERM_SEED)
    return float(np.mean(flags(deposited, fresh, alpha, idx)))


@lru_cache(maxsize=128)
def fresh_needed(n_d: int, alpha: float = DEFAULT_ALPHA) -> int | None:
    """The smallest K in LADDER whose power reaches POWER_TARGET (None: none does)."""
    return next((k for k in LADDER if power(n_d, k, alpha) >= POWER_TARGET), None)


# --- the check ----------------------------------------------------------------------------


def lowest_seed_test(
    deposited: Sequence[float] | Floats,
    fresh: Sequence[float] | Floats,
    higher_is_better: bool = True,
) -> tuple[float, float, float, dict[str, float]]:
    """For one deposit (at least two deposited and two fresh values): T (oriented so that
    higher is better), its normal-theory p, its permutation p, and the one-sided component
    p-values (location, rank, spread)."""
    sign = 1.0 if higher_is_better else -1.0
    d = sign * np.asarray(deposited, dtype=float)
    f = sign * np.asarray(fresh, dtype=float)
    if d.size < 2 or f.size < 2:
        raise ValueError("the test needs at least two deposited and two fresh values")
    t = lowest_t(d[:, None], f[:, None])
    p = float(normal_p(t, d.size, f.size)[0])
    perm, comps = permutation_pvalues(d, f)
    return float(t[0]), p, perm, comps
