"""The permutation test's null draws for large tables, at a cost that does not grow with
the number of sparse outcomes (pure, numpy only).

A draw deals N1 of the N = N1 + N2 pooled shots to sample one, uniformly without
replacement; the statistics (TVD, infidelity) are sums over outcomes of a function of
(a_j, c_j), the shots outcome j gets in sample one out of its pooled c_j. Outcomes with the
same c are interchangeable, so only how many of them get a = 0, 1, ..., c matters. Each
draw, exactly (docs/statistics.md, Counts over many outcomes):

1. the shots each group of outcomes gets: a multivariate hypergeometric draw over the
   groups (all the outcomes with one pooled count c, when there are at least GROUP_FROM of
   them) and the remaining outcomes one by one;
2. within a group of m outcomes of c shots given its k: each shot in with probability
   k / (m c), so the outcomes' a follow Binomial(c, k / (m c)) and their histogram is one
   multinomial draw; that deals some t shots, a uniform t-subset; removing t - k of them
   uniformly (or adding k - t from the shots left out) leaves a uniform k-subset. Only the
   outcomes touched by that correction are looked at (|t - k| is about sqrt(k)).

A draw then costs the groups' sizes (c + 1 each) and the outcomes outside groups, not the
number of outcomes: 2^20 outcomes of one or two shots each are a few groups.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
#: per outcome: (shots in sample one, pooled shots) -> its term of the statistic's sum
Term = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: outcomes sharing a pooled count form a group when there are at least this many
GROUP_FROM = 64
#: and when that count is at most this (a group costs c + 1 per draw)
GROUP_MAX_SHOTS = 256


def group_histogram(rng: np.random.Generator, m: int, c: int, k: int) -> IntArray:
    """How many of ``m`` outcomes of ``c`` pooled shots each get a = 0..c shots when ``k``
    of their m c shots are dealt to sample one uniformly without replacement."""
    hist = np.zeros(c + 1, dtype=np.int64)
    if c == 1:  # k outcomes get their shot, the others none
        hist[:] = m - k, k
        return hist
    if k in (0, m * c):  # none or all of the shots
        hist[0 if k == 0 else c] = m
        return hist
    hist[:] = rng.multinomial(m, _binomial_pmf(c, k / (m * c)))
    a = np.arange(c + 1)
    t = int((a * hist).sum())
    if t != k:
        _correct(rng, hist, a, c, t, k)
    return hist


def _binomial_pmf(c: int, q: float) -> FloatArray:
    """Binomial(c, q) probabilities of 0..c, from logarithms (no overflow for large c)."""
    log = [math.lgamma(c + 1) - math.lgamma(a + 1) - math.lgamma(c - a + 1)
           + a * math.log(q) + (c - a) * math.log1p(-q) for a in range(c + 1)]
    pmf = np.exp(np.array(log) - max(log))
    return np.asarray(pmf / pmf.sum(), dtype=float)


def _correct(rng: np.random.Generator, hist: IntArray, a: IntArray, c: int, t: int, k: int
             ) -> None:
    """Removes t - k dealt shots (or adds k - t undealt ones) uniformly, in ``hist``."""
    remove = t > k
    # the shots that may move: dealt ones (a per outcome) or undealt ones (c - a)
    per_outcome = a if remove else c - a
    weights = per_outcome * hist
    ends = np.cumsum(weights)
    picked = rng.choice(int(ends[-1]), abs(t - k), replace=False)
    bins = np.searchsorted(ends, picked, side="right")
    outcome = (picked - (ends - weights)[bins]) // per_outcome[bins]
    # one outcome may lose (or gain) several shots: count them per (bin, outcome)
    span = int(hist.max()) + 1
    pairs, moved = np.unique(bins * span + outcome, return_counts=True)
    from_bin = pairs // span
    np.subtract.at(hist, from_bin, 1)
    np.add.at(hist, from_bin - moved if remove else from_bin + moved, 1)


def grouped_sums(pooled: IntArray, n1: int, draws: int, term: Term,
                 rng: np.random.Generator) -> FloatArray:
    """``draws`` values of sum_j term(a_j, c_j) under the permutation null."""
    values, counts = np.unique(pooled, return_counts=True)
    grouped = _grouped(values, counts)
    sizes, members = values[grouped], counts[grouped]
    alone = pooled[~np.isin(pooled, sizes)]
    colors = np.concatenate([sizes * members, alone]).astype(np.int64)
    # each group's term at a = 0..c, once
    tables = [term(np.arange(c + 1), np.full(c + 1, c)) for c in sizes.tolist()]
    out = np.empty(draws)
    for i in range(draws):
        dealt = rng.multivariate_hypergeometric(colors, n1)
        total = float(term(dealt[len(sizes):], alone).sum()) if len(alone) else 0.0
        for g, (c, m) in enumerate(zip(sizes.tolist(), members.tolist(), strict=True)):
            total += float(group_histogram(rng, m, c, int(dealt[g])) @ tables[g])
        out[i] = total
    return out


def draw_cost(pooled: IntArray) -> int:
    """What one grouped draw costs, in outcome-equivalents (for the draws' budget)."""
    values, counts = np.unique(pooled, return_counts=True)
    grouped = _grouped(values, counts)
    return int(counts[~grouped].sum() + (values[grouped] + 1).sum() + 64 * grouped.sum())


def _grouped(values: IntArray, counts: IntArray) -> npt.NDArray[np.bool_]:
    return np.asarray((counts >= GROUP_FROM) & (values <= GROUP_MAX_SHOTS))
