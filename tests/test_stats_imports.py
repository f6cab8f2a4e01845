"""What evaluating the common claims imports: counts claims (chi-square, the permutation
test) and scalar claims (absolute tolerance, shot-noise tolerance) must not load
``scipy.stats``, whose import alone costs about a second of CPU; the normal, t and
chi-square functions come from harness.stats.distributions (scipy.special). Imports, never
timings, are checked: each in a fresh interpreter, where nothing is imported yet."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def loaded_after(code: str) -> set[str]:
    """The modules loaded once ``code`` ran in a fresh interpreter (it must not fail)."""
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return set(loaded)


def test_counts_and_scalar_claims_do_not_load_scipy_stats() -> None:
    loaded = loaded_after("""
from harness.tolerances import AbsoluteTolerance, ShotNoiseTolerance
from harness.stats.chisquare import chi_square_counts
from harness.stats.compare import compare_counts, compare_scalar, compare_scalar_shot_noise
from harness.stats.metrics import bind_metric

observed = {"000": 480, "111": 470, "001": 30, "110": 20}
recorded = {"000": 490, "111": 455, "001": 25, "110": 28, "011": 2}
ideal = {"000": 0.5, "111": 0.5}
shot_noise = ShotNoiseTolerance(kind="shot-noise", alpha=0.01)
results = [
    chi_square_counts(observed, recorded),
    compare_counts(observed, recorded, shot_noise),
    compare_counts(observed, recorded, shot_noise, test="permutation-infidelity"),
    compare_scalar(0.93, 0.95, AbsoluteTolerance(kind="absolute", value=0.05)),
]
for metric in ("hellinger_fidelity", "tvd_ideal", "heavy_output_probability"):
    fn = bind_metric(metric, ideal)
    results.append(compare_scalar_shot_noise(observed, fn(recorded), fn, 1000, n_boot=200))
results.append(compare_scalar_shot_noise(
    observed, 0.95, bind_metric("success_probability", None, ["000", "111"]), 1000))
assert all(r.verdict in ("pass", "fail") for r in results), [r.evidence for r in results]
assert all(r.p_value is not None for i, r in enumerate(results) if i != 3)
""")
    assert "harness.stats.distributions" in loaded
    assert "scipy.stats" not in loaded, sorted(m for m in loaded if m.startswith("scipy."))


def test_t_based_claims_do_not_load_scipy_stats() -> None:
    """One-sided, comparative, TOST (with its power integral) and the t interval of an
    aggregate mean need only the t and normal functions too."""
    loaded = loaded_after("""
from harness.stats.aggregate import aggregate
from harness.stats.comparative import Arm, compare_order
from harness.stats.one_sided import one_sided
from harness.stats.outcome import trials_to_decide
from harness.stats.trials import compare_trials, one_effective_trial
from harness.stats.tost import tost_welch

values = [0.81, 0.84, 0.79, 0.83, 0.8]
results = [
    one_sided(0.9, 0.01, 4.0, 5, 0.88, 0.0, "at_least"),
    one_sided(0.9, 0.01, float("inf"), 1, 0.88, 0.0, "at_most"),
    compare_order([Arm("a", [0.9, 0.92, 0.91], [1, 2, 3]),
                   Arm("b", [0.8, 0.83, 0.82], [1, 2, 3])]),
    compare_trials(values, 0.82, 0.05),
    tost_welch(values, [0.8, 0.82, 0.85], 0.05),
    one_effective_trial(values, 0.01, float("inf"), 0.82, 0.05, "correlated seeds"),
    aggregate(values, "mean", 0.82, 0.05),
]
assert all(r.verdict != "error" for r in results), [r.evidence for r in results]
assert trials_to_decide(0.9, 0.02, 3, (0.85,), 0.05) is not None
""")
    assert "scipy.stats" not in loaded, sorted(m for m in loaded if m.startswith("scipy."))


def test_importing_the_statistics_loads_no_scipy_stats() -> None:
    """Every statistics module and claim kind: scipy.stats only inside the functions that
    need it (bootstrap intervals, the Clopper-Pearson interval)."""
    loaded = loaded_after(
        "import harness.claims.registry\n"
        + "".join(f"import harness.stats.{name}\n" for name in (
            "aggregate", "chisquare", "comparative", "compare", "distributions", "metrics",
            "multiple", "one_sided", "outcome", "quantum_volume", "seed_robustness", "trials"))
    )
    assert "scipy.stats" not in loaded
    assert "scipy.integrate" not in loaded  # only for the TOST power integral
