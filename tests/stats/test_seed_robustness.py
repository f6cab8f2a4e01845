"""Fresh seeds and the seed-sensitivity flag."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np

from harness.jobs import fresh_seeds
from harness.models import CircuitJob, CircuitRun
from harness.pipeline import Options, evaluate
from harness.stats.seed_robustness import percentile, seed_check
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
