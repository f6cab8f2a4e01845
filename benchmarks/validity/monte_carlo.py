"""Monte Carlo checks of the statistics, moved out of make test (make validity).

These were tests in tests/stats/ that spent most of their time drawing thousands of random
repetitions (issue #25: make test on 2 cores took minutes for them). Here they run at their
original sizes, seeds and bounds, each assertion kept as a pass/fail criterion: the study
reports every criterion with the value it measured and exits non-zero when one fails. make
test keeps a fast version of each (named in ``test``), with fewer repetitions and bounds
that fit them, so that the logic is still checked on every run.

* the normal-theory p of the lowest-seed statistic against a Monte Carlo of normal values
  (400,000 simulations per (n_d, K));
* the fresh-seed check on notebook-style accuracies: honest deposits flagged at most at the
  level (400 draws), the best 5 of 20 seeds mostly flagged (200), the worst 5 of 20 never
  (200 each way);
* the power ladder of the check (every K of LADDER, n_d = 2, 3, 5, 8);
* false alarms of the shot-noise bootstrap (100 pairs) and of the chi-square test (200 pairs
  per case) on sparse ten-qubit counts.

Run: ``python -m benchmarks.validity.study --only checks`` (or this module directly).
"""

from __future__ import annotations

import itertools
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness.claims.seed_sensitivity import seed_check  # noqa: E402
from harness.stats import seed_robustness as sr  # noqa: E402
from tests.distributions import porter_thomas, sample  # noqa: E402

RESULTS = ROOT / "benchmarks" / "validity" / "monte_carlo.json"
SEED_TESTS = "tests/stats/test_seed_robustness.py"
Check = dict[str, Any]


def check(name: str, test: str, measured: str, criterion: str, passed: bool) -> Check:
    """One criterion: what was measured, what it must meet, whether it did, and the make
    test test that keeps a fast version of it."""
    return {"check": name, "test": test, "measured": measured, "criterion": criterion,
            "passed": bool(passed)}


def accuracies(rng: np.random.Generator, n: int) -> list[float]:
    """Notebook-style test accuracies on 39 points: true accuracy varies by seed (the fast
    versions in tests/stats/test_seed_robustness.py draw theirs with it too)."""
    p = np.clip(rng.normal(0.78, 0.06, n), 0, 1)
    return list(rng.binomial(39, p) / 39)


# --- the fresh-seed check -----------------------------------------------------------------


def normal_p_vs_monte_carlo(sims: int = 400_000) -> list[Check]:
    """normal_p(T) equals the tail of T simulated from normal values, within 4 Monte Carlo
    sd at the quantiles 0.5, 0.9, 0.98 and 0.995."""
    out = []
    for n_d, k in [(5, 10), (5, 20), (2, 3), (8, 40)]:
        rng = np.random.default_rng(n_d * 100 + k)
        t = sr.lowest_t(rng.standard_normal((n_d, sims)), rng.standard_normal((k, sims)))
        worst = 0.0
        for q in (0.5, 0.9, 0.98, 0.995):
            want = 1 - q
            got = float(sr.normal_p(float(np.quantile(t, q)), n_d, k)[0])
            worst = max(worst, abs(got - want) / math.sqrt(want / sims))
        out.append(check(f"normal p = Monte Carlo tail, n_d {n_d}, K {k}",
                         f"{SEED_TESTS}::test_normal_p_equals_a_monte_carlo_of_normal_values",
                         f"worst gap {worst:.2f} MC sd ({sims} simulations)",
                         "<= 4 MC sd at quantiles 0.5, 0.9, 0.98, 0.995", worst <= 4))
    return out


def honest_flag_rate(draws: int = 400) -> Check:
    rng = np.random.default_rng(2026)
    rate = float(np.mean([seed_check(0.8, accuracies(rng, 5), accuracies(rng, 10)).flagged
                          for _ in range(draws)]))
    return check("honest seeds flagged at most at the level (alpha 0.02)",
                 f"{SEED_TESTS}::test_honest_seeds_are_flagged_at_most_at_the_level",
                 f"{rate:.2%} of {draws}", "<= 4% (sd of the rate 0.7 points at 2%)",
                 rate <= 0.02 + 0.02)


