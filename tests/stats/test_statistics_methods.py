"""Welch TOST, bootstrap CI, chi-square homogeneity and multiplicity adjustment:
reference values from statsmodels and scipy, calibration on simulated data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from benchmarks.validity.monte_carlo import sparse_chi_square_alarms
from harness.stats.bootstrap import bootstrap_ci, compare_bootstrap
from harness.stats.chisquare import chi_square_counts, merge_sparse_cells
from harness.stats.multiple import benjamini_hochberg, discrepancy_flags, holm
from harness.stats.tost import tost_welch, welch_df


def with_sd(n: int, sd: float, mean: float, seed: int) -> np.ndarray:
    """n normal values rescaled to sample mean ``mean`` and sample sd ``sd`` exactly."""
    z = np.random.default_rng(seed).normal(size=n)
    return np.asarray(mean + sd * (z - z.mean()) / z.std(ddof=1))






# --- Welch TOST -----------------------------------------------------------------------


@pytest.mark.parametrize("margin", [0.01, 0.03, 0.05])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_welch_tost_matches_statsmodels(margin: float, seed: int) -> None:
    weightstats = pytest.importorskip("statsmodels.stats.weightstats")
    rng = np.random.default_rng(seed)
    x, y = rng.normal(0.90, 0.02, 8), rng.normal(0.905, 0.04, 12)
    ref_p, (t1, p1, df1), (t2, p2, _) = weightstats.ttost_ind(
        x, y, -margin, margin, usevar="unequal"
    )
    c = tost_welch(x, y, margin)
    assert c.test == "tost-welch"
    assert c.p_value == pytest.approx(ref_p, abs=1e-8)
    assert c.details["p_lower"] == pytest.approx(p1, abs=1e-8)
    assert c.details["p_upper"] == pytest.approx(p2, abs=1e-8)
    assert c.details["t_lower"] == pytest.approx(t1, abs=1e-8)
    assert c.details["t_upper"] == pytest.approx(t2, abs=1e-8)
    assert c.details["df"] == pytest.approx(df1, abs=1e-8)
    assert (c.verdict == "pass") == (ref_p < 0.05)
    assert c.difference == pytest.approx(x.mean() - y.mean())


def test_welch_df_formula() -> None:
    # equal variances and sizes: df = 2 (n - 1); one side without variance: its n drops out
    assert welch_df(4.0, 10, 4.0, 10) == pytest.approx(18.0)
    assert welch_df(0.0, 5, 2.0, 8) == pytest.approx(7.0)
    assert welch_df(0.0, 5, 0.0, 8) == 11.0


@pytest.mark.parametrize(
    ("sd_x", "n_x", "sd_y", "n_y", "margin", "monte_carlo"),
    [  # Monte Carlo of the Welch TOST at d = 0, alpha 0.05, 400k trials each
        (0.02, 10, 0.02, 10, 0.03, 0.8841),
        (0.02, 5, 0.05, 20, 0.04, 0.6926),
        (0.01, 4, 0.03, 6, 0.04, 0.7010),
    ],
)
def test_welch_power_approximation(
    sd_x: float, n_x: int, sd_y: float, n_y: int, margin: float, monte_carlo: float
) -> None:
    # the Satterthwaite approximation overstates power by < 0.01 in these cases
    c = tost_welch(with_sd(n_x, sd_x, 0.9, 1), with_sd(n_y, sd_y, 0.9, 2), margin)
    assert c.power == pytest.approx(monte_carlo, abs=0.015)


def test_welch_verdicts_and_evidence() -> None:
    x, y = with_sd(10, 0.02, 0.930, 1), with_sd(10, 0.02, 0.925, 2)
    ok = tost_welch(x, y, 0.03)
    assert ok.verdict == "pass" and "equivalent within +/-0.0300" in ok.evidence
    assert "Welch TOST, df 18.0" in ok.evidence
    off = tost_welch(x, y - 0.05, 0.02)
    assert off.verdict == "fail" and "contradicted" in off.evidence
    edge = tost_welch(x, y - 0.02, 0.02)  # the difference sits on the margin
    assert edge.verdict == "inconclusive"


def test_welch_degenerate_inputs() -> None:
    assert tost_welch([0.9], [0.9, 0.91], 0.1).verdict == "error"
    assert tost_welch([0.9, math.nan], [0.9, 0.91], 0.1).verdict == "error"
    assert tost_welch([0.9, 0.91], [0.9, 0.91], 0.0).verdict == "error"
    flat = tost_welch([0.9, 0.9, 0.9], [0.9, 0.9], 0.01)
    assert (flat.verdict, flat.p_value, flat.power) == ("pass", 0.0, 1.0)
    assert tost_welch([0.9, 0.9], [0.95, 0.95], 0.01).verdict == "fail"


def test_welch_margin_below_one_step_is_unattainable() -> None:
    c = tost_welch([0.92, 0.93, 0.94], [0.93, 0.94], 0.005, step=1 / 100)
    assert c.verdict == "error"
    assert c.evidence.startswith("tolerance below one step of the metric: unattainable")
    assert tost_welch([0.92, 0.93, 0.94], [0.93, 0.94], 0.01, step=1 / 100).verdict != "error"


# --- bootstrap confidence interval ----------------------------------------------------


def test_bootstrap_ci_is_scipy_with_the_same_seed() -> None:
    x = np.random.default_rng(3).lognormal(0.0, 1.0, 12)
    ref = stats.bootstrap(
        (x,),
        np.mean,
        n_resamples=2000,
        confidence_level=0.95,
        method="BCa",
        rng=np.random.default_rng(7),
    ).confidence_interval
    assert bootstrap_ci(x, seed=7) == (float(ref.low), float(ref.high))
    assert bootstrap_ci(x, seed=7) == bootstrap_ci(list(x), seed=7)  # deterministic
    assert bootstrap_ci(x, seed=8) != bootstrap_ci(x, seed=7)
    two = stats.bootstrap(
        ([0.8, 0.9],),
        np.mean,
        n_resamples=500,
        method="percentile",
        rng=np.random.default_rng(0),
    ).confidence_interval
    assert bootstrap_ci([0.8, 0.9], n_resamples=500) == (float(two.low), float(two.high))


def test_bootstrap_ci_on_a_skewed_sample() -> None:
    x = np.random.default_rng(3).lognormal(0.0, 1.0, 12)
    low, high = bootstrap_ci(x)
    assert low < x.mean() < high
    assert high - x.mean() > 2 * (x.mean() - low)  # BCa follows the long right tail
    assert bootstrap_ci(x, level=0.90)[1] < high


def test_bootstrap_ci_edges() -> None:
    assert bootstrap_ci([0.7, 0.7, 0.7]) == pytest.approx((0.7, 0.7), abs=1e-15)
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    assert bootstrap_ci([0.7, 0.7, 0.7], statistic=np.ptp) == (0.0, 0.0)  # v = statistic
    # BCa has no finite bounds for the median of this lumpy sample: percentile instead
    assert bootstrap_ci([1, 1, 2, 2, 2, 2], statistic=np.median) == (1.0, 2.0)
    with pytest.raises(Exception, match="finite values"):
        bootstrap_ci([])
    with pytest.raises(Exception, match="finite values"):
        bootstrap_ci([1.0, math.inf])


def test_compare_bootstrap_inclusion_rule() -> None:
    x = np.random.default_rng(3).lognormal(0.0, 0.3, 30)
    low, high = bootstrap_ci(x, level=0.90)
    claimed = (low + high) / 2
    half = (high - low) / 2
    ok = compare_bootstrap(x, claimed, half)  # the CI fills the interval exactly
    assert (ok.verdict, ok.test, ok.alpha) == ("pass", "bootstrap-ci", 0.05)
    assert ok.statistic_value == pytest.approx(half)
    assert ok.details["ci_low"] == low and ok.details["method"] == "BCa"
    assert "90% bootstrap CI" in ok.evidence and "equivalent: its" in ok.evidence
    short = compare_bootstrap(x, claimed, half * 0.99)
    assert short.verdict == "inconclusive" and "reaches past the edge" in short.evidence
    assert compare_bootstrap(x, high, half).verdict == "inconclusive"  # CI sticks out below
    far = compare_bootstrap(x, high + 3 * half, half)
    assert far.verdict == "fail" and "lies entirely outside" in far.evidence


def test_compare_bootstrap_errors() -> None:
    assert compare_bootstrap([0.9], 0.9, 0.1).verdict == "error"
    assert compare_bootstrap([0.9, 0.8], 0.9, 0.0).verdict == "error"
    assert compare_bootstrap([0.9, math.nan], 0.9, 0.1).verdict == "error"
    assert compare_bootstrap([0.9, 0.9, 0.9], 0.9, 0.01).verdict == "pass"


# --- chi-square -----------------------------------------------------------------------


def test_chi_square_matches_scipy_without_merging() -> None:
    a = {"00": 240, "01": 260, "10": 250, "11": 274}
    b = {"00": 260, "01": 230, "10": 255, "11": 279}
    c = chi_square_counts(a, b)
    ref = stats.chi2_contingency([[240, 260, 250, 274], [260, 230, 255, 279]], correction=False)
    assert c.statistic_value == pytest.approx(ref.statistic, rel=1e-12)
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert c.details["df"] == ref.dof == 3
    assert (c.details["cells_before"], c.details["cells_after"]) == (4, 4)
    assert c.verdict == "pass" and c.test == "chi-square"
    assert c.threshold == pytest.approx(stats.chi2.isf(0.01, 3))


def test_chi_square_merges_sparse_cells_then_matches_scipy() -> None:
    x = [300, 200, 3, 1, 0, 2, 4]
    y = [280, 230, 1, 2, 1, 0, 6]
    c = chi_square_counts(x, y)
    # pooled 580, 430, 4, 3, 1, 2, 10; need pooled >= 5 * 1028 / 510 = 10.08 per cell:
    # 1, 2, 3, 4 and 10 merge into one "other" cell of 20
    merged = [[300, 200, 10], [280, 230, 10]]
    ref = stats.chi2_contingency(merged, correction=False)
    assert (c.details["cells_before"], c.details["cells_after"]) == (7, 3)
    assert c.details["cells_merged"] == 5
    assert c.statistic_value == pytest.approx(ref.statistic, rel=1e-12)
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert "5 sparse outcomes merged into one" in c.evidence


def test_merging_stops_at_two_cells() -> None:
    mx, my, merged = merge_sparse_cells(np.array([1, 2, 3]), np.array([2, 1, 1]))
    assert (mx.tolist(), my.tolist(), merged) == ([3, 3], [1, 3], 2)
    mx, my, merged = merge_sparse_cells(np.array([50, 60]), np.array([1, 2]))
    assert (mx.tolist(), my.tolist(), merged) == ([50, 60], [1, 2], 0)


def test_chi_square_detects_a_difference_and_rejects_bad_input() -> None:
    c = chi_square_counts({"0": 700, "1": 300}, {"0": 500, "1": 500})
    assert c.verdict == "fail" and c.p_value is not None and c.p_value < 1e-10
    assert c.statistic_value is not None and c.threshold is not None
    assert c.statistic_value > c.threshold
    one = chi_square_counts({"1": 10}, {"1": 20})  # a single outcome: nothing to differ
    assert (one.verdict, one.p_value, one.details["df"]) == ("pass", 1.0, 0)
    assert chi_square_counts({"0": 5}, {"0": 0}).verdict == "error"
    assert chi_square_counts([1, 2], [1, 2, 3]).verdict == "error"
    assert chi_square_counts([1, -2], [1, 2]).verdict == "error"
    assert chi_square_counts({"0": 5}, [5]).verdict == "error"


#: fast versions: 50 pairs of counts each (make validity runs 200 with the bounds in the
#: comments, benchmarks/validity/monte_carlo.py, on the same pairs)
SPARSE_PAIRS = 50


def test_sparse_ten_qubit_false_alarm_rate_after_merging() -> None:
    # 500 + 500 shots from one distribution, alpha 0.01: 2/200 alarms after merging (<= 6).
    # Without merging (min_expected 0) it is 0/200 here: with equal shot counts a cell holding
    # one shot adds exactly 1 to X^2, so X^2 varies less than chi2_df and the test is
    # conservative, not liberal. Unequal shot counts are where it goes wrong, below.
    # 0/50 measured; P(>= 3 of 50) = 1.4% at the level
    assert sparse_chi_square_alarms((500, 500), 5.0, SPARSE_PAIRS) <= 2


def test_sparse_unbalanced_false_alarms_need_merging() -> None:
    # 100 + 5000 shots: one shot of the small sample in a rare cell adds ~50 to X^2.
    # Measured at alpha 0.01: 3/200 alarms after merging (<= 6), 27/200 (13.5%) without
    # (>= 20); of the first 50: 1 and 6.
    assert sparse_chi_square_alarms((100, 5000), 5.0, SPARSE_PAIRS) <= 2
    assert sparse_chi_square_alarms((100, 5000), 0.0, SPARSE_PAIRS) >= 4  # 8x the level


# --- multiplicity ---------------------------------------------------------------------

P_CASES = [
    [0.01, 0.04, 0.03, 0.2, 1.0, 0.04, 0.0],  # ties, p = 1 and p = 0
    [1.0, 1.0, 1.0],
    [0.5],
    [0.001, 0.001, 0.001, 0.001],
    [0.02, 0.03, 0.5, 0.012, 0.0125, 0.9, 0.049],
    (np.random.default_rng(0).uniform(size=40) ** 3).tolist(),
]


@pytest.mark.parametrize("p_values", P_CASES)
def test_adjustments_match_statsmodels(p_values: list[float]) -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    for mine, method in ((holm, "holm"), (benjamini_hochberg, "fdr_bh")):
        reject, ref, _, _ = multitest.multipletests(p_values, alpha=0.05, method=method)
        adjusted = mine(p_values)
        assert np.max(np.abs(np.array(adjusted) - ref)) <= 1e-12
        assert all(0 <= a <= 1 for a in adjusted)
        order = np.argsort(p_values, kind="stable")  # monotone in the raw p-values
        assert np.all(np.diff(np.array(adjusted)[order]) >= 0)
        flags = discrepancy_flags(p_values, 0.05, "holm" if method == "holm" else "bh")
        if not np.any(np.isclose(ref, 0.05)):  # statsmodels rejects at adjusted <= alpha
            assert flags == reject.tolist()


def test_adjustment_known_values_and_edges() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert holm([]) == [] and benjamini_hochberg([]) == [] and discrepancy_flags([]) == []
    assert discrepancy_flags(p, 0.05, "holm") == [True, False, False, True]
    assert discrepancy_flags(p, 0.05, "bh") == [True, True, True, True]
    assert discrepancy_flags(p, 0.04, "bh") == [True, False, False, True]  # 0.04 is not < 0.04
    # one p-value: flagged exactly when its own test fails (p < alpha; p = alpha passes)
    assert discrepancy_flags([0.05]) == [False] and discrepancy_flags([0.0499]) == [True]
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        holm([0.5, 1.5])
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        benjamini_hochberg([math.nan])
    with pytest.raises(ValueError, match="unknown method"):
        discrepancy_flags([0.5], method="bonferroni")  # type: ignore[arg-type]
