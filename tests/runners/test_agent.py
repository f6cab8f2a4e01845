"""Tests of the in-environment agent, runners/agent/replay.py, imported by file path.

The agent must stay independent of the harness (it runs inside foreign environments), so
it is loaded the way it runs there: as a plain module with runners/agent on sys.path.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from qiskit import QuantumCircuit, qpy

from harness.noise.load import validate_noise
from tests.conftest import GHZ3, GHZ3_QASM3

AGENT_DIR = Path(__file__).resolve().parents[2] / "runners" / "agent"

H3 = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg c[3];
h q;
measure q -> c;
"""
# X on qubit 0, measured into clbit 2: the outcome string (clbit 2 leftmost) is "100".
PERMUTED = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg c[3];
x q[0];
measure q[0] -> c[2];
measure q[1] -> c[0];
measure q[2] -> c[1];
"""
MID_CIRCUIT = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[1];
creg c[2];
h q[0];
measure q[0] -> c[0];
h q[0];
measure q[0] -> c[1];
"""
NOISE = {"format": "qrepro-noise-v1", "num_qubits": 3, "coupling_map": None, "basis_gates": None,
         "gate_errors": [{"gates": ["cx"], "qubits": None, "arity": 2,
                          "channels": [{"type": "depolarizing", "p": 0.1}]}],
         "readout_errors": []}

Spec = Callable[..., dict[str, Any]]


