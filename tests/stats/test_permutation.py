"""The permutation null by groups of outcomes (harness.stats.permutation) has the law of
dealing the shots outcome by outcome; the draws' budget; chi-square's merge by search."""

from __future__ import annotations

import numpy as np

from harness.stats.chisquare import merge_sparse_cells
from harness.stats.compare import LARGE_TABLE, MIN_DRAWS, permutation_draws, permutation_null
from harness.stats.permutation import group_histogram, grouped_sums


def test_a_groups_histogram_has_the_law_of_direct_draws() -> None:
    rng = np.random.default_rng(5)
    m, c, k, runs = 200, 3, 250, 4000
    direct = np.array([np.bincount(rng.multivariate_hypergeometric(np.full(m, c), k),
                                   minlength=c + 1) for _ in range(runs)])
    grouped = np.array([group_histogram(rng, m, c, k) for _ in range(runs)])
    assert np.all((grouped * np.arange(c + 1)).sum(axis=1) == k)  # k shots dealt, always
    assert np.all(grouped.sum(axis=1) == m)
    se = direct.std(axis=0) / np.sqrt(runs)
    assert np.all(np.abs(grouped.mean(axis=0) - direct.mean(axis=0)) < 5 * se * np.sqrt(2))
    assert np.allclose(grouped.var(axis=0), direct.var(axis=0), rtol=0.15)


def test_edge_cases_leave_nothing_to_chance() -> None:
    rng = np.random.default_rng(0)
    assert group_histogram(rng, 10, 1, 4).tolist() == [6, 4]
    assert group_histogram(rng, 10, 3, 0).tolist() == [10, 0, 0, 0]
    assert group_histogram(rng, 10, 3, 30).tolist() == [0, 0, 0, 10]


def test_the_grouped_null_matches_direct_draws() -> None:
    rng = np.random.default_rng(7)
    x = np.concatenate([np.ones(300, int), rng.integers(0, 4, 300), [50, 40]])
    y = np.concatenate([rng.integers(0, 3, 300), np.ones(300, int), [45, 60]])
    keep = (x + y) > 0
    x, y = x[keep], y[keep]
    pooled, n1, n2 = x + y, int(x.sum()), int(y.sum())
    grouped = 0.5 * grouped_sums(pooled, n1, 3000,
                                 lambda a, c: np.abs(a / n1 - (c - a) / n2), rng)
    a = rng.multivariate_hypergeometric(pooled, n1, size=3000)
    direct = 0.5 * np.abs(a / n1 - (pooled - a) / n2).sum(axis=1)
    for q in (0.05, 0.5, 0.95):
        assert abs(np.quantile(grouped, q) - np.quantile(direct, q)) < 0.004


def test_a_large_sparse_table_is_tested_in_full_with_its_draws_said() -> None:
    n = LARGE_TABLE * 4
    x = np.ones(n, dtype=np.int64)
    y = np.random.default_rng(1).multinomial(n, np.full(n, 1.0 / n))
    null = permutation_null(x, y, "tvd", n_boot=300, seed=0)
    assert null.shape == (300,) and np.all((null > 0) & (null < 1))
    assert permutation_draws(x[:100], y[:100], 2000, 0.01) == 2000  # small: unchanged
    wide = np.ones(1 << 22, dtype=np.int64)  # four million outcomes, one group (c = 2)
    assert permutation_draws(wide, wide, 2000, 0.01) == 2000
    alone = np.arange(1, 1 << 20, dtype=np.int64)  # every pooled count once: no groups
    assert permutation_draws(alone, alone, 2000, 0.01) == MIN_DRAWS
    assert permutation_draws(alone, alone, 2000, 0.001) == 1999


def _merged_by_steps(pooled: np.ndarray, need: float) -> int:
    """The merge as it was, column by column."""
    order = np.argsort(pooled, kind="stable")
    merged, other = 0, 0
    while len(pooled) - merged + (merged > 0) > 2:
        smallest_left = pooled[order[merged]]
        if min(smallest_left, other if merged else need) >= need:
            break
        other += smallest_left
        merged += 1
    return merged


def test_merging_by_search_merges_the_same_columns() -> None:
    rng = np.random.default_rng(0)
    for trial in range(3000):
        n = int(rng.integers(1, 12))
        x = rng.integers(0, 20, n) if trial % 2 else rng.geometric(0.3, n) - 1
        y = rng.integers(0, 20, n)
        keep = (x + y) > 0
        x, y = x[keep], y[keep]
        if x.sum() == 0 or y.sum() == 0:
            continue
        min_expected = float(rng.uniform(0.5, 10))
        need = min_expected * (x + y).sum() / min(x.sum(), y.sum())
        assert merge_sparse_cells(x, y, min_expected)[2] == _merged_by_steps(x + y, need)