def cherry_picked_flag_rate(draws: int = 200) -> Check:
    rng = np.random.default_rng(2027)
    rate = float(np.mean([seed_check(0.8, sorted(accuracies(rng, 20))[-5:],
                                     accuracies(rng, 10)).flagged for _ in range(draws)]))
    return check("best 5 of 20 accuracies mostly flagged (10 fresh seeds)",
                 f"{SEED_TESTS}::test_best_five_of_twenty_accuracies_are_mostly_flagged",
                 f"{rate:.1%} of {draws}", ">= 75%", rate >= 0.75)


def worst_seeds_flagged(draws: int = 200) -> Check:
    rng = np.random.default_rng(2028)
    flagged = 0
    for _ in range(draws):
        worst = sorted(accuracies(rng, 20))[:5]
        flagged += seed_check(0.7, worst, accuracies(rng, 10)).flagged
        best = sorted(accuracies(rng, 20), reverse=True)[:5]  # lower is better: the worst
        flagged += seed_check(0.9, best, accuracies(rng, 10), higher_is_better=False).flagged
    return check("the worst 5 of 20 seeds never flagged (higher and lower is better)",
                 f"{SEED_TESTS}::test_the_worst_seeds_are_never_flagged",
                 f"{flagged} of {2 * draws}", "0", flagged == 0)


def power_ladder() -> list[Check]:
    """The seeded Monte Carlo power of the check over the whole LADDER."""
    test = f"{SEED_TESTS}::test_power_and_fresh_seeds_needed_are_monotone"
    ladder = [sr.power(5, k) for k in sr.LADDER]
    drop = max(a - b for a, b in itertools.pairwise(ladder))
    needed = sr.fresh_needed(5)
    first = next((k for k, p in zip(sr.LADDER, ladder, strict=True) if p >= 0.8), None)
    more = sr.fresh_needed(8)
    few = {n_d: [sr.power(n_d, k) for k in sr.LADDER] for n_d in (2, 3)}
    shown = ", ".join(f"{k}: {p:.3f}" for k, p in zip(sr.LADDER, ladder, strict=True))
    return [
        check("power rises with K (n_d 5)", test, f"largest drop {drop:.3f}; {shown}",
              "no drop above 0.01 (MC sd ~0.005)", drop <= 0.01),
        check("power at the ends of the ladder (n_d 5)", test,
              f"K {sr.LADDER[0]}: {ladder[0]:.3f}, K {sr.LADDER[-1]}: {ladder[-1]:.3f}",
              "< 0.7 and > 0.95", ladder[0] < 0.7 and ladder[-1] > 0.95),
        check("fresh seeds needed for 80% (n_d 5, 8)", test,
              f"fresh_needed(5) = {needed}, first K >= 0.8 = {first}, fresh_needed(8) = {more}",
              "10, the ladder's first K at 80%; fewer for 8",
              needed == 10 == first and more is not None and more < needed),
        check("two or three deposited seeds never reach 80%", test,
              ", ".join(f"n_d {n}: max {max(p):.3f}, fresh_needed {sr.fresh_needed(n)}"
                        for n, p in few.items()),
              "fresh_needed None (every K < 0.8)",
              all(sr.fresh_needed(n) is None and max(p) < 0.8 for n, p in few.items())),
    ]


# --- the counts comparisons on sparse counts ----------------------------------------------


