"""qrepro record: the Aer recorder, the claims it writes, and deposits made with it that earn
all four badges (issue #16: "a deposit made this way from benchmarks' vqc-iris notebook and
from a plain Qiskit notebook earns all four badges when evaluated")."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from qiskit import QuantumCircuit, qasm3
from qiskit.circuit import Parameter
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, ReadoutError, depolarizing_error

from harness.authoring import aer_recorder
from harness.authoring import record as record_module
from harness.authoring.record import record
from harness.authoring.record_capture import NoiseBook, circuit_file
from harness.authoring.record_claims import choose_tolerance, counts_alpha, k_for_power, round_up
from harness.authoring.record_plan import Capture, RecordRequest
from harness.authoring.record_run import Parameters, RunSpec, SeedRun, injected
from harness.errors import AuthoringError
from harness.intake.manifest import TrialsClaim, load_manifest
from harness.noise.load import validate_noise
from tests.conftest import DEPOSITS, ROOT

VQC_PINS = yaml.safe_load((DEPOSITS / "vqc-iris" / "qdata.yaml").read_text())[
    "environment"]["requirements"]

GHZ_CODE = '''import json, os
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, depolarizing_error

noise = NoiseModel()
noise.add_all_qubit_quantum_error(depolarizing_error(0.01, 1), ["h"])
noise.add_all_qubit_quantum_error(depolarizing_error(0.04, 2), ["cx"])
qc = QuantumCircuit(3, 3)
qc.h(0)
qc.cx(0, 1)
qc.cx(1, 2)
qc.measure(range(3), range(3))
sim = AerSimulator(method="statevector", noise_model=noise, seed_simulator=seed)
counts = sim.run(qc, shots=shots).result().get_counts()
p = {k: v / shots for k, v in counts.items()}
fidelity = (sum((p.get(k, 0.0) * 0.5) ** 0.5 for k in ("000", "111"))) ** 2
with open(os.path.join(output_dir, "metrics.json"), "w") as fh:
    json.dump({"ghz_fidelity": fidelity, "note": "GHZ-3"}, fh)
'''


# --- deposits as an author starts them ----------------------------------------------------


def manifest_text(requirements: list[str]) -> str:
    """What an author has after qrepro init: identity, provenance, license, consent, pins."""
    return yaml.safe_dump({
        "qdata": 1,
        "identity": {"identifier": {"scheme": "doi", "value": "10.5281/zenodo.1234567"},
                     "title": "Recorded with qrepro record", "version": "1.0.0",
                     "created": "2026-01-01"},
        "provenance": {"authors": [{"name": "Ada Example", "orcid": "0000-0002-1825-0097",
                                    "affiliation": "Example Lab"}],
                       "institution": "Example University", "source": "simulator"},
        "license": {"spdx": "CC-BY-4.0", "commercial_use": True},
        "consent": {"personal_data": False, "basis": "not-applicable"},
        "environment": {"python": "3.11", "requirements": requirements},
    }, sort_keys=False)


def ghz_notebook(path: Path, tagged: bool = True) -> Path:
    nb = nbformat.v4.new_notebook(cells=[  # type: ignore[no-untyped-call]
        nbformat.v4.new_markdown_cell("# Noisy GHZ-3 on Aer"),  # type: ignore[no-untyped-call]
        nbformat.v4.new_code_cell(  # type: ignore[no-untyped-call]
            'seed = 0\nshots = 1000\noutput_dir = "."'),
        nbformat.v4.new_code_cell(GHZ_CODE),  # type: ignore[no-untyped-call]
    ])
    if tagged:
        nb.cells[1].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))  # type: ignore[no-untyped-call]
    return path


def plain_deposit(root: Path, tagged: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    pins = [p for p in VQC_PINS if p.split("==")[0] in
            ("qiskit", "qiskit-aer", "numpy", "papermill", "ipykernel")]
    (root / "qdata.yaml").write_text(manifest_text(pins), encoding="utf-8")
    return ghz_notebook(root / "notebooks" / "ghz.ipynb", tagged)


# --- running the commands ---------------------------------------------------------------


def qrepro_record(*args: str) -> tuple[int, str]:
    """``qrepro record ...`` through the command line, as an author runs it."""
    proc = subprocess.run([sys.executable, "-m", "harness", "record", *args],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    return proc.returncode, proc.stdout + proc.stderr


def qrepro_evaluate(deposit: Path, out: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "harness", "evaluate", str(deposit), "--out",
                           str(out), "--runner", "local", "--jobs", "2"],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert (out / "report.json").is_file(), proc.stdout + proc.stderr
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    return report


def assert_four_badges(report: dict[str, Any]) -> None:
    badges = report["badges"]
    assert all(badges[k] for k in ("available", "functional", "reusable", "reproduced")), \
        badges["reasons"]
    assert all(c["verdict"] == "pass" for c in report["claims"])
    assert "bit for bit" in " ".join(badges["reasons"]["reusable"])


# --- end to end ---------------------------------------------------------------------------


def test_plain_qiskit_notebook_deposit_earns_all_four_badges(tmp_path: Path) -> None:
    notebook = plain_deposit(tmp_path / "dep")
    before = notebook.read_bytes()
    code, out = qrepro_record(str(notebook), "--seeds", "1000,4000")
    assert code == 0, out
    assert notebook.read_bytes() == before, "the author's notebook is never modified"
    assert "seeds run: 1000, 4000" in out and "circuits captured: 2 (2 qasm3)" in out
    assert "power 0.8" in out and "next: qrepro check" in out
    dep = tmp_path / "dep"
    m = load_manifest(dep / "qdata.yaml")
    assert [c.id for c in m.circuits] == ["ghz-1000-0", "ghz-4000-0"]
    c = m.circuits[0]
    assert (c.format, c.seed_simulator, c.shots, c.method) == ("qasm3", 1000, 1000,
                                                                "statevector")
    assert (dep / c.file).read_text().startswith("OPENQASM 3.0;")
    counts = json.loads((dep / str(c.counts)).read_text())
    assert sum(counts.values()) == 1000 and all(set(k) <= {"0", "1"} for k in counts)
    assert len(m.noise_models) == 1 and m.noise_models[0].format == "qrepro-noise-v1"
    nb = m.notebooks[0]
    assert (nb.id, nb.path, nb.seeds, nb.shots) == ("ghz", "notebooks/ghz.ipynb",
                                                    [1000, 4000], 1000)
    fidelity = next(cl for cl in m.claims
                    if isinstance(cl, TrialsClaim) and cl.name == "ghz_fidelity")
    assert fidelity.per_seed is not None
    assert fidelity.spread is not None and fidelity.spread.n == 2
    assert {cl.id for cl in m.claims if cl.kind == "counts"} == {"ghz-1000-0-counts",
                                                                 "ghz-4000-0-counts"}
    assert "qiskit-qasm3-import==" in " ".join(m.environment.requirements)
    assert {f.path for f in m.files} >= {"notebooks/ghz.ipynb", c.file, str(c.counts)}
    assert_four_badges(qrepro_evaluate(dep, tmp_path / "out"))


@pytest.mark.slow  # three PennyLane trainings recorded, then four replayed: ~5 min on 2 cores
@pytest.mark.timeout(1800)  # above pyproject's per-test ceiling
def test_vqc_iris_notebook_deposit_earns_all_four_badges(tmp_path: Path) -> None:
    dep = tmp_path / "vqc"
    (dep / "notebooks").mkdir(parents=True)
    shutil.copy(DEPOSITS / "vqc-iris" / "notebooks" / "vqc_iris.ipynb", dep / "notebooks")
    (dep / "qdata.yaml").write_text(manifest_text(VQC_PINS), encoding="utf-8")
    code, out = qrepro_record(str(dep / "notebooks" / "vqc_iris.ipynb"), "--seeds",
                              "11,12,13", "-p", "steps", "10")
    assert code == 0, out
    assert "circuits captured: 90 (90 qasm3)" in out
    m = load_manifest(dep / "qdata.yaml")
    assert m.notebooks[0].parameters == {"steps": 10} and m.notebooks[0].shots == 1024
    assert {cl.name for cl in m.claims if cl.kind == "trials"} == {"test_accuracy",
                                                                   "train_loss"}
    assert_four_badges(qrepro_evaluate(dep, tmp_path / "out"))


def test_untagged_parameters_cell_is_refused_naming_the_cell(tmp_path: Path) -> None:
    notebook = plain_deposit(tmp_path / "dep", tagged=False)
    code, out = qrepro_record(str(notebook), "--seeds", "0")
    assert code != 0
    assert "no cell is tagged 'parameters'" in out
    assert "tag cell 2 of notebooks/ghz.ipynb (seed = 0, shots = 1000" in out
    assert load_manifest(tmp_path / "dep" / "qdata.yaml").circuits == []


def test_reserved_parameter_is_refused(tmp_path: Path) -> None:
    notebook = plain_deposit(tmp_path / "dep")
    code, out = qrepro_record(str(notebook), "--seeds", "0", "-p", "seed", "3")
    assert code != 0 and "--parameter seed: qrepro sets it itself" in out


def test_notebook_outside_any_deposit_is_refused(tmp_path: Path) -> None:
    notebook = ghz_notebook(tmp_path / "loose" / "ghz.ipynb")
    with pytest.raises(AuthoringError, match=r"no qdata\.yaml in any folder above"):
        record(RecordRequest(notebook, (0,)))


def test_injected_values_are_those_evaluate_injects(tmp_path: Path) -> None:
    cell = Parameters("cell 2 of nb.ipynb", {"seed": 0, "shots": 100},
                      frozenset({"seed", "shots", "noise_model_path", "steps"}))
    spec = RunSpec(tmp_path / "nb.ipynb", "nb.ipynb", 7,
                   {"steps": 10, "noise_model_path": "n.json"}, 500, "metrics.json", 300, 600)
    values = injected(cell, spec, tmp_path)
    assert values == {"shots": 500, "noise_model_path": "n.json", "steps": 10, "seed": 7,
                      "output_dir": str(tmp_path)}, "device only where the cell defines it"


# --- recording again (runs faked in-process: same recorder, no kernel) -----------------


def _ghz(noise_p: float) -> tuple[QuantumCircuit, NoiseModel]:
    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.measure(range(3), range(3))
    noise = NoiseModel()
    noise.add_all_qubit_quantum_error(depolarizing_error(noise_p, 2), ["cx"])
    return qc, noise


@pytest.fixture
def in_process_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each seed runs GHZ-3 here under the recorder, as the notebook's kernel would."""

    def fake_run_seed(nb: Any, cell: Any, spec: Any, shim: Path, work: Path) -> SeedRun:
        captures = work / f"seed-{spec.seed}" / "captures"
        aer_recorder.install(str(captures))
        try:
            qc, noise = _ghz(0.03)
            sim = AerSimulator(method="statevector", noise_model=noise)
            counts = sim.run(qc, shots=spec.shots, seed_simulator=spec.seed).result().get_counts()
        finally:
            aer_recorder.uninstall()
        p000 = counts.get("000", 0) / spec.shots
        return SeedRun(spec.seed, {"p000": p000}, captures)

    monkeypatch.setattr(record_module, "run_seed", fake_run_seed)


