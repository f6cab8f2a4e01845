"""Statistical comparisons (harness.stats.compare): edges, calibration, reference values."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pytest

from harness.errors import ComparisonError
from harness.stats.compare import (
    compare_counts,
    compare_scalar,
    compare_scalar_shot_noise,
    permutation_null,
)
from harness.stats.metrics import bind_metric
from harness.stats.tost import spread_to_sd, tost_from_summary, tost_one_sample, tost_power
from harness.tolerances import (
    AbsoluteTolerance,
    DistanceTolerance,
    ExactTolerance,
    RelativeTolerance,
    ShotNoiseTolerance,
    Spread,
)
from tests.distributions import porter_thomas, sample


def absolute(value: float) -> AbsoluteTolerance:
    return AbsoluteTolerance(kind="absolute", value=value)


def relative(value: float) -> RelativeTolerance:
    return RelativeTolerance(kind="relative", value=value)


def shot_noise(alpha: float = 0.01) -> ShotNoiseTolerance:
    return ShotNoiseTolerance(kind="shot-noise", alpha=alpha)






# --- scalars --------------------------------------------------------------------------


def test_scalar_evidence_sentence() -> None:
    c = compare_scalar(0.8712, 0.99, absolute(0.01))
    assert c.verdict == "fail"
    assert c.evidence == (
        "reproduced 0.8712 vs claimed 0.9900: difference -0.1188 exceeds the absolute "
        "tolerance 0.0100"
    )
    assert c.difference == pytest.approx(-0.1188)
    assert (c.test, c.threshold) == ("threshold", 0.01)
    assert c.statistic_value == pytest.approx(0.1188)


@pytest.mark.parametrize(
    ("observed", "claimed", "atol", "verdict"),
    [
        (0.93, 0.92, 0.01, "pass"),  # exactly at the tolerance (float error 9e-18)
        (0.91, 0.92, 0.01, "pass"),
        (0.9300001, 0.92, 0.01, "fail"),
        (0.5, 0.5, 0.0, "pass"),
        (0.5 + 1e-9, 0.5, 0.0, "fail"),
    ],
)
def test_absolute_edges(observed: float, claimed: float, atol: float, verdict: str) -> None:
    assert compare_scalar(observed, claimed, absolute(atol)).verdict == verdict


@pytest.mark.parametrize(
    ("observed", "claimed", "rtol", "verdict"),
    [
        (1.05, 1.0, 0.05, "pass"),
        (0.95, 1.0, 0.05, "pass"),
        (1.0501, 1.0, 0.05, "fail"),
        (-2.1, -2.0, 0.05, "pass"),  # the reference is |claimed|
        (0.105, 0.1, 0.05, "pass"),
        (0.1, 0.105, 0.04, "fail"),  # claimed, not observed, is the reference
    ],
)
def test_relative_edges(observed: float, claimed: float, rtol: float, verdict: str) -> None:
    assert compare_scalar(observed, claimed, relative(rtol)).verdict == verdict


def test_exact_scalar_and_misuse() -> None:
    assert compare_scalar(3.0, 3.0, ExactTolerance(kind="exact")).verdict == "pass"
    assert compare_scalar(3.0, 3.5, ExactTolerance(kind="exact")).verdict == "fail"
    wrong = compare_scalar(0.9, 0.9, shot_noise())
    assert wrong.verdict == "error" and "shot-noise" in wrong.evidence
    assert compare_scalar(math.nan, 0.9, absolute(0.1)).verdict == "error"


# --- scalar from counts with shot noise -----------------------------------------------


def test_scalar_shot_noise_same_distribution_passes() -> None:
    p = porter_thomas(5, seed=1)
    ideal = {format(i, "05b"): float(v) for i, v in enumerate(p)}
    hop = bind_metric("heavy_output_probability", ideal)
    claimed = hop(sample(p, 2000, seed=2))
    c = compare_scalar_shot_noise(sample(p, 1000, seed=3), claimed, hop, 2000, n_boot=300)
    assert c.verdict == "pass", c.evidence
    assert c.test == "shot-noise-z" and c.threshold is not None and c.p_value is not None
    h = c.observed or 0.0  # binomial standard errors at 1000 and 2000 shots
    assert c.threshold == pytest.approx(2.5758 * math.sqrt(h * (1 - h) * 1.5 / 1000), rel=0.1)


def test_scalar_shot_noise_detects_a_real_difference() -> None:
    p = porter_thomas(5, seed=1)
    ideal = {format(i, "05b"): float(v) for i, v in enumerate(p)}
    hop = bind_metric("heavy_output_probability", ideal)
    uniform = np.full(32, 1 / 32)
    c = compare_scalar_shot_noise(sample(uniform, 1000, 3), hop(sample(p, 1000, 2)), hop, 1000)
    assert c.verdict == "fail" and c.p_value is not None and c.p_value < 1e-6


def test_scalar_shot_noise_without_variance() -> None:
    success = bind_metric("success_probability", outcomes=["11"])
    assert compare_scalar_shot_noise({"11": 100}, 1.0, success, 100).verdict == "pass"
    c = compare_scalar_shot_noise({"11": 100}, 0.9, success, 100)
    assert c.verdict == "fail" and c.p_value == 0.0


def test_scalar_shot_noise_reports_metric_errors() -> None:
    def broken(counts: object) -> float:
        raise ComparisonError("metric 'x' needs the ideal distribution")

    c = compare_scalar_shot_noise({"0": 5}, 0.5, broken, 10)
    assert c.verdict == "error" and "ideal distribution" in c.evidence


# --- counts ---------------------------------------------------------------------------


def test_identical_counts_pass_exactly() -> None:
    a = {"000": 500, "111": 524}
    for tol in (
        ExactTolerance(kind="exact"),
        shot_noise(),
        DistanceTolerance(kind="distance", statistic="tvd", value=0.0),
    ):
        c = compare_counts(a, {"0x0": 500, "0x7": 524, "010": 0}, tol)
        assert (c.verdict, c.test) == ("pass", "exact")
        assert "identical" in c.evidence and "strongest evidence" in c.evidence


def test_exact_tolerance_fails_on_any_difference() -> None:
    c = compare_counts(
        {"00": 500, "11": 500}, {"00": 499, "11": 500, "01": 1}, ExactTolerance(kind="exact")
    )
    assert c.verdict == "fail" and c.details["outcomes_differing"] == 2
    assert "2 of 3 outcomes" in c.evidence and "TVD 0.0010" in c.evidence


@pytest.mark.parametrize(
    ("statistic", "value", "expected"),
    [
        ("tvd", 0.5, 0.5),
        ("infidelity", 0.25, 1 - 0.75),
        ("hellinger", 0.37, math.sqrt(1 - math.sqrt(3) / 2)),
    ],
)
def test_distance_tolerance(
    statistic: Literal["tvd", "hellinger", "infidelity"], value: float, expected: float
) -> None:
    a, b = {"0": 25, "1": 75}, {"0": 75, "1": 25}
    tol = DistanceTolerance(kind="distance", statistic=statistic, value=value)
    c = compare_counts(a, b, tol)
    assert c.statistic_value == pytest.approx(expected)
    assert c.verdict == "pass" and c.test == "threshold"
    tight = DistanceTolerance(kind="distance", statistic=statistic, value=expected * 0.99)
    assert compare_counts(a, b, tight).verdict == "fail"


def test_same_distribution_passes_the_bootstrap() -> None:
    p = porter_thomas(5, seed=7)
    passes = sum(
        compare_counts(
            sample(p, 1000, 2 * i), sample(p, 1000, 2 * i + 1), shot_noise(0.01), seed=i, n_boot=500
        ).verdict
        == "pass"
        for i in range(100)
    )
    assert passes >= 95


def test_different_distributions_fail_the_permutation_test() -> None:
    p = porter_thomas(5, seed=7)
    q = 0.8 * p + 0.2 / 32  # 20% depolarised
    for test, old in (("permutation-tvd", "bootstrap-tvd"),
                      ("permutation-infidelity", "bootstrap-infidelity")):
        c = compare_counts(sample(p, 4000, 1), sample(q, 4000, 2), shot_noise(0.01), test=test)
        assert c.verdict == "fail" and c.test == test
        # the first version's name still selects the same test, reported by its real name
        assert compare_counts(sample(p, 4000, 1), sample(q, 4000, 2), shot_noise(0.01),
                              test=old).test == test
        assert c.p_value == pytest.approx(1 / 2001)
        assert c.statistic_value is not None and c.threshold is not None
        assert c.statistic_value > c.threshold


def test_sparse_ten_qubit_false_alarm_rate() -> None:
    """Fast version: 30 pairs (make validity runs 100: at most 8 alarms at 0.05 and 3 at
    0.01, benchmarks/validity/monte_carlo.py)."""
    p = porter_thomas(10, seed=3)  # 1024 outcomes, 300 + 500 shots: most cells hold 0 or 1
    alarms = {0.05: 0, 0.01: 0}
    for i in range(30):
        a, b = sample(p, 300, 10_000 + i), sample(p, 500, 20_000 + i)
        p_value = compare_counts(a, b, shot_noise(0.05), seed=i, n_boot=200).p_value
        assert p_value is not None
        for alpha in alarms:
            alarms[alpha] += p_value < alpha
    # P(>= 5 of 30 at 0.05) = 1.6%, P(>= 3 of 30 at 0.01) = 0.3% for a test at its level
    assert alarms[0.05] <= 4 and alarms[0.01] <= 2


def test_bootstrap_is_deterministic() -> None:
    """(Its speed is measured by make bench, not asserted here.)"""
    p = porter_thomas(8, seed=5)
    a, b = sample(p, 5000, 1), sample(p, 8000, 2)
    first = compare_counts(a, b, shot_noise(), seed=42, n_boot=2000)
    assert compare_counts(a, b, shot_noise(), seed=42, n_boot=2000) == first


def test_permutation_null_keeps_the_pooled_shots() -> None:
    x, y = np.array([3, 0, 5, 1]), np.array([0, 2, 4, 1])
    null = permutation_null(x, y, "tvd", n_boot=50, seed=0)
    assert null.shape == (50,) and np.all((null >= 0) & (null <= 1))


def test_unknown_bootstrap_test_and_bad_counts() -> None:
    a, b = {"0": 5, "1": 5}, {"0": 6, "1": 4}
    assert compare_counts(a, b, shot_noise(), test="chi2").verdict == "error"
    assert compare_counts(a, {"0": 0}, shot_noise()).verdict == "error"
    assert compare_counts(a, {"00": 5}, shot_noise()).verdict == "error"
    assert compare_counts(a, b, absolute(0.1)).verdict == "error"


# --- TOST -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "claimed", "margin"),
    [
        ([0.91, 0.93, 0.95, 0.92, 0.94, 0.93, 0.90, 0.96, 0.92, 0.94], 0.93, 0.02),
        ([0.91, 0.93, 0.95, 0.92, 0.94, 0.93, 0.90, 0.96, 0.92, 0.94], 0.95, 0.02),
        ([0.81, 0.84, 0.79, 0.86, 0.83], 0.80, 0.05),
    ],
)
def test_tost_matches_statsmodels(values: list[float], claimed: float, margin: float) -> None:
    weightstats = pytest.importorskip("statsmodels.stats.weightstats")
    ref_p, (t1, p1, _), (t2, p2, _) = weightstats.DescrStatsW(np.array(values)).ttost_mean(
        claimed - margin, claimed + margin
    )
    c = tost_one_sample(values, claimed, margin, alpha=0.05)
    assert c.p_value == pytest.approx(ref_p, abs=1e-8)
    assert c.details["p_lower"] == pytest.approx(p1, abs=1e-8)
    assert c.details["p_upper"] == pytest.approx(p2, abs=1e-8)
    assert c.details["t_lower"] == pytest.approx(t1, abs=1e-8)
    assert c.details["t_upper"] == pytest.approx(t2, abs=1e-8)
    assert (c.verdict == "pass") == (ref_p < 0.05)


def test_tost_verdicts_and_summary_agree() -> None:
    values = [0.91, 0.93, 0.95, 0.92, 0.94, 0.93, 0.90, 0.96, 0.92, 0.94]
    honest = tost_one_sample(values, 0.93, 0.03)
    assert honest.verdict == "pass" and honest.test == "tost"
    assert "equivalent within +/-0.0300" in honest.evidence
    off = tost_one_sample(values, 0.96, 0.02)  # mean 0.93: the edge 0.94 is inside the CI
    assert off.verdict == "inconclusive" and "inconclusive" in off.evidence
    assert "seeds with the same mean and spread would decide" in off.evidence
    far = tost_one_sample(values, 0.99, 0.02)  # the whole interval lies below 0.97
    assert far.verdict == "fail" and "contradicted" in far.evidence
    assert far.details["ci_high"] < 0.97
    summary = tost_from_summary(
        float(np.mean(values)), float(np.std(values, ddof=1)), len(values), 0.93, 0.03
    )
    assert summary == honest


def test_tost_power_matches_known_values() -> None:
    # Monte Carlo (400k trials): 0.7948 and 0.9934
    assert tost_power(0.02, 10, 0.02) == pytest.approx(0.795, abs=0.002)
    assert tost_power(0.02, 10, 0.03) == pytest.approx(0.9932, abs=0.002)
    c = tost_from_summary(0.93, 0.02, 10, 0.93, 0.02)
    assert c.power == pytest.approx(0.795, abs=0.002) and "low power" in c.evidence


def test_tolerance_below_one_step_is_unattainable() -> None:
    c = tost_one_sample([0.92, 0.93, 0.94], 0.93, 0.005, step=1 / 100)
    assert c.verdict == "error"
    assert c.evidence.startswith("tolerance below one step of the metric: unattainable")
    assert tost_one_sample([0.92, 0.93, 0.94], 0.93, 0.01, step=1 / 100).verdict != "error"


def test_tost_degenerate_inputs() -> None:
    assert tost_one_sample([0.9], 0.9, 0.1).verdict == "error"
    assert tost_one_sample([0.9, math.inf], 0.9, 0.1).verdict == "error"
    assert tost_from_summary(0.9, 0.01, 5, 0.9, 0.0).verdict == "error"
    flat = tost_one_sample([0.9, 0.9, 0.9], 0.9, 0.01)
    assert (flat.verdict, flat.p_value, flat.power) == ("pass", 0.0, 1.0)
    assert tost_one_sample([0.9, 0.9, 0.9], 0.95, 0.01).verdict == "fail"


def test_spread_to_sd() -> None:
    assert spread_to_sd(Spread(kind="sd", value=0.02, n=10)) == 0.02
    assert spread_to_sd(Spread(kind="se", value=0.01, n=16)) == pytest.approx(0.04)
    ci = Spread(kind="ci", value=2.262157 * 0.02 / math.sqrt(10), n=10, level=0.95)
    assert spread_to_sd(ci) == pytest.approx(0.02, rel=1e-5)


def test_tost_power_stays_one_for_tiny_spread() -> None:
    """Regression: quad missed the mass on a huge interval and reported power 0."""
    for sd in (1e-9, 1e-7, 1e-5):
        assert tost_power(sd, 5, 0.05) > 0.999


def test_per_seed_values_identical_to_the_deposited_precision() -> None:
    from harness.stats.trials import compare_trials

    reproduced = [0.9666666666666667, 0.9333333333333333, 0.9666666666666667]
    deposited = [0.966667, 0.933333, 0.966667]
    assert compare_trials(reproduced, 0.955556, 0.05, deposited).test == "exact"
    shifted = [0.966669, 0.933333, 0.966667]
    assert compare_trials(reproduced, 0.955556, 0.05, shifted, step=1 / 30).test == "tost-paired"


def test_claimed_mean_must_match_its_per_seed_values() -> None:
    from harness.stats.trials import compare_trials

    per_seed = [0.9, 0.92, 0.94, 0.9, 0.92]
    honest = compare_trials(per_seed, 0.916, 0.05, per_seed, step=0.02)
    assert honest.verdict == "pass" and honest.test == "exact"
    inflated = compare_trials(per_seed, 0.99, 0.05, per_seed, step=0.02)
    assert inflated.verdict == "fail" and inflated.test == "tost"
    assert "is not the mean" in inflated.evidence