def sparse_bootstrap_false_alarms(trials: int = 100) -> Check:
    from harness.intake.manifest import ShotNoiseTolerance
    from harness.stats.compare import compare_counts

    p = porter_thomas(10, seed=3)  # 1024 outcomes, 300 + 500 shots: most cells hold 0 or 1
    alarms = {0.05: 0, 0.01: 0}
    for i in range(trials):
        a, b = sample(p, 300, 10_000 + i), sample(p, 500, 20_000 + i)
        p_value = compare_counts(a, b, ShotNoiseTolerance(kind="shot-noise", alpha=0.05),
                                 seed=i, n_boot=200).p_value
        assert p_value is not None
        for alpha in alarms:
            alarms[alpha] += p_value < alpha
    return check("shot-noise bootstrap false alarms, sparse 10 qubits (300 vs 500 shots)",
                 "tests/stats/test_compare.py::test_sparse_ten_qubit_false_alarm_rate",
                 f"{alarms[0.05]} of {trials} at 0.05, {alarms[0.01]} at 0.01",
                 "<= 8 at 0.05 and <= 3 at 0.01", alarms[0.05] <= 8 and alarms[0.01] <= 3)


def sparse_chi_square_alarms(shots: tuple[int, int], min_expected: float, trials: int,
                             alpha: float = 0.01) -> int:
    """False alarms of the chi-square test on sparse ten-qubit counts of one distribution."""
    from harness.stats.chisquare import chi_square_counts

    p = porter_thomas(10, seed=3)
    alarms = 0
    for i in range(trials):
        a, b = sample(p, shots[0], 10_000 + i), sample(p, shots[1], 20_000 + i)
        alarms += chi_square_counts(a, b, alpha=alpha, min_expected=min_expected).verdict \
            == "fail"
    return alarms


def sparse_chi_square(trials: int = 200) -> list[Check]:
    test = "tests/stats/test_statistics_methods.py::"
    balanced = sparse_chi_square_alarms((500, 500), 5.0, trials)
    merged = sparse_chi_square_alarms((100, 5000), 5.0, trials)
    unmerged = sparse_chi_square_alarms((100, 5000), 0.0, trials)
    return [
        check("chi-square false alarms after merging, 500 vs 500 shots (alpha 0.01)",
              test + "test_sparse_ten_qubit_false_alarm_rate_after_merging",
              f"{balanced} of {trials}", "<= 6", balanced <= 6),
        check("chi-square false alarms, 100 vs 5000 shots: merging needed (alpha 0.01)",
              test + "test_sparse_unbalanced_false_alarms_need_merging",
              f"{merged} of {trials} merged, {unmerged} unmerged",
              "merged <= 6, unmerged >= 20", merged <= 6 and unmerged >= 20),
    ]


STUDIES: list[Callable[[], Check | list[Check]]] = [
    normal_p_vs_monte_carlo, honest_flag_rate, cherry_picked_flag_rate, worst_seeds_flagged,
    power_ladder, sparse_bootstrap_false_alarms, sparse_chi_square,
]


def run() -> dict[str, Any]:
    start = time.perf_counter()
    rows: list[Check] = []
    for study in STUDIES:
        made = study()
        rows += made if isinstance(made, list) else [made]
    return {"rows": rows, "failed": failures({"rows": rows}),
            "seconds": round(time.perf_counter() - start, 1)}


def failures(result: dict[str, Any]) -> list[str]:
    """The names of the criteria not met."""
    return [r["check"] for r in result["rows"] if not r["passed"]]


def markdown(result: dict[str, Any]) -> str:
    lines = ["| check | measured | criterion | result |", "|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['check']} | {r['measured']} | {r['criterion']} | "
                     f"{'pass' if r['passed'] else '**FAIL**'} |")
    tests = sorted({r["test"] for r in result["rows"]})
    lines += ["", f"{len(result['rows'])} criteria, {len(result['failed'])} failed; "
              f"{result['seconds']} s on this machine. make test keeps a fast version of each "
              "in " + ", ".join(f"`{t.split('::')[1]}`" for t in tests) + "."]
    return "\n".join(lines)


def main() -> None:
    result = run()
    print(markdown(result))
    print(json.dumps(result, indent=2))
    sys.exit(1 if result["failed"] else 0)


if __name__ == "__main__":
    main()