@pytest.mark.usefixtures("in_process_runs")
def test_recording_again_replaces_this_notebooks_entries_only(tmp_path: Path) -> None:
    dep = tmp_path / "dep"
    first = plain_deposit(dep)
    other = ghz_notebook(dep / "notebooks" / "other.ipynb")
    record(RecordRequest(first, (1000, 3000, 5000)))
    record(RecordRequest(other, (7000,)))
    record(RecordRequest(first, (2000, 4000), shots=500))
    m = load_manifest(dep / "qdata.yaml")
    assert [c.id for c in m.circuits] == ["other-7000-0", "ghz-2000-0", "ghz-4000-0"]
    assert [nb.seeds for nb in m.notebooks] == [[7000], [2000, 4000]]
    assert all(c.shots == 500 for c in m.circuits if c.id.startswith("ghz-"))
    ids = [cl.id for cl in m.claims]
    assert ids == ["other-p000", "other-7000-0-counts", "ghz-p000", "ghz-2000-0-counts",
                   "ghz-4000-0-counts"]
    assert len(m.noise_models) == 1, "one noise model, shared, deduplicated by digest"
    assert not list((dep / "circuits").glob("ghz-1000-*"))
    assert not (dep / "results" / "counts" / "ghz-3000-0.json").exists()
    assert not (dep / "results" / "notebooks" / "ghz" / "metrics-5000.json").exists()
    assert sorted(f.path for f in m.files) == sorted(
        p.relative_to(dep).as_posix() for p in dep.rglob("*")
        if p.is_file() and p.name != "qdata.yaml")
    again = (dep / "qdata.yaml").read_text()
    record(RecordRequest(first, (2000, 4000), shots=500))
    assert (dep / "qdata.yaml").read_text() == again, "the same record twice: the same manifest"


