"""Fresh seeds and the seed-sensitivity flag.

The Monte Carlo studies of the check run at full size in make validity
(benchmarks/validity/monte_carlo.py, criteria that fail the study); the tests marked "fast
version" below check the same logic with fewer repetitions."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from benchmarks.validity.monte_carlo import accuracies as _accuracies
from harness.claims.seed_sensitivity import seed_check
from harness.jobs import fresh_seeds
from harness.models import CircuitJob, CircuitRun
from harness.pipeline import Options, evaluate
from harness.stats import seed_robustness as sr
from harness.stats.seed_robustness import percentile
from runners.fake import FakeRunner
from tests.conftest import base_manifest


def test_fresh_seeds_are_reproducible_and_avoid_the_deposits() -> None:
    a = fresh_seeds("ghz", 20, {5, 6}, base=0)
    assert a == fresh_seeds("ghz", 20, {5, 6}, base=0)
    assert a != fresh_seeds("ghz", 20, {5, 6}, base=1) != fresh_seeds("other", 20, set(), 0)
    assert len(set(a)) == 20 and not {5, 6} & set(a)


def test_percentile_counts_ties_half() -> None:
    assert percentile(2.0, [1.0, 2.0, 3.0, 4.0]) == 0.375


def test_best_five_of_twenty_is_flagged_honest_is_not() -> None:
    rng = np.random.default_rng(7)
    pool = rng.normal(0.9, 0.02, 20)
    top = sorted(pool)[-5:]
    fresh = list(rng.normal(0.9, 0.02, 20))
    cherry = seed_check(float(np.mean(top)), top, fresh)
    assert cherry.flagged and cherry.p_value is not None and cherry.p_value < 0.02
    honest = list(rng.normal(0.9, 0.02, 5))
    assert not seed_check(float(np.mean(honest)), honest, fresh).flagged


def test_a_single_seed_is_reported_never_flagged() -> None:
    check = seed_check(0.99, [0.99], [0.9] * 10 + [0.91] * 10)
    assert check.percentile == 1.0 and not check.flagged and check.p_value is None
    assert "one deposited seed" in check.evidence


def test_a_single_seed_correlated_seeds_and_identical_values_are_never_flagged() -> None:
    one = seed_check(0.99, [0.99], [0.5, 0.6, 0.7])
    assert one.outcome == "inconclusive" and one.test is None and one.power is None
    correlated = seed_check(0.99, [0.99, 0.99, 0.99], [0.5, 0.6, 0.7, 0.6], correlated=True)
    assert not correlated.flagged and correlated.outcome == "inconclusive"
    assert correlated.p_value is None and "inconclusive" in correlated.evidence
    same = seed_check(0.9, [0.9] * 5, [0.9] * 10)
    assert not same.flagged and same.outcome == "typical" and same.p_value is None
    assert "every result is identical" in same.evidence


def _brute_force(d: np.ndarray, f: np.ndarray) -> tuple[float, dict[str, float]]:
    """The permutation p of T and the one-sided component p-values, written out over every
    label assignment one at a time."""
    pooled = np.concatenate([d, f])
    n, n_d = pooled.size, d.size
    order = np.argsort(pooled, kind="stable")
    ranks = np.empty(n)
    ranks[order] = np.arange(1, n + 1)
    for v in np.unique(pooled):  # midranks
        ranks[pooled == v] = ranks[pooled == v].mean()
    rows = []
    for members in itertools.combinations(range(n), n_d):
        mask = np.zeros(n, dtype=bool)
        mask[list(members)] = True
        a, b = pooled[mask], pooled[~mask]
        va, vb = a.var(ddof=1), b.var(ddof=1)
        gap = a.min() - b.mean()
        flat = math.copysign(math.inf, gap) if abs(gap) > 1e-12 else 0.0
        t_low = gap / math.sqrt(vb) if vb > 1e-20 else flat
        se = math.sqrt(va / a.size + vb / b.size)
        welch = (a.mean() - b.mean()) / se if se > 0 else 0.0
        rows.append((round(t_low, 6), round(welch, 6), ranks[mask].sum(),
                     round(-va / (va + vb), 9)))
    stats = np.array(rows)  # row 0: the observed labelling
    p = (stats >= stats[0]).mean(axis=0)
    return float(p[0]), dict(zip(["location", "rank", "spread"], p[1:], strict=True))


def test_permutation_p_values_equal_a_brute_force_enumeration_with_ties() -> None:
    rng = np.random.default_rng(11)
    for _ in range(4):
        d = rng.integers(24, 36, 4) / 39
        f = rng.integers(20, 36, 7) / 39
        t, p, perm, comps = sr.lowest_seed_test(d, f)
        want_perm, want_comps = _brute_force(d, f)
        assert perm == pytest.approx(want_perm, abs=1e-12)
        assert comps == pytest.approx(want_comps, abs=1e-12)
        assert list(comps) == ["location", "rank", "spread"]
        assert t == pytest.approx((d.min() - f.mean()) / f.std(ddof=1))
        assert p == pytest.approx(sr.normal_p(t, 4, 7)[0])


@pytest.mark.parametrize(("n_d", "k"), [(5, 10), (5, 20), (2, 3), (8, 40)])
def test_normal_p_equals_a_monte_carlo_of_normal_values(n_d: int, k: int) -> None:
    """Fast version (40,000 simulations: the tolerance at q = 0.98 is 14% of the tail); make
    validity runs 400,000 (benchmarks/validity/monte_carlo.py)."""
    rng = np.random.default_rng(n_d * 100 + k)
    sims = 40_000
    t = sr.lowest_t(rng.standard_normal((n_d, sims)), rng.standard_normal((k, sims)))
    for q in (0.5, 0.9, 0.98, 0.995):
        x = float(np.quantile(t, q))
        want = 1 - q
        assert sr.normal_p(x, n_d, k)[0] == pytest.approx(want, abs=4 * math.sqrt(want / sims))
    crit = sr.critical(n_d, k, 0.02)
    assert sr.normal_p(crit, n_d, k)[0] == pytest.approx(0.02, rel=1e-9)
    assert list(sr.normal_p(np.array([np.inf, -np.inf]), n_d, k)) == [0.0, 1.0]


# The reference case: a PennyLane classifier (39 test points) whose 20 seeds give
# 0.776 +/- 0.063, deposited as its best five; 10 fresh seeds give 0.751 +/- 0.126.
NOTEBOOK_DEPOSITED = [33 / 39, 33 / 39, 34 / 39, 33 / 39, 33 / 39]
NOTEBOOK_FRESH = [k / 39 for k in (24, 24, 25, 25, 27, 31, 31, 34, 36, 36)]


def test_the_cherry_picked_notebook_is_flagged_where_welch_was_not() -> None:
    from scipy import stats

    d, f = np.array(NOTEBOOK_DEPOSITED), np.array(NOTEBOOK_FRESH)
    assert (round(d.mean(), 3), round(d.std(ddof=1), 3)) == (0.851, 0.011)
    assert (round(f.mean(), 3), round(f.std(ddof=1), 3)) == (0.751, 0.126)
    welch = float(stats.ttest_ind(d, f, equal_var=False).pvalue)
    assert 0.02 < welch < 0.04, "two-sided Welch misses it at 0.02"
    check = seed_check(float(d.mean()), NOTEBOOK_DEPOSITED, NOTEBOOK_FRESH)
    assert check.flagged and check.outcome == "seed-sensitive" and check.better == "higher"
    assert check.test == "one-sided-lowest-seed"
    assert check.p_value is not None and check.p_value < 0.005
    assert check.permutation_p is not None and check.permutation_p < 0.05
    assert check.components["spread"] < 0.002, "the narrow deposited spread is evidence"
    assert check.variance_ratio == pytest.approx(d.var(ddof=1) / f.var(ddof=1))
    assert check.variance_ratio is not None and check.variance_ratio < 0.01
    assert check.power is not None and check.power >= 0.8 and check.fresh_needed == 10
    verdict = check.evidence.split("; ", 1)[1]
    assert verdict.startswith("seed-sensitive: the 5 deposited seeds are a flattering selection")
    for words in ("one-sided toward higher values, the better direction",
                  "the lowest deposited value 0.8462 is 0.76 fresh sd above the fresh mean 0.7513",
                  "normal-theory p = 0.0037 < 0.02, permutation p = 0.019 < 0.05",
                  "deposited mean 0.8513 vs fresh 0.7513", "5 of 5 deposited values above",
                  "Mann-Whitney U = 35.5 of a possible 50", "0.0083 times the fresh variance"):
        assert words in check.evidence


def test_lower_is_better_mirrors_higher_is_better() -> None:
    d, f = 1 - np.array(NOTEBOOK_DEPOSITED), 1 - np.array(NOTEBOOK_FRESH)  # e.g. error rates
    up = seed_check(float(1 - d.mean()), NOTEBOOK_DEPOSITED, NOTEBOOK_FRESH)
    down = seed_check(float(d.mean()), list(d), list(f), higher_is_better=False)
    assert down.flagged and down.better == "lower"
    assert down.p_value == pytest.approx(up.p_value, rel=1e-9)
    assert down.permutation_p == up.permutation_p and down.components == up.components
    for words in ("one-sided toward lower values", "the highest deposited value 0.1538 is 0.76 "
                  "fresh sd below the fresh mean 0.2487", "5 of 5 deposited values below"):
        assert words in down.evidence
    # the same low values where higher is better: the worst seeds, not flattering
    worst = seed_check(float(d.mean()), list(d), list(f))
    assert not worst.flagged and worst.p_value is not None and worst.p_value > 0.3
    assert "one-sided toward higher values" in worst.evidence


def test_the_worst_seeds_are_never_flagged() -> None:
    """Fast version: 50 draws each way (make validity: 200)."""
    rng = np.random.default_rng(2028)
    for _ in range(50):
        worst = sorted(_accuracies(rng, 20))[:5]
        assert not seed_check(0.7, worst, _accuracies(rng, 10)).flagged
        best = sorted(_accuracies(rng, 20), reverse=True)[:5]  # lower is better: the worst
        assert not seed_check(0.9, best, _accuracies(rng, 10), higher_is_better=False).flagged


def test_the_permutation_guard_keeps_a_heavy_lower_tail_from_flagging() -> None:
    """Two of ten fresh seeds fail (18/39, 19/39): the normal-theory p is below 0.02, but the
    deposited values are ordinary among the fresh seeds that trained, and the permutation p
    (exact for exchangeable seeds, whatever the distribution) is not below 0.05."""
    d = [k / 39 for k in (30, 31, 30, 32, 31)]
    f = [k / 39 for k in (31, 30, 29, 33, 28, 32, 30, 19, 18, 31)]
    check = seed_check(0.79, d, f)
    assert check.p_value is not None and check.p_value < 0.02
    assert check.permutation_p is not None and check.permutation_p >= 0.05
    assert not check.flagged
    assert "normal-theory p = 0.016 < 0.02, permutation p = 0.12 >= 0.05" in check.evidence


def test_identical_fresh_values_below_every_deposited_one_are_flagged() -> None:
    check = seed_check(0.95, [0.95, 0.96, 0.95, 0.97, 0.95], [0.9] * 10)
    assert check.flagged and check.p_value == 0.0
    assert check.permutation_p == pytest.approx(1 / math.comb(15, 5))
    assert "the lowest deposited value 0.95 is above the fresh values, all 0.9" in check.evidence
    tied = seed_check(0.95, [0.9, 0.96, 0.95, 0.97, 0.95], [0.9] * 10)
    assert not tied.flagged


def test_the_vectorised_decision_is_seed_checks() -> None:
    rng = np.random.default_rng(9)
    for k in (10, 20):
        d = np.sort(rng.binomial(39, 0.78, (20, 60)) / 39, axis=0)[-5:]
        d[:, ::2] = rng.binomial(39, 0.78, (5, 30)) / 39  # half honest
        f = rng.binomial(39, 0.78, (k, 60)) / 39
        want = [seed_check(0.8, list(d[:, i]), list(f[:, i])).flagged for i in range(60)]
        assert list(sr.flags(d, f)) == want
        assert 0 < sum(want) < 60


def test_honest_seeds_are_flagged_at_most_at_the_level() -> None:
    """Fast version: 100 draws (make validity: 400, at most 4%)."""
    rng = np.random.default_rng(2026)
    flags = [
        seed_check(0.8, _accuracies(rng, 5), _accuracies(rng, 10)).flagged for _ in range(100)
    ]
    assert np.mean(flags) <= 0.06  # 100 draws: sd of the rate 1.4 points at 2%; P(>6%) 0.5%


def test_best_five_of_twenty_accuracies_are_mostly_flagged() -> None:
    """Fast version: 100 draws (make validity: 200, at least 75%)."""
    rng = np.random.default_rng(2027)
    flags = [
        seed_check(0.8, sorted(_accuracies(rng, 20))[-5:], _accuracies(rng, 10)).flagged
        for _ in range(100)
    ]
    assert 0.70 <= np.mean(flags)  # measured 84% (benchmarks/validity/seed_check.py)


def test_too_few_fresh_seeds_say_inconclusive_with_how_many_would_do() -> None:
    rng = np.random.default_rng(5)
    check = seed_check(0.8, _accuracies(rng, 5), _accuracies(rng, 5))
    assert not check.flagged and check.outcome == "inconclusive"
    assert check.power is not None and check.power < 0.8
    assert check.fresh_needed == 10
    sentence = check.evidence.split("; ", 1)[1]
    assert sentence.startswith(
        "inconclusive: not flagged (one-sided toward higher values, the better direction: p = "
    )
    assert (
        "but with 5 fresh seeds the check detects a best-5-of-20 selection only "
        f"{check.power:.0%} of the "
        f"time; 10 fresh seeds would give 80%"
    ) in sentence
    assert "typical" not in check.evidence


def test_enough_fresh_seeds_say_typical_with_the_power() -> None:
    rng = np.random.default_rng(6)
    check = seed_check(0.8, _accuracies(rng, 8), _accuracies(rng, 20))
    assert not check.flagged and check.outcome == "typical"
    assert check.power is not None and check.power >= 0.8
    assert (
        "the deposited seeds are typical (one-sided toward higher values, the better "
        "direction: p = " in check.evidence
        and f"power {check.power:.2f} at 20 fresh seeds against a best-8-of-32 selection)"
        in check.evidence
    )


def test_power_and_fresh_seeds_needed_are_monotone() -> None:
    """Fast version: three rungs of the ladder (make validity walks all of LADDER for n_d = 2,
    3, 5 and 8: every rise, the ends, two deposited seeds never reaching 80%)."""
    rungs = [sr.power(5, k) for k in (5, 10, 20)]
    assert rungs == sorted(rungs), rungs
    assert rungs[0] < 0.7 < 0.8 <= rungs[1]
    needed = sr.fresh_needed(5)
    assert needed == 10 == sr.LADDER[1], "the first K of the ladder at 80%"
    assert sr.power(8, 10) > sr.power(5, 10) > sr.power(3, 10), "more deposited seeds help"
    assert sr.power(5, 10, 0.05) > sr.power(5, 10, 0.02)
    more = sr.fresh_needed(8)
    assert more is not None and more < needed
    assert sr.fresh_needed(3) is None, "three: never 80%"


GHZ_IDEAL = {"000": 0.5, "111": 0.5}


def biased_runner(best: set[int]) -> FakeRunner:
    """Fidelity near 0.90 for every seed, near 0.95 for the 'best' (cherry-picked) seeds."""
    def handler(job: CircuitJob) -> CircuitRun:
        rng = np.random.default_rng(job.seed_simulator)
        bad = int(rng.integers(40, 60)) if job.seed_simulator not in best else 20
        counts = {"000": 500 - bad, "111": 500 - bad, "010": 2 * bad}
        return CircuitRun(id=job.id, circuit=job.circuit, role=job.role, ok=True,
                          counts=counts, ideal=GHZ_IDEAL, seed_simulator=job.seed_simulator,
                          shots=1000)
    return FakeRunner(handler)


def trial_deposit(make_deposit: Callable[..., Path], seeds: list[int], values: list[float]
                  ) -> Path:
    m = base_manifest()
    m["circuits"][0]["seeds"] = seeds
    m["claims"] = [{"id": "fid", "source": {"circuit": "ghz3"}, "metric": "hellinger_fidelity",
                    "value": round(float(np.mean(values)), 6), "per_seed": values,
                    "spread": {"kind": "sd", "value": float(np.std(values, ddof=1)),
                               "n": len(values)},
                    "tolerance": {"kind": "absolute", "value": 0.05}}]
    return make_deposit(m)


def test_cherry_picked_seeds_keep_reproduced_away(make_deposit: Callable[..., Path],
                                                  tmp_path: Path) -> None:
    best = [10_000, 20_000, 30_000, 40_000, 50_000]  # far apart: no shots shared
    runner = biased_runner(set(best))
    fid = 0.96 ** 2  # (sqrt(.48*.5)+sqrt(.48*.5))^2 = 0.96
    deposit = trial_deposit(make_deposit, best, [fid] * 5)
    options = Options(today=dt.date(2026, 11, 22), fresh_seeds=20)
    report = evaluate(deposit, tmp_path / "out", runner, options)
    claim = report.claims[0]
    assert claim.verdict == "pass" and claim.seed_check is not None
    assert claim.seed_check.flagged and claim.seed_check.fresh_n == 20
    assert [f.code for f in report.findings if f.code == "seed-sensitive"] == ["seed-sensitive"]
    assert not report.badges.reproduced
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| **pass, seed-sensitive** |" in md, "the claim's own row says it"
    relaxed = evaluate(deposit, tmp_path / "out2", biased_runner(set(best)),
                       Options(today=dt.date(2026, 11, 22), fresh_seeds=20,
                               seed_policy="report"))
    assert relaxed.badges.reproduced
    roles = sorted({j.role for j in runner.jobs})
    assert roles == ["fresh", "recorded", "trial"]


def test_consecutive_seeds_are_correlated_and_never_called_cherry_picked(
        make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    """Seeds 1..5 under a noisy statevector share shots (Aer's seed s + 1 replays seed s
    shifted by one): reported as correlated-seeds, and the seed check is inconclusive."""
    best = [1, 2, 3, 4, 5]
    fid = 0.96 ** 2
    deposit = trial_deposit(make_deposit, best, [fid] * 5)
    report = evaluate(deposit, tmp_path / "out", biased_runner(set(best)),
                      Options(today=dt.date(2026, 11, 22), fresh_seeds=20))
    claim = report.claims[0]
    assert claim.seed_check is not None and not claim.seed_check.flagged
    assert "inconclusive" in claim.seed_check.evidence
    codes = [f.code for f in report.findings]
    assert "correlated-seeds" in codes and "seed-sensitive" not in codes


def test_fresh_seeds_keep_a_shot_count_apart() -> None:
    seeds = fresh_seeds("ghz", 50, {1_000_000}, base=0, spacing=5_000)
    ordered = sorted([*seeds, 1_000_000])
    assert all(b - a >= 5_000 for a, b in itertools.pairwise(ordered))


def test_the_validity_script_measures_both_tests_per_metric_and_k() -> None:
    from benchmarks.validity.seed_check import markdown, study

    result = study(trials=40, seed=1)
    assert [(r["metric"], r["fresh"]) for r in result["rows"]] == [
        (m, k) for m in ("accuracy sd 0.06", "accuracy sd 0.09", "accuracy sd 0.13",
                         "fidelity-like") for k in (10, 20)
    ]
    for row in result["rows"]:
        assert row["cherry-picked"]["check"] > row["honest"]["check"]
        assert row["worst-picked"]["check"] == 0.0
        assert 0 <= row["honest"]["welch"] <= 1
    assert result["fresh_needed"] == sr.fresh_needed(5) and result["test"] == sr.TEST_NAME
    table = markdown(result)
    assert table.count("\n| ") == 8 and "| accuracy sd 0.09 | 20 |" in table


def test_the_candidate_comparison_runs() -> None:
    from benchmarks.validity.seed_check import CANDIDATES, compare, compare_markdown

    result = compare(trials=5, seed=1)  # the script runs; its rates are measured with --trials
    cherry = [r for r in result["rows"] if "cherry-picked" in r]
    assert len(cherry) == 8 and len(result["rows"]) == 16
    assert all(r["worst-picked"]["(d) chosen: normal p + permutation guard"] == 0 for r in cherry)
    assert compare_markdown(result).count("| (a) Welch one-sided |") == 3
    assert len(CANDIDATES) == 8
