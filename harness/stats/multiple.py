"""Multiplicity adjustment of p-values across claims (pure, no I/O).

With m p-values sorted ascending, p_(1) <= ... <= p_(m):

* Holm (family-wise error rate): adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)).
* Benjamini-Hochberg (false discovery rate, independent or positively dependent tests):
  adj_(i) = min_{j >= i} min(1, m p_(j) / j).

Adjusted values are returned in the input order; they equal statsmodels'
``multipletests(method="holm" / "fdr_bh")`` adjusted p-values. They apply to tests whose
null hypothesis is "no discrepancy" (small p = evidence of a discrepancy), such as the
counts tests; not to TOST p-values, whose null is the discrepancy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Method = Literal["holm", "bh"]
PValues = Sequence[float] | npt.NDArray[np.floating[Any]]


def _sorted(p_values: PValues) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1 or not all(math.isfinite(v) and 0 <= v <= 1 for v in p.tolist()):
        raise ValueError("p-values must be a flat sequence of numbers in [0, 1]")
    order = np.argsort(p, kind="stable")
    return p[order], order


def _unsort(adjusted_sorted: np.ndarray, order: np.ndarray) -> list[float]:
    out = np.empty_like(adjusted_sorted)
    out[order] = np.minimum(adjusted_sorted, 1.0)
    return [float(v) for v in out]


def holm(p_values: PValues) -> list[float]:
    """Holm step-down adjusted p-values (controls the family-wise error rate)."""
    p, order = _sorted(p_values)
    m = len(p)
    scaled = (m - np.arange(m)) * p
    return _unsort(np.maximum.accumulate(scaled), order)


def benjamini_hochberg(p_values: PValues) -> list[float]:
    """Benjamini-Hochberg step-up adjusted p-values (controls the false discovery rate)."""
    p, order = _sorted(p_values)
    m = len(p)
    scaled = m * p / np.arange(1, m + 1)
    return _unsort(np.minimum.accumulate(scaled[::-1])[::-1], order)


def discrepancy_flags(
    p_values: PValues, alpha: float = 0.05, method: Method = "holm"
) -> list[bool]:
    """Which claims show a discrepancy after adjustment: adjusted p < alpha.

    Strict, like the per-claim rule "pass iff p >= alpha", so one p-value is flagged exactly
    when its own test fails. ``method``: ``holm`` (FWER) or ``bh`` (FDR).
    """
    return [a < alpha for a in adjust(p_values, method)]


def adjust(p_values: PValues, method: Method = "holm") -> list[float]:
    """Adjusted p-values: ``holm`` (FWER) or ``bh`` (FDR)."""
    if method not in ("holm", "bh"):
        raise ValueError(f"unknown method {method!r}: use 'holm' or 'bh'")
    return holm(p_values) if method == "holm" else benjamini_hochberg(p_values)
