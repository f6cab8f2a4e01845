"""Pearson chi-square test of homogeneity between two count vectors (pure, no I/O).

Test ``chi-square``: the two samples are the rows of a 2 x k contingency table (columns =
outcomes with at least one shot in either). Under H0 "one distribution", cell (i, j) expects
E_ij = n_i (x_j + y_j) / (n_1 + n_2). Sparse columns are merged first: columns are taken
smallest pooled count first into one "other" column until every column, the merged one
included, expects at least ``min_expected`` shots in both rows, or only two columns are left.
X^2 = sum (O_ij - E_ij)^2 / E_ij over the merged table, df = columns - 1,
p = P(chi2_df >= X^2); pass iff p >= alpha. Same statistic and p as
``scipy.stats.chi2_contingency(table, correction=False)`` on the merged table.

The asymptotic chi-square law needs expected counts of about 5 (Cochran); merging restores
the level on sparse counts but spends power, since merged outcomes are no longer told apart.
For sparse counts the permutation test of :func:`harness.stats.compare.compare_counts` keeps the
full resolution and is exact in level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from harness.errors import ComparisonError
from harness.models import Comparison
from harness.stats.compare import align_counts, error_comparison
from harness.stats.distributions import chi2_isf, chi2_sf

Counts = Mapping[str, int] | Sequence[int] | np.ndarray


def _as_rows(observed: Counts, claimed: Counts) -> tuple[np.ndarray, np.ndarray]:
    """Two aligned count rows over the outcomes with at least one shot in either."""
    if isinstance(observed, Mapping) and isinstance(claimed, Mapping):
        _, x, y = align_counts(observed, claimed)
        return x, y
    if isinstance(observed, Mapping) or isinstance(claimed, Mapping):
        raise ComparisonError("both count vectors must be mappings or both sequences")
    x, y = np.asarray(observed, dtype=np.int64), np.asarray(claimed, dtype=np.int64)
    if x.shape != y.shape or x.ndim != 1:
        raise ComparisonError(f"count vectors of different lengths: {x.size} and {y.size}")
    if np.any(x < 0) or np.any(y < 0) or x.sum() == 0 or y.sum() == 0:
        raise ComparisonError("counts must be non-negative with at least one shot per sample")
    keep = (x + y) > 0
    return x[keep], y[keep]


def merge_sparse_cells(
    x: np.ndarray, y: np.ndarray, min_expected: float = 5.0
) -> tuple[np.ndarray, np.ndarray, int]:
    """Merge the columns with the smallest pooled counts into one last "other" column.

    Columns join "other" (smallest pooled count first) while any column, "other" included,
    expects fewer than ``min_expected`` shots in the smaller row and more than two columns
    are left. Returns the merged rows and the number of columns merged (0: none).
    """
    pooled = x + y
    # the smaller row expects the least: E = min(n1, n2) * pooled_j / N
    need = min_expected * pooled.sum() / min(x.sum(), y.sum())
    order = np.argsort(pooled, kind="stable")
    merged = _merged_count(pooled[order], need)
    if merged == 0:
        return x, y, 0
    rest, gone = order[merged:], order[:merged]
    return (
        np.append(x[rest], x[gone].sum()),
        np.append(y[rest], y[gone].sum()),
        merged,
    )


def _merged_count(ascending: np.ndarray, need: float) -> int:
    """How many of the smallest columns join "other": the first k at which the smallest
    column left and "other" (the k merged) both expect enough, at most all but one column,
    none when only two columns are left or the smallest expects enough (found by search,
    not column by column: a million sparse outcomes are a million steps)."""
    columns = len(ascending)
    if columns <= 2 or ascending[0] >= need:
        return 0
    other = np.cumsum(ascending)  # other[k - 1]: the k smallest merged
    enough_left = int(np.searchsorted(ascending, need, side="left"))
    enough_other = int(np.searchsorted(other, need, side="left")) + 1
    return min(max(enough_left, enough_other, 1), columns - 1)


def chi_square_counts(
    observed: Counts,
    claimed: Counts,
    alpha: float = 0.01,
    min_expected: float = 5.0,
) -> Comparison:
    """Pearson chi-square test that reproduced and recorded counts share one distribution.

    ``observed``/``claimed``: bitstring counts (as in compare_counts) or two aligned count
    sequences. Sparse outcomes are merged first (see :func:`merge_sparse_cells`).
    """
    test = "chi-square"
    try:
        x, y = _as_rows(observed, claimed)
    except ComparisonError as exc:
        return error_comparison(test, exc.message)
    if not 0 < alpha < 1:
        return error_comparison(test, f"alpha {alpha} is outside (0, 1)")
    mx, my, merged = merge_sparse_cells(x, y, min_expected)
    table = np.vstack([mx, my]).astype(float)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    df = table.shape[1] - 1
    statistic = float(((table - expected) ** 2 / expected).sum()) if df else 0.0
    p = chi2_sf(statistic, df) if df else 1.0
    details: dict[str, Any] = {
        "shots_observed": int(x.sum()),
        "shots_claimed": int(y.sum()),
        "cells_before": len(x),
        "cells_after": table.shape[1],
        "cells_merged": merged,
        "df": df,
        "min_expected": float(expected.min()),
    }
    return _verdict(statistic, p, df, alpha, details)


def _verdict(
    statistic: float, p: float, df: int, alpha: float, details: dict[str, Any]
) -> Comparison:
    ok = p >= alpha
    limit = chi2_isf(alpha, df) if df else 0.0
    merged = details["cells_merged"]
    cells = f"{details['cells_after']} cells" + (
        f", {merged} sparse outcomes merged into one" if merged else ""
    )
    verdict = "consistent with" if ok else "not explained by"
    return Comparison(
        verdict="pass" if ok else "fail",
        test="chi-square",
        statistic="chi2",
        statistic_value=statistic,
        threshold=limit,
        p_value=p,
        alpha=alpha,
        evidence=f"chi-square {statistic:.4g} (df {df}; {cells}) between reproduced and "
        f"recorded counts is {verdict} shot noise (p = {p:.3g}, alpha {alpha:g})",
        details=details,
    )