@pytest.fixture
def agent(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(AGENT_DIR))
    spec = importlib.util.spec_from_file_location("qrepro_agent_replay", AGENT_DIR / "replay.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def deposit(tmp_path: Path) -> Path:
    root = tmp_path / "deposit"
    (root / "circuits").mkdir(parents=True)
    for name, text in {"ghz3.qasm": GHZ3, "ghz3.qasm3": GHZ3_QASM3, "h3.qasm": H3,
                       "permuted.qasm": PERMUTED, "mid.qasm": MID_CIRCUIT}.items():
        (root / "circuits" / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def spec() -> Spec:
    def make(file: str, fmt: str = "qasm2", **overrides: Any) -> dict[str, Any]:
        return {"id": Path(file).stem, "file": file, "format": fmt, "shots": 1000,
                "seed_simulator": 11, "seed_transpiler": 3, "optimization_level": 0,
                "method": "automatic", "precision": "double", "noise_model": None,
                "ideal": True} | overrides
    return make


def run(agent: ModuleType, spec: dict[str, Any], deposit: Path, work: Path) -> dict[str, Any]:
    result: dict[str, Any] = agent.run_one(spec, str(deposit), str(work), "CPU")
    return result


def ghz_qpy(path: Path, copies: int = 1) -> None:
    circuit = QuantumCircuit(3, 3)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    circuit.measure(range(3), range(3))
    with path.open("wb") as fh:
        qpy.dump([circuit] * copies, fh)


def assert_ghz(result: dict[str, Any], shots: int = 1000) -> None:
    assert result["ok"], result.get("error")
    assert sum(result["counts"].values()) == shots == result["shots"]
    assert set(result["counts"]) == {"000", "111"}
    assert result["ideal"] == pytest.approx({"000": 0.5, "111": 0.5})


def test_qasm2_runs(agent: ModuleType, spec: Spec, deposit: Path, work: Path) -> None:
    result = run(agent, spec("circuits/ghz3.qasm"), deposit, work)
    assert_ghz(result)
    assert result["id"] == "ghz3"
    assert result["device"] == "CPU"
    assert result["method"] not in (None, "automatic")  # the method Aer actually chose
    assert result["wall_s"] >= 0


def test_qasm3_runs(agent: ModuleType, spec: Spec, deposit: Path, work: Path) -> None:
    assert_ghz(run(agent, spec("circuits/ghz3.qasm3", "qasm3"), deposit, work))


def test_qpy_runs(agent: ModuleType, spec: Spec, deposit: Path, work: Path) -> None:
    ghz_qpy(deposit / "circuits" / "ghz3.qpy")
    assert_ghz(run(agent, spec("circuits/ghz3.qpy", "qpy", shots=500), deposit, work), shots=500)


def test_same_seed_same_counts(agent: ModuleType, spec: Spec, deposit: Path, work: Path) -> None:
    first = run(agent, spec("circuits/h3.qasm", seed_simulator=1234), deposit, work)
    second = run(agent, spec("circuits/h3.qasm", seed_simulator=1234), deposit, work)
    assert first["ok"] and second["ok"]
    assert first["counts"] == second["counts"]
    assert len(first["counts"]) == 8


def test_different_seed_different_counts(
    agent: ModuleType, spec: Spec, deposit: Path, work: Path
) -> None:
    first = run(agent, spec("circuits/h3.qasm", seed_simulator=1), deposit, work)
    second = run(agent, spec("circuits/h3.qasm", seed_simulator=2), deposit, work)
    assert sum(first["counts"].values()) == sum(second["counts"].values()) == 1000
    assert first["counts"] != second["counts"]


def test_reported_seed_is_the_recorded_one(
    agent: ModuleType, spec: Spec, deposit: Path, work: Path
) -> None:
    result = run(agent, spec("circuits/h3.qasm", seed_simulator=987654321), deposit, work)
    assert result["seed_simulator"] == 987654321


def test_unseeded_run_reports_the_seed_aer_drew(
    agent: ModuleType, spec: Spec, deposit: Path, work: Path
) -> None:
    result = run(agent, spec("circuits/h3.qasm", seed_simulator=None), deposit, work)
    assert result["ok"]
    assert isinstance(result["seed_simulator"], int)
    again = run(agent, spec("circuits/h3.qasm", seed_simulator=result["seed_simulator"]),
                deposit, work)
    assert again["counts"] == result["counts"]


def test_ideal_of_ghz3(agent: ModuleType) -> None:
    circuit = QuantumCircuit.from_qasm_str(GHZ3)
    assert agent.ideal_distribution(circuit) == pytest.approx({"000": 0.5, "111": 0.5})


def test_ideal_follows_the_measurement_mapping(
    agent: ModuleType, spec: Spec, deposit: Path, work: Path
) -> None:
    result = run(agent, spec("circuits/permuted.qasm"), deposit, work)
    assert result["ideal"] == {"100": 1.0}
    assert result["counts"] == {"100": 1000}


def test_ideal_with_several_registers_matches_counts_keys(agent: ModuleType) -> None:
    text = GHZ3.replace("creg c[3];", "creg a[1];\ncreg b[2];").replace(
        "-> c[0]", "-> a[0]").replace("-> c[1]", "-> b[0]").replace("-> c[2]", "-> b[1]")
    circuit = QuantumCircuit.from_qasm_str(text)
    assert agent.ideal_distribution(circuit) == pytest.approx({"000": 0.5, "111": 0.5})


def test_mid_circuit_measurement_has_no_ideal(
    agent: ModuleType, spec: Spec, deposit: Path, work: Path
) -> None:
    result = run(agent, spec("circuits/mid.qasm"), deposit, work)
    assert result["ok"]
    assert result["ideal"] is None
    assert sum(result["counts"].values()) == 1000


def test_ideal_can_be_turned_off(agent: ModuleType, spec: Spec, deposit: Path, work: Path) -> None:
    result = run(agent, spec("circuits/ghz3.qasm", ideal=False), deposit, work)
    assert result["ok"] and result["ideal"] is None


def test_missing_file_fails_that_circuit(
    agent: ModuleType, spec: Spec, deposit: Path, work: Path
) -> None:
    result = run(agent, spec("circuits/absent.qasm"), deposit, work)
    assert result["ok"] is False
    assert result["error"] and result["error_type"]


def test_noise_model_makes_ghz_noisy(
    agent: ModuleType, spec: Spec, deposit: Path, work: Path
) -> None:
    normalised = validate_noise(NOISE, "noise.json")
    (work / "noise.json").write_text(json.dumps(normalised), encoding="utf-8")
    result = run(agent, spec("circuits/ghz3.qasm", shots=2000, noise_model="noise.json"),
                 deposit, work)
    assert result["ok"], result.get("error")
    assert sum(result["counts"].values()) == 2000
    assert set(result["counts"]) - {"000", "111"}, result["counts"]
    assert result["ideal"] == pytest.approx({"000": 0.5, "111": 0.5})


def test_resolve_device_gpu_missing_is_fatal(agent: ModuleType) -> None:
    with pytest.raises(agent.Fatal, match="GPU requested"):
        agent.resolve_device("GPU", ["CPU"])


def test_resolve_device_auto_falls_back_to_cpu(agent: ModuleType) -> None:
    device, notes = agent.resolve_device("auto", ["CPU"])
    assert device == "CPU"
    assert notes and "CPU" in notes[0]
    assert agent.resolve_device("auto", ["CPU", "GPU"]) == ("GPU", [])
    assert agent.resolve_device("CPU", ["CPU", "GPU"]) == ("CPU", [])


def write_job(work: Path, deposit: Path, circuits: list[dict[str, Any]],
              device: str = "auto") -> Path:
    job = {"device": device, "deposit_root": str(deposit), "work_dir": str(work),
           "circuits": circuits}
    path = work / "job.json"
    path.write_text(json.dumps(job), encoding="utf-8")
    return path


def test_main_writes_result(agent: ModuleType, spec: Spec, deposit: Path, work: Path) -> None:
    job = write_job(work, deposit, [spec("circuits/ghz3.qasm")])
    status = agent.main(["replay.py", str(job), str(work / "result.json")])
    assert status == 0
    result = json.loads((work / "result.json").read_text(encoding="utf-8"))
    assert result["fatal"] is None
    assert result["agent_version"] == agent.AGENT_VERSION
    assert {"qiskit", "qiskit-aer"} <= set(result["environment"]["packages"])
    assert result["environment"]["device"] in result["environment"]["devices_available"]
    assert [c["id"] for c in result["circuits"]] == ["ghz3"]


def test_qpy_with_two_circuits_fails_only_that_circuit(
    agent: ModuleType, spec: Spec, deposit: Path, work: Path
) -> None:
    ghz_qpy(deposit / "circuits" / "two.qpy", copies=2)
    job = write_job(work, deposit, [spec("circuits/two.qpy", "qpy"), spec("circuits/ghz3.qasm")])
    assert agent.main(["replay.py", str(job), str(work / "result.json")]) == 0
    bad, good = json.loads((work / "result.json").read_text(encoding="utf-8"))["circuits"]
    assert bad["id"] == "two" and bad["ok"] is False
    assert "exactly one circuit" in bad["error"] and "2" in bad["error"]
    assert bad["error_type"] == "ValueError"
    assert_ghz(good)


def test_main_gpu_request_without_gpu_is_fatal(
    agent: ModuleType, spec: Spec, deposit: Path, work: Path
) -> None:
    if "GPU" in agent.available_devices():
        pytest.skip("this machine has a GPU")
    job = write_job(work, deposit, [spec("circuits/ghz3.qasm")], device="GPU")
    status = agent.main(["replay.py", str(job), str(work / "result.json")])
    assert status == 3
    result = json.loads((work / "result.json").read_text(encoding="utf-8"))
    assert result["fatal"] and "GPU" in result["fatal"]
    assert result["circuits"] == []


def test_main_usage(agent: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert agent.main(["replay.py"]) == 2
    assert "usage" in capsys.readouterr().err


def test_agent_does_not_import_the_harness() -> None:
    for name in ("replay.py", "aer_noise.py"):
        source = (AGENT_DIR / name).read_text(encoding="utf-8")
        assert "import harness" not in source and "from harness" not in source
        assert "from runners" not in source and "import runners" not in source


def run_agent_process(job: Path, result: Path) -> dict[str, Any]:
    """The agent as it runs in an environment: its own process (its workers fork from it)."""
    done = subprocess.run([sys.executable, "-E", "-s", "-S", str(AGENT_DIR / "replay.py"),
                           str(job), str(result)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    return data


def test_parallel_circuits_give_the_same_counts_in_the_same_order(
    spec: Spec, deposit: Path, work: Path
) -> None:
    noise = validate_noise(NOISE, "noise.json")
    (work / "noise.json").write_text(json.dumps(noise), encoding="utf-8")
    specs = [spec("circuits/ghz3.qasm", id=f"ghz-{i}", seed_simulator=100 + 5000 * i,
                  method="statevector", noise_model="noise.json" if i % 2 else None)
             for i in range(5)] + [spec("circuits/h3.qasm")]
    one = run_agent_process(write_job(work, deposit, specs), work / "one.json")
    job = write_job(work, deposit, specs)
    data = json.loads(job.read_text(encoding="utf-8")) | {"circuit_jobs": 2, "aer_threads": 1}
    job.write_text(json.dumps(data), encoding="utf-8")
    two = run_agent_process(job, work / "two.json")
    assert [c["id"] for c in two["circuits"]] == [s["id"] for s in specs]
    for a, b in zip(one["circuits"], two["circuits"], strict=True):
        assert a["ok"] and b["ok"]
        assert (a["counts"], a["seed_simulator"]) == (b["counts"], b["seed_simulator"])
    assert (one["environment"]["circuit_jobs"], two["environment"]["circuit_jobs"]) == (1, 2)
    assert two["environment"]["aer_threads"] == 1


DYING_WORKER = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
import replay
real = replay.run_one
def run_one(spec, *args):
    if spec["id"] == "dies":
        os._exit(9)  # as a worker killed for memory
    return real(spec, *args)
replay.run_one = run_one
job = json.load(open(sys.argv[2]))
runs = replay.run_circuits(job, "CPU", replay.circuit_pool(2))
print(json.dumps(runs))
"""


def test_a_worker_that_dies_fails_its_circuits_not_the_job(
    spec: Spec, deposit: Path, work: Path
) -> None:
    specs = [spec("circuits/ghz3.qasm", id="dies"), spec("circuits/h3.qasm")]
    job = write_job(work, deposit, specs)
    done = subprocess.run([sys.executable, "-c", DYING_WORKER, str(AGENT_DIR), str(job)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    assert [r["id"] for r in runs] == ["dies", "h3"]
    assert runs[0]["ok"] is False and runs[0]["error_type"] == "WorkerDied"
    assert "died" in runs[0]["error"]
