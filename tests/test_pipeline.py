"""The pipeline with a FakeRunner: phases, error reports, and the deposit left alone."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import DepositError
from harness.intake.deposit_digest import snapshot
from harness.models import CircuitJob, CircuitRun, JobSpec, NotebookJob, NotebookRun
from harness.pipeline import Options, check, evaluate
from runners.fake import FakeRunner
from tests.conftest import BASE_FILES, COUNTS, GHZ3_QASM3, ROOT, base_manifest

IDEAL = {"000": 0.5, "111": 0.5}
OPTIONS = Options(today=dt.date(2026, 11, 22))


def replay_exactly(job: CircuitJob) -> CircuitRun:
    return CircuitRun(id=job.id, ok=True, counts=dict(COUNTS), ideal=IDEAL,
                      seed_simulator=job.seed_simulator, method="statevector", device="CPU",
                      shots=job.shots)


def crash(job: CircuitJob) -> CircuitRun:
    return CircuitRun(id=job.id, ok=False, error="AerError: boom", error_type="AerError")


def test_complete_evaluation_awards_all_badges(make_deposit: Callable[..., Path], tmp_path: Path
                                               ) -> None:
    runner = FakeRunner(replay_exactly)
    report = evaluate(make_deposit(), tmp_path / "out", runner, OPTIONS)
    assert report.status == "complete"
    assert (report.badges.available, report.badges.functional, report.badges.reusable,
            report.badges.reproduced) == (True, True, True, True)
    assert [c.verdict for c in report.claims] == ["pass", "pass"]
    job = runner.jobs[0]
    assert (job.file, job.seed_simulator, job.noise_model, job.ideal) == (
        "circuits/ghz3.qasm", 11, "noise/n1.json", True)
    written = json.loads((tmp_path / "out" / "work" / "noise" / "n1.json").read_text())
    assert written["format"] == "qrepro-noise-v1"
    assert set(report.timings) >= {"load", "validate", "prepare", "execute", "compare", "total"}


def test_failed_circuit_denies_functional_and_errors_its_claims(
        make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    report = evaluate(make_deposit(), tmp_path / "out", FakeRunner(crash), OPTIONS)
    assert not report.badges.functional and not report.badges.reproduced
    assert report.badges.available
    assert {c.verdict for c in report.claims} == {"error"}
    assert "boom" in report.claims[0].message


def test_invalid_manifest_gives_error_report(make_deposit: Callable[..., Path], tmp_path: Path
                                             ) -> None:
    m = base_manifest()
    m["circuits"][0]["shots"] = -3
    report = evaluate(make_deposit(m), tmp_path / "out", FakeRunner(replay_exactly), OPTIONS)
    assert report.status == "error"
    assert report.error is not None
    assert (report.error.kind, report.error.file, report.error.field) == (
        "manifest", "qdata.yaml", "circuits[0].shots")
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["status"] == "error" and data["badges"]["available"] is False


def test_runner_fatal_error_is_reported_with_claims_in_error(
        make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    runner = FakeRunner(replay_exactly, fatal="GPU requested but Aer reports devices: CPU")
    report = evaluate(make_deposit(), tmp_path / "out", runner, OPTIONS)
    assert report.status == "error" and report.error is not None
    assert report.error.kind == "runner-unavailable"
    assert [c.verdict for c in report.claims] == ["error", "error"]


def test_invalid_noise_model_is_a_finding_and_circuit_not_run(
        make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    bad = json.loads(BASE_FILES["noise/n1.json"])
    bad["gate_errors"][0]["channels"][0]["p"] = 1.5
    runner = FakeRunner(replay_exactly)
    report = evaluate(make_deposit(files={**BASE_FILES, "noise/n1.json": json.dumps(bad)}),
                      tmp_path / "out", runner, OPTIONS)
    assert runner.jobs == []
    codes = {f.code: f for f in report.findings}
    assert codes["invalid-noise-model"].file == "noise/n1.json"
    assert "gate_errors[0]" in (codes["invalid-noise-model"].field or "")
    assert not report.badges.functional


def test_counts_not_summing_to_shots(make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    files = {**BASE_FILES, "results/ghz3.json": json.dumps({"000": 3, "111": 4})}
    report = evaluate(make_deposit(files=files), tmp_path / "out", FakeRunner(replay_exactly),
                      OPTIONS)
    codes = {f.code: f for f in report.findings}
    assert "sum to 7" in codes["invalid-counts"].message
    assert not report.badges.reproduced


def test_out_dir_inside_deposit_is_refused(make_deposit: Callable[..., Path]) -> None:
    root = make_deposit()
    before = snapshot(root)
    with pytest.raises(DepositError, match="outside the deposit"):
        evaluate(root, root / "out", FakeRunner(replay_exactly), OPTIONS)
    assert snapshot(root) == before


NB_CLAIM = {"id": "acc", "source": {"notebook": "nb"}, "metric": "notebook_metric",
            "name": "accuracy", "value": 0.9, "spread": {"kind": "sd", "value": 0.02, "n": 3},
            "per_seed": [0.88, 0.9, 0.92], "tolerance": {"kind": "absolute", "value": 0.05},
            "test": "tost", "step": 0.02}


def notebook_deposit(make_deposit: Callable[..., Path], **claim: object) -> Path:
    m = base_manifest()
    m["notebooks"] = [{"id": "nb", "path": "nb.ipynb", "seeds": [1, 2, 3], "shots": 100}]
    m["claims"] = [{**NB_CLAIM, **claim}]
    return make_deposit(m, {**BASE_FILES, "nb.ipynb": "{}"})


def accuracy_by_seed(values: dict[int, float]) -> Callable[[NotebookJob], NotebookRun]:
    def handler(job: NotebookJob) -> NotebookRun:
        return NotebookRun(id=job.id, run=job.run, seed=job.seed, ok=True,
                           metrics={"accuracy": values[job.seed]})
    return handler


def test_notebook_runs_once_per_seed_plus_a_repeat(make_deposit: Callable[..., Path],
                                                   tmp_path: Path) -> None:
    runner = FakeRunner(replay_exactly, notebook_handler=accuracy_by_seed(
        {1: 0.88, 2: 0.9, 3: 0.92}))
    report = evaluate(notebook_deposit(make_deposit), tmp_path / "out", runner, OPTIONS)
    assert [(j.seed, j.run) for j in runner.notebook_jobs] == [
        (1, "nb-seed-1"), (2, "nb-seed-2"), (3, "nb-seed-3"), (1, "nb-seed-1-repeat")]
    assert runner.notebook_jobs[0].shots == 100
    claim = report.claims[0]
    assert claim.verdict == "pass" and claim.comparison is not None
    assert claim.comparison.test == "exact"
    assert report.badges.functional and report.badges.reproduced and report.badges.reusable


def test_paired_tost_when_values_differ_a_little(make_deposit: Callable[..., Path],
                                                 tmp_path: Path) -> None:
    runner = FakeRunner(replay_exactly, notebook_handler=accuracy_by_seed(
        {1: 0.89, 2: 0.9, 3: 0.91}))
    report = evaluate(notebook_deposit(make_deposit), tmp_path / "out", runner, OPTIONS)
    cmp = report.claims[0].comparison
    assert cmp is not None and cmp.test == "tost-paired" and cmp.power is not None
    assert report.claims[0].verdict == "pass"


def test_missing_metric_fails_naming_notebook_seed_metric(make_deposit: Callable[..., Path],
                                                          tmp_path: Path) -> None:
    def handler(job: NotebookJob) -> NotebookRun:
        return NotebookRun(id=job.id, run=job.run, seed=job.seed, ok=True, metrics={"loss": 1})
    runner = FakeRunner(replay_exactly, notebook_handler=handler)
    report = evaluate(notebook_deposit(make_deposit), tmp_path / "out", runner, OPTIONS)
    assert report.claims[0].verdict == "fail"
    assert "notebook 'nb', seed 1: metric 'accuracy' is missing" in report.claims[0].message


def test_failing_cell_denies_functional_and_names_the_cell(make_deposit: Callable[..., Path],
                                                           tmp_path: Path) -> None:
    def handler(job: NotebookJob) -> NotebookRun:
        return NotebookRun(id=job.id, run=job.run, seed=job.seed, ok=False,
                           error_type="cell-error", cell_index=3, ename="RuntimeError",
                           evalue="boom", error="cell 3 raised RuntimeError: boom")
    runner = FakeRunner(replay_exactly, notebook_handler=handler)
    report = evaluate(notebook_deposit(make_deposit), tmp_path / "out", runner, OPTIONS)
    assert not report.badges.functional
    assert any("cell 3 raised RuntimeError: boom" in r
               for r in report.badges.reasons["functional"])
    assert report.claims[0].verdict == "error"


def test_seed_ignoring_notebook_is_flagged(make_deposit: Callable[..., Path],
                                           tmp_path: Path) -> None:
    calls = iter(range(100))

    def handler(job: NotebookJob) -> NotebookRun:
        return NotebookRun(id=job.id, run=job.run, seed=job.seed, ok=True,
                           metrics={"accuracy": 0.9 + 0.001 * next(calls)})
    runner = FakeRunner(replay_exactly, notebook_handler=handler)
    report = evaluate(notebook_deposit(make_deposit), tmp_path / "out", runner, OPTIONS)
    flags = [f for f in report.findings if f.code == "nondeterministic-notebook"]
    assert len(flags) == 1 and flags[0].blocks == ("reusable",)
    assert "same seed 1" in flags[0].message
    assert not report.badges.reusable


def test_tolerance_below_step_is_unattainable(make_deposit: Callable[..., Path],
                                              tmp_path: Path) -> None:
    runner = FakeRunner(replay_exactly, notebook_handler=accuracy_by_seed(
        {1: 0.87, 2: 0.9, 3: 0.93}))
    deposit = notebook_deposit(make_deposit, tolerance={"kind": "absolute", "value": 0.01},
                               step=1 / 30)
    report = evaluate(deposit, tmp_path / "out", runner, OPTIONS)
    assert report.claims[0].verdict == "error"
    assert "unattainable" in report.claims[0].message


def test_check_reports_findings_without_running(make_deposit: Callable[..., Path]) -> None:
    root = make_deposit()
    (root / "stray.txt").write_text("x")
    result = check(root, OPTIONS)
    assert result.status == "complete"
    assert [f.code for f in result.findings] == ["not-inventoried"]


def test_smoke_runs_one_seed_with_few_shots_and_decides_two_badges(
        make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    m = base_manifest()
    m["circuits"][0]["seeds"] = [5, 6000]
    m["notebooks"] = [{"id": "nb", "path": "nb.ipynb", "seeds": [1, 2, 3], "shots": 1000}]
    m["claims"] = [NB_CLAIM]
    deposit = make_deposit(m, {**BASE_FILES, "nb.ipynb": "{}"})
    runner = FakeRunner(replay_exactly, notebook_handler=accuracy_by_seed(
        {1: 0.88, 2: 0.9, 3: 0.92}))
    report = evaluate(deposit, tmp_path / "out", runner,
                      Options(today=OPTIONS.today, smoke=True, fresh_seeds=5))
    assert report.mode == "smoke" and report.claims == ()
    assert [(j.shots, j.role, j.ideal) for j in runner.jobs] == [(100, "recorded", False)]
    assert [(j.seed, j.shots) for j in runner.notebook_jobs] == [(1, 100)]
    b = report.badges
    assert (b.available, b.functional, b.reusable, b.reproduced) == (True, True, False, False)
    assert "--smoke" in b.reasons["reproduced"][0] and "--smoke" in b.reasons["reusable"][0]
    assert "Kick-the-tires" in (tmp_path / "out" / "report.md").read_text()


def test_warm_imports_loads_what_it_is_given_and_leaves_failures_to_their_use() -> None:
    import sys

    from harness.pipeline import warm_imports
    from reports import modules

    sys.modules.pop("colorsys", None)
    thread = warm_imports(("qrepro_no_such_module", "colorsys"))
    thread.join(30)
    assert not thread.is_alive() and "colorsys" in sys.modules
    assert modules(["json"]) == ("reports.json_report",)
    assert {"reports.html_report", "matplotlib.figure"} <= set(modules(["json", "html"]))
    html = set(modules(["html"], plots=False))
    assert "reports.counts_chart" in html and "matplotlib.figure" not in html


def test_only_a_report_that_may_plot_warms_matplotlib() -> None:
    from reports import may_plot

    assert not may_plot(["counts", "counts"], notebooks=False)
    assert may_plot(["counts", "scalar"], notebooks=False)
    assert may_plot([], notebooks=True)


#: evaluates a deposit (FakeRunner, every report format) and says whether matplotlib's
#: figure module was ever imported; argv[1]: "counts" keeps only the counts claim
MATPLOTLIB_PROBE = """
import sys, tempfile
from pathlib import Path
from harness.models import CircuitRun
from harness.pipeline import Options, evaluate
from runners.fake import FakeRunner
from tests.conftest import COUNTS, base_manifest, build_deposit