@pytest.mark.usefixtures("in_process_runs")
def test_authors_fields_and_claims_are_kept(tmp_path: Path) -> None:
    dep = tmp_path / "dep"
    notebook = plain_deposit(dep)
    data = yaml.safe_load((dep / "qdata.yaml").read_text())
    data["provenance"]["lineage"] = [{"description": "hand written"}]
    data["notebooks"] = [{"id": "main", "path": "notebooks/ghz.ipynb", "timeout": 120,
                          "parameters": {"depth": 2}}]
    data["claims"] = [{"id": "p000-at-least", "kind": "one-sided",
                       "source": {"notebook": "main"}, "metric": "notebook_metric",
                       "name": "p000", "direction": "at_least", "value": 0.3}]
    (dep / "qdata.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    summary = record(RecordRequest(notebook, (1000, 3000)))
    m = load_manifest(dep / "qdata.yaml")
    assert summary.notebook_id == "main" and m.provenance.lineage[0].description == "hand written"
    nb = m.notebooks[0]
    assert (nb.id, nb.timeout, nb.parameters, nb.seeds) == ("main", 120, {"depth": 2},
                                                            [1000, 3000])
    assert [cl.id for cl in m.claims][:2] == ["p000-at-least", "main-p000"]
    data = yaml.safe_load((dep / "qdata.yaml").read_text())
    data["claims"].append({"id": "ghz-success", "source": {"circuit": "main-1000-0"},
                           "metric": "success_probability", "outcomes": ["000", "111"],
                           "value": 0.95, "tolerance": {"kind": "absolute", "value": 0.05}})
    (dep / "qdata.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    record(RecordRequest(notebook, (1000, 3000)))
    assert "ghz-success" in [cl.id for cl in load_manifest(dep / "qdata.yaml").claims]
    record(RecordRequest(notebook, (2000,)))
    ids = [cl.id for cl in load_manifest(dep / "qdata.yaml").claims]
    assert "ghz-success" not in ids, "a claim on a circuit that is gone would dangle"
    assert ids[0] == "p000-at-least"


def test_shared_shots_are_warned_about(tmp_path: Path, in_process_runs: None) -> None:
    summary = record(RecordRequest(plain_deposit(tmp_path / "dep"), (11, 12, 13)))
    assert any("closer than the 1000 shots" in w for w in summary.warnings)


# --- the recorder -------------------------------------------------------------------------


@pytest.fixture
def recording(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "captures"
    aer_recorder.install(str(folder))
    try:
        yield folder
    finally:
        aer_recorder.uninstall()


def _captured(folder: Path) -> list[Capture]:
    return [Capture(folder, json.loads(p.read_text())) for p in sorted(folder.glob("exp-*.json"))]


def test_recorder_is_self_contained(tmp_path: Path) -> None:
    """The kernel may not have qrepro: the copied shim imports the standard library and
    qiskit only."""
    from harness.authoring.record_run import prepare_shim

    shim = prepare_shim(tmp_path)
    code = (f"import sys; sys.path.insert(0, {str(shim)!r}); import aer_recorder; "
            f"aer_recorder.install({str(tmp_path / 'cap')!r}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('harness', 'runners', 'reports')))")
    proc = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    assert proc.stdout.strip() == "[]"
    assert (tmp_path / "cap" / "versions.json").is_file()


def test_recorder_captures_each_experiment_with_the_seed_aer_used(recording: Path) -> None:
    qc, _ = _ghz(0.0)
    rx = QuantumCircuit(2, 2)
    rx.rx(0.7310585786300049, 0)
    rx.cx(0, 1)
    rx.measure([0, 1], [0, 1])
    result = AerSimulator(method="automatic").run([qc, rx], shots=300,
                                                  seed_simulator=11).result()
    caps = _captured(recording)
    assert len(caps) == 2
    assert [c.data["seed_simulator"] for c in caps] == [r.seed_simulator for r in result.results]
    assert caps[0].data["seed_simulator"] == 11 and caps[1].data["seed_simulator"] != 11
    assert caps[0].data["method"] == "stabilizer", "the method Aer chose, not 'automatic'"
    for i, c in enumerate(caps):
        assert c.data["shots"] == 300 and c.data["precision"] == "double"
        assert c.data["counts"] == result.get_counts(i) and c.data["noise_model"] is None
        text = (recording / c.data["qasm3"]).read_text()
        assert text.startswith("OPENQASM 3.0;")
        assert circuit_file(c)[0] == "qasm3"
        replayed = AerSimulator(method=c.data["method"]).run(
            qasm3.loads(text), shots=300, seed_simulator=c.data["seed_simulator"]).result()
        assert replayed.get_counts() == c.data["counts"], "one job per circuit, same counts"
    versions = json.loads((recording / "versions.json").read_text())
    assert versions["qiskit-aer"] and versions["qiskit"]


def test_recorder_covers_sampler_v2_and_notes_estimator_v2(recording: Path) -> None:
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_aer.primitives import EstimatorV2, SamplerV2

    theta = Parameter("theta")
    qc = QuantumCircuit(2)
    qc.ry(theta, 0)
    qc.cx(0, 1)
    qc.measure_all()
    SamplerV2(seed=5).run([(qc, [[0.4], [1.9]])], shots=200).result()
    caps = _captured(recording)
    assert len(caps) == 2 and all(c.data["shots"] == 200 for c in caps)
    assert "ry(0.4)" in (recording / caps[0].data["qasm3"]).read_text()
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    EstimatorV2().run([(bell, SparsePauliOp("ZZ"))]).result()
    assert len(_captured(recording)) == 2
    notes = (recording / "notes.jsonl").read_text()
    assert '"no-counts"' in notes


def test_recorder_converts_the_noise_model(recording: Path, tmp_path: Path) -> None:
    qc, noise = _ghz(0.05)
    noise.add_all_qubit_readout_error(ReadoutError([[0.98, 0.02], [0.03, 0.97]]))
    for seed in (1, 2):
        AerSimulator(noise_model=noise).run(qc, shots=100, seed_simulator=seed).result()
    caps = _captured(recording)
    assert caps[0].data["noise_model"] == caps[1].data["noise_model"] is not None
    dep = plain_deposit(tmp_path / "dep").parents[1]
    book = NoiseBook(dep, load_manifest(dep / "qdata.yaml"))
    ids = {book.id_for(recording / c.data["noise_model"]) for c in caps}
    assert len(ids) == 1 and len(book.new) == 1
    spec = next(iter(book.new.values()))["spec"]
    assert validate_noise(spec, "noise") == spec
    cx = next(e for e in spec["gate_errors"] if e["gates"] == ["cx"])
    assert cx["channels"][0]["type"] == "pauli"
    assert abs(cx["channels"][0]["terms"]["II"] - (1 - 0.05 * 15 / 16)) < 1e-12
    assert spec["readout_errors"][0]["matrix"] == [[0.98, 0.02], [0.03, 0.97]]


def test_circuit_qasm3_cannot_express_exactly_goes_to_qpy(recording: Path) -> None:
    qc = QuantumCircuit(1, 1)
    qc.initialize([0.6, 0.8], 0)
    qc.measure(0, 0)
    AerSimulator().run(qc, shots=50, seed_simulator=3).result()
    (cap,) = _captured(recording)
    assert cap.data["qasm3"] is None and "initialize" in cap.data["qasm3_error"]
    fmt, suffix, data = circuit_file(cap)
    assert (fmt, suffix) == ("qpy", ".qpy") and data.startswith(b"QISKIT")


def test_recording_never_breaks_the_notebook(recording: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(aer_recorder, "_write_experiment", broken)
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    job = AerSimulator().run(qc, shots=10, seed_simulator=1)
    assert job.result().get_counts() == {"0": 10}
    assert "disk full" in (recording / "notes.jsonl").read_text()
    aer_recorder.uninstall()
    assert not getattr(AerSimulator.run, "_qrepro_recorder", False)


# --- tolerances -------------------------------------------------------------------------


def test_tolerance_multiplier_is_the_80_percent_column_of_the_table() -> None:
    table = {2: 8.93, 3: 4.61, 5: 3.58, 10: 3.18, 20: 3.04, 30: 3.00}
    assert {n: round(k_for_power(n), 2) for n in table} == table


def test_tolerance_is_rounded_up_and_has_its_power() -> None:
    choice = choose_tolerance([0.9, 0.8666666666666667, 0.9333333333333333])
    assert choice.value == 0.089 and choice.k is not None and round(choice.k, 2) == 4.61
    assert choice.power is not None and 0.8 <= choice.power < 0.85
    assert round_up(0.05124) == 0.052 and round_up(123.4) == 130.0
    flat = choose_tolerance([0.5, 0.5, 0.5])
    assert flat.power is None and flat.warning and "same value" in flat.warning
    assert counts_alpha(1) == 0.01 and counts_alpha(5) == 0.002 and counts_alpha(90) == 0.001
