"""What stays lazy. Statically, from the source (tests/imports_at_load.py): the command line,
the statistics and the signing commands import their heavy packages only inside the functions
that use them. And once for real, in one fresh interpreter: ``qrepro --help``, ``qrepro
validate`` and evaluating the common claims load none of what they must not (imports, never
timings, are checked)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from harness.cli import COMMANDS
from tests.conftest import DEPOSITS, ROOT
from tests.imports_at_load import loaded_by

#: top-level packages none of which the start-up or validation may import
HEAVY = ("scipy", "numpy", "qiskit", "qiskit_aer", "docker", "papermill", "matplotlib",
         "pandas", "nbformat", "jinja2", "sqlalchemy", "dask", "distributed", "cryptography")
STATS = ("aggregate", "bootstrap", "chisquare", "comparative", "compare", "distributions",
         "metrics", "multiple", "one_sided", "outcome", "quantum_volume", "seed_robustness",
         "tost", "trials")
CRYPTO = ("cryptography", "securesystemslib", "in_toto_attestation")


def test_the_command_line_loads_only_click_and_the_error_tree() -> None:
    loaded = loaded_by("harness.cli")
    assert "click" in loaded
    assert not loaded & {*HEAVY, "pydantic"}, sorted(loaded & {*HEAVY, "pydantic"})


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_module_loads_no_heavy_package(command: str) -> None:
    loaded = loaded_by(COMMANDS[command][0])
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_statistics_load_no_scipy_stats() -> None:
    """scipy.stats only inside the functions that need it (bootstrap intervals, the
    Clopper-Pearson interval); scipy.integrate only for the TOST power integral."""
    loaded = loaded_by("harness.claims.registry", *(f"harness.stats.{n}" for n in STATS))
    assert "scipy.special" in loaded or "harness.stats.distributions" in loaded
    assert not loaded & {"scipy.stats", "scipy.integrate"}


def test_the_signing_commands_load_no_crypto() -> None:
    loaded = loaded_by("harness.cli.attestation", "reports.attestation")
    assert not loaded & set(CRYPTO), sorted(loaded & set(CRYPTO))


def test_the_static_reading_sees_a_top_level_import(tmp_path: object) -> None:
    """The reader is not blind: modules known to import numpy at load time are seen so."""
    assert "numpy" in loaded_by("harness.stats.compare")
    assert "sqlalchemy" in loaded_by("harness.batch.ledger")
    assert "numpy" not in loaded_by("harness.intake.manifest")


START_UP = """
import json, sys
def step(name):
    print(json.dumps([name, sorted(sys.modules)]))
import harness.cli
step("import")
from harness.cli import cli
for argv in ([['--help']] + [['validate', d] for d in DEPOSITS]):
    try:
        cli(argv, prog_name='qrepro')
    except SystemExit as exc:
        assert exc.code == 0, (argv, exc.code)
step("validate")
from harness.stats.chisquare import chi_square_counts
from harness.stats.compare import compare_counts, compare_scalar, compare_scalar_shot_noise
from harness.stats.metrics import bind_metric
from harness.tolerances import AbsoluteTolerance, ShotNoiseTolerance
observed = {"000": 480, "111": 470, "001": 30, "110": 20}
recorded = {"000": 490, "111": 455, "001": 25, "110": 28, "011": 2}
ideal = {"000": 0.5, "111": 0.5}
noise = ShotNoiseTolerance(kind="shot-noise", alpha=0.01)
results = [chi_square_counts(observed, recorded), compare_counts(observed, recorded, noise),
           compare_counts(observed, recorded, noise, test="permutation-infidelity"),
           compare_scalar(0.93, 0.95, AbsoluteTolerance(kind="absolute", value=0.05))]
for metric in ("hellinger_fidelity", "tvd_ideal", "heavy_output_probability"):
    fn = bind_metric(metric, ideal)
    results.append(compare_scalar_shot_noise(observed, fn(recorded), fn, 1000, n_boot=200))
results.append(compare_scalar_shot_noise(
    observed, 0.95, bind_metric("success_probability", None, ["000", "111"]), 1000))
assert all(r.verdict in ("pass", "fail") for r in results), [r.evidence for r in results]
from harness.stats.aggregate import aggregate
from harness.stats.comparative import Arm, compare_order
from harness.stats.one_sided import one_sided
from harness.stats.outcome import trials_to_decide
from harness.stats.tost import tost_welch
from harness.stats.trials import compare_trials, one_effective_trial
values = [0.81, 0.84, 0.79, 0.83, 0.8]
results = [one_sided(0.9, 0.01, 4.0, 5, 0.88, 0.0, "at_least"),
           one_sided(0.9, 0.01, float("inf"), 1, 0.88, 0.0, "at_most"),
           compare_order([Arm("a", [0.9, 0.92, 0.91], [1, 2, 3]),
                          Arm("b", [0.8, 0.83, 0.82], [1, 2, 3])]),
           compare_trials(values, 0.82, 0.05), tost_welch(values, [0.8, 0.82, 0.85], 0.05),
           one_effective_trial(values, 0.01, float("inf"), 0.82, 0.05, "correlated seeds"),
           aggregate(values, "mean", 0.82, 0.05)]
assert all(r.verdict != "error" for r in results), [r.evidence for r in results]
assert trials_to_decide(0.9, 0.02, 3, (0.85,), 0.05) is not None
step("claims")
"""


def test_start_up_validate_and_common_claims_in_a_fresh_interpreter() -> None:
    """One fresh interpreter, three steps: importing the command line; ``--help`` and
    ``validate`` on three deposits (no statistics, simulator or renderers); the counts,
    scalar and t-based claims (scipy.special only, never scipy.stats)."""
    deposits = [str(DEPOSITS / d) for d in ("ghz-noisy", "qv4-noisy", "vqc-iris")]
    script = START_UP.replace("DEPOSITS", repr(deposits))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    steps = {name: {m for m in mods} for name, mods in
             (json.loads(line) for line in proc.stdout.splitlines() if line.startswith("["))}
    top = {name: {m.split(".")[0] for m in mods} for name, mods in steps.items()}
    assert "click" in top["import"] and "pydantic" not in top["import"]
    assert not top["import"] & set(HEAVY), sorted(top["import"] & set(HEAVY))
    assert not top["validate"] & set(HEAVY), sorted(top["validate"] & set(HEAVY))
    assert "harness.stats.distributions" in steps["claims"]
    assert "scipy.stats" not in steps["claims"], sorted(
        m for m in steps["claims"] if m.startswith("scipy."))


@pytest.mark.parametrize("line", [
    "qiskit==2.6.2", "qiskit-aer==0.18.2", "a==1", "x.y_z==01.2.3", "numpy==2.4.6",
    "Qiskit_Aer==0.18.2", "pkg==1.0.0rc1", "pkg>=1.0", "pkg[extra]==1.0", "pkg==1.*",
    "pkg==1.0 ; python_version >= '3.10'", "-e .", "pkg @ https://x/y.whl", "pkg==", "==1.0",
    "-pkg==1.0", "pkg-==1.0",
])
def test_plain_requirement_fast_path_agrees_with_packaging(
        line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """validate checks a plain name==N.N pin without importing packaging: same verdicts."""
    from harness.intake import manifest

    def verdict() -> str:
        try:
            return manifest.plain_requirement(line)
        except ValueError as exc:
            return f"refused: {exc}"

    fast = verdict()
    monkeypatch.setattr(manifest, "_SIMPLE_PIN", re.compile(r"(?!)"))  # packaging every time
    assert verdict() == fast