m = base_manifest()
if sys.argv[1] == "counts":
    m["claims"] = [c for c in m["claims"] if c["metric"] == "counts"]
tmp = Path(tempfile.mkdtemp())
runner = FakeRunner(lambda job: CircuitRun(id=job.id, circuit=job.circuit, role=job.role,
                                           ok=True, counts=dict(COUNTS), shots=job.shots))
report = evaluate(build_deposit(tmp / "deposit", m), tmp / "out", runner, Options())
assert report.status == "complete" and (tmp / "out" / "report.html").is_file(), report.error
print("matplotlib.figure" in sys.modules)
"""


@pytest.mark.parametrize(("claims", "imported"), [("counts", "False"), ("all", "True")])
def test_a_deposit_of_counts_claims_never_imports_matplotlibs_figure(claims: str,
                                                                      imported: str) -> None:
    """Its report.html has counts plots only, drawn from a template: neither the warm-up
    nor the report loads matplotlib's figure module (0.3 s of CPU)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", MATPLOTLIB_PROBE, claims], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == imported


def test_warm_imports_wait_for_the_agent_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import threading

    from harness import pipeline
    from harness.pipeline import warm_imports

    monkeypatch.setattr(pipeline, "AGENT_START_WAIT_S", 120.0)

    sys.modules.pop("pickletools", None)
    started = threading.Event()
    thread = warm_imports(("pickletools",), after=started)
    thread.join(0.2)
    assert thread.is_alive() and "pickletools" not in sys.modules
    started.set()
    thread.join(30)
    assert not thread.is_alive() and "pickletools" in sys.modules


