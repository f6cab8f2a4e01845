"""The statistics behind the claim kinds: three outcomes, one-sided, aggregate, comparative
and the Quantum Volume criterion."""

from __future__ import annotations

import numpy as np
import pytest

from harness.stats.aggregate import aggregate
from harness.stats.comparative import Arm, compare_order
from harness.stats.one_sided import one_sided
from harness.stats.outcome import at_least, at_most, equivalence, trials_to_decide
from harness.stats.quantum_volume import qv_criterion
from harness.stats.tost import tost_one_sample
from harness.units import width_of


def test_equivalence_outcomes() -> None:
    assert equivalence(0.91, 0.95, 0.93, 0.03) == "pass"
    assert equivalence(0.80, 0.85, 0.93, 0.03) == "fail"
    assert equivalence(0.88, 0.95, 0.93, 0.03) == "inconclusive"
    assert at_least(0.91, 0.95, 0.90) == "pass"
    assert at_least(0.80, 0.85, 0.90) == "fail"
    assert at_least(0.88, 0.95, 0.90) == "inconclusive"
    assert at_most(0.80, 0.85, 0.90) == "pass" and at_most(0.91, 0.95, 0.90) == "fail"


def test_overclaim_over_five_seeds_is_inconclusive_not_low_power() -> None:
    """The issue's example: 0.85 claimed, 0.769 reproduced over five seeds, tolerance 0.09.
    |0.769 - 0.85| = 0.081 <= 0.09, yet the interval reaches below 0.76: neither shown."""
    values = [0.70, 0.74, 0.77, 0.80, 0.835]
    c = tost_one_sample(values, 0.85, 0.09)
    assert c.verdict == "inconclusive"
    assert "inconclusive" in c.evidence and "would decide" in c.evidence
    needed = c.details["trials_to_decide"]
    assert needed is not None and needed > 5
    # with that many seeds (same mean and sd) the interval clears the edge
    more = tost_one_sample(np.resize(values, needed * 5)[: needed * 5].tolist(), 0.85, 0.09)
    assert more.verdict in ("pass", "inconclusive")


def test_trials_to_decide_shrinks_the_interval_past_the_edge() -> None:
    n = trials_to_decide(0.80, 0.02, 5, (0.76, 0.94), 0.05)
    assert n is not None and n > 5
    assert trials_to_decide(0.76, 0.02, 5, (0.76, 0.94), 0.05) is None  # on the edge


def test_one_sided_over_seeds() -> None:
    shown = one_sided(0.93, 0.005, 9, 10, 0.90, 0.0, "at_least")
    assert shown.verdict == "pass" and "shown" in shown.evidence
    contradicted = one_sided(0.85, 0.005, 9, 10, 0.90, 0.0, "at_least")
    assert contradicted.verdict == "fail" and "contradicted" in contradicted.evidence
    open_ = one_sided(0.90, 0.01, 4, 5, 0.90, 0.0, "at_least")
    assert open_.verdict == "inconclusive" and open_.p_value == pytest.approx(0.5)
    margin = one_sided(0.89, 0.002, 9, 10, 0.90, 0.02, "at_least")  # non-inferiority
    assert margin.verdict == "pass" and margin.threshold == pytest.approx(0.88)
    at_most_ = one_sided(0.05, 0.005, 9, 10, 0.10, 0.0, "at_most")
    assert at_most_.verdict == "pass"


def test_one_sided_single_run_uses_z() -> None:
    c = one_sided(0.93, 0.01, float("inf"), 1, 0.90, 0.0, "at_least")
    assert c.test == "one-sided-z" and c.verdict == "pass"


def test_aggregate_mean_combines_circuit_and_shot_variance() -> None:
    rng = np.random.default_rng(1)
    hops = rng.normal(0.70, 0.05, 100).clip(0, 1)
    ok = aggregate(hops, "mean", 0.70, 0.02, shot_se=0.002)
    assert ok.verdict == "pass"
    assert ok.details["se"] == pytest.approx(hops.std(ddof=1) / 10)
    assert "shot noise alone" in ok.evidence
    far = aggregate(hops, "mean", 0.80, 0.02)
    assert far.verdict == "fail"
    few = aggregate(hops[:4], "mean", 0.72, 0.02)
    assert few.verdict == "inconclusive" and "would decide" in few.evidence


def test_aggregate_median_and_fraction_above() -> None:
    x = np.linspace(0.6, 0.8, 101)
    assert aggregate(x, "median", 0.70, 0.02).verdict == "pass"
    frac = aggregate(x, "fraction_above", 0.5, 0.15, above=0.70)
    assert frac.observed == pytest.approx(50 / 101)
    assert frac.verdict == "pass" and "Clopper-Pearson" in frac.evidence
    assert aggregate(x, "fraction_above", 0.9, 0.05, above=0.70).verdict == "fail"


def test_comparative_paired_and_welch() -> None:
    seeds = [1, 2, 3, 4, 5]
    a = Arm("notebook:quantum", [0.90, 0.92, 0.91, 0.93, 0.90], seeds)
    b = Arm("notebook:classical", [0.85, 0.86, 0.86, 0.88, 0.84], seeds)
    ok = compare_order([a, b])
    assert ok.verdict == "pass" and "paired over 5 seeds" in ok.evidence
    reversed_ = compare_order([b, a])
    assert reversed_.verdict == "fail" and "contradicted" in reversed_.evidence
    close = Arm("notebook:close", [0.91, 0.90, 0.93, 0.90, 0.92], [6, 7, 8, 9, 10])
    tie = compare_order([a, close])
    assert tie.verdict == "inconclusive" and "Welch" in tie.evidence
    lower = compare_order([b, a], higher_is_better=False)  # e.g. a loss
    assert lower.verdict == "pass"


def test_rank_order_needs_every_pair() -> None:
    seeds = list(range(8))
    rng = np.random.default_rng(3)
    arms = [Arm(f"m{i}", list(mean + rng.normal(0, 0.005, 8)), seeds)
            for i, mean in enumerate([0.95, 0.90, 0.85])]
    ok = compare_order(arms)
    assert ok.verdict == "pass" and ok.details["pairs_tested"] == 3
    swapped = compare_order([arms[0], arms[2], arms[1]])
    assert swapped.verdict == "fail"
    assert [p["outcome"] for p in swapped.details["pairs"]] == ["pass", "pass", "fail"]


def test_quantum_volume_criterion() -> None:
    assert width_of(16) == 4 and width_of(12) is None and width_of(1) is None
    rng = np.random.default_rng(2)
    low = qv_criterion(rng.normal(0.70, 0.05, 100).clip(0, 1), 16)
    assert low.verdict == "fail"
    assert low.details["bound"] == pytest.approx(
        low.details["mean_hop"] - 2 * np.sqrt(low.details["mean_hop"] *
                                              (1 - low.details["mean_hop"]) / 100))
    assert "not shown" in low.evidence and f"{low.details['bound']:.4f}" in low.evidence
    high = qv_criterion(rng.normal(0.85, 0.03, 100).clip(0, 1), 16)
    assert high.verdict == "pass" and "QV 16 shown" in high.evidence
    few = qv_criterion([0.9] * 20, 16)
    assert "at least 100" in few.evidence
