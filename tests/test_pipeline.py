"""The pipeline with a FakeRunner: phases, error reports, and the deposit left alone."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.deposit import snapshot
from harness.errors import DepositError
from harness.models import CircuitJob, CircuitRun
from harness.pipeline import Options, check, evaluate
from runners.fake import FakeRunner
from tests.conftest import BASE_FILES, COUNTS, base_manifest

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


def test_notebooks_are_reported_not_run(make_deposit: Callable[..., Path], tmp_path: Path
                                        ) -> None:
    m = base_manifest()
    m["notebooks"] = [{"id": "nb", "path": "nb.ipynb", "seeds": [1]}]
    files = {**BASE_FILES, "nb.ipynb": "{}"}
    report = evaluate(make_deposit(m, files), tmp_path / "out", FakeRunner(replay_exactly),
                      OPTIONS)
    assert not report.badges.functional
    assert any("notebook nb not run" in r for r in report.badges.reasons["functional"])


def test_check_reports_findings_without_running(make_deposit: Callable[..., Path]) -> None:
    root = make_deposit()
    (root / "stray.txt").write_text("x")
    result = check(root, OPTIONS)
    assert result.status == "complete"
    assert [f.code for f in result.findings] == ["not-inventoried"]