def test_a_runner_says_when_its_agent_started(make_deposit: Callable[..., Path],
                                             tmp_path: Path) -> None:
    """A runner tells on_started when its agent starts; the pipeline hands the runner its
    callback for the run and takes it back afterwards."""
    told: list[str] = []
    runner = FakeRunner(replay_exactly)
    runner.on_started = lambda: told.append("started")
    runner.execute(JobSpec(device="CPU", circuits=[], notebooks=[]), tmp_path, tmp_path / "w")
    assert told == ["started"]
    report = evaluate(make_deposit(), tmp_path / "out", runner, OPTIONS)
    assert report.status == "complete" and told == ["started"]
    assert runner.on_started is None


@pytest.mark.parametrize(("requirement", "warned"), [
    (None, True), ("qiskit-qasm3-import==0.6.0", False), ("qiskit[qasm3-import]==2.6.2", False)])
def test_an_openqasm3_circuit_without_its_reader_pinned_is_warned_about_at_validate(
        make_deposit: Callable[..., Path], requirement: str | None, warned: bool) -> None:
    """Qiskit reads OpenQASM 3 with qiskit-qasm3-import: without it pinned (or qiskit's
    extra that pulls it) the replay fails in the environment; validate says so first, naming
    the circuit, the field and the pin to add. The .qasm extension with an OPENQASM 3 header
    counts too."""
    m = base_manifest()
    if requirement:
        m["environment"]["requirements"].append(requirement)
    result = check(make_deposit(m, {**BASE_FILES, "circuits/ghz3.qasm": GHZ3_QASM3}), OPTIONS)
    found = [f for f in result.findings if f.code == "qasm3-reader-not-pinned"]
    assert len(found) == int(warned)
    if warned:
        (f,) = found
        assert (f.severity, f.file, f.field) == (
            "warning", "qdata.yaml", "environment.requirements")
        assert "circuit ghz3 is OpenQASM 3" in f.message
        assert "add qiskit-qasm3-import==" in f.message


def test_foreign_code_in_replay_is_not_a_result(make_deposit: Callable[..., Path],
                                                tmp_path: Path) -> None:
    """The agent marks a circuit whose replay loaded code from outside the verified stack as
    failed (error_type foreign-code): a finding, and Functional, Reusable, Reproduced denied."""
    def foreign(job: CircuitJob) -> CircuitRun:
        return CircuitRun(id=job.id, circuit=job.circuit, role=job.role, ok=False,
                          error_type="foreign-code",
                          error="code from outside the verified replay stack was loaded "
                                "during the replay, so its counts are not a result: evilmod "
                                "(/site/evilmod.py, distribution evilplug)")

    report = evaluate(make_deposit(), tmp_path / "out", FakeRunner(foreign), OPTIONS)
    found = [f for f in report.findings if f.code == "foreign-code-in-replay"]
    assert found and "evilmod (/site/evilmod.py, distribution evilplug)" in found[0].message
    assert found[0].blocks == ("functional", "reusable", "reproduced")
    assert report.badges.available
    assert not (report.badges.functional or report.badges.reusable or report.badges.reproduced)
