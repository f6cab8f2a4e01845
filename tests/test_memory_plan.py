"""The memory planner: estimates per method, widths read from circuit files, the limits, and a
circuit too wide refused before anything runs (through the real console script)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.intake.circuit_shape import CircuitShape, circuit_shape, qpy_qubits
from harness.intake.circuit_shape import qasm_shape as read_qasm
from harness.memory_plan import (
    ASSUMED_BOND,
    IDEAL_MAX_QUBITS,
    MAX_LOG2,
    OVERHEAD,
    Limits,
    MiB,
    estimate,
    make_plan,
    pauli_noise,
    refusal,
    state_bytes,
)
from harness.models import CircuitJob, CircuitMemory
from harness.pipeline import Options, evaluate
from harness.units import GiB
from harness.units import human_size as human
from runners.confine import ProcessLimits
from runners.docker import DockerRunner
from runners.fake import FakeRunner
from runners.host import gpu_memory, host_available
from runners.local import LocalRunner
from runners.sandbox import Sandbox
from tests.conftest import ROOT, base_manifest, build_deposit
from tests.test_pipeline import replay_exactly

TiB = 1024 * GiB


def qasm_shape(text: str) -> CircuitShape:
    """The shape of a program whose registers have plain sizes (never None)."""
    shape = read_qasm(text)
    assert shape is not None
    return shape


# --- estimates per method ---------------------------------------------------------------


@pytest.mark.parametrize(("method", "qubits", "precision", "expected"), [
    ("statevector", 34, "double", 16 * 2**34),
    ("statevector", 34, "single", 8 * 2**34),
    ("statevector", 3, "double", 128),
    ("density_matrix", 10, "double", 16 * 4**10),
    ("density_matrix", 10, "single", 8 * 4**10),
    ("unitary", 10, "double", 16 * 4**10),
    ("superop", 5, "double", 16 * 16**5),
    ("superop", 5, "single", 8 * 16**5),
    ("stabilizer", 100, "double", 5025),  # 2n x (2n+1) bits = 200 x 201 / 8 bytes
    ("extended_stabilizer", 100, "single", 5025),
])
def test_state_bytes_per_method(method: str, qubits: int, precision: str, expected: int) -> None:
    size, basis = state_bytes(method, qubits, precision)
    assert size == expected
    assert basis.startswith(method)


def test_statevector_34_qubits_is_256_gib() -> None:
    assert state_bytes("statevector", 34)[0] == 256 * GiB
    assert human(256 * GiB) == "256 GiB"


def test_matrix_product_state_from_its_bond_dimension_or_an_assumed_one() -> None:
    size, basis = state_bytes("matrix_product_state", 20, "double", bond=64)
    assert size == 20 * 2 * 64 * 64 * 16 and "at most 64" in basis
    size, basis = state_bytes("matrix_product_state", 20)
    assert size == 20 * 2 * ASSUMED_BOND**2 * 16
    assert "assumed" in basis and "matrix_product_state_max_bond_dimension" in basis
    # a small circuit cannot have a bond dimension past 2^(n/2)
    assert state_bytes("matrix_product_state", 6, "single")[0] == 6 * 2 * 8 * 8 * 8


def test_tensor_network_is_not_estimated_and_huge_figures_are_capped() -> None:
    size, basis = state_bytes("tensor_network", 30)
    assert size is None and "not estimated" in basis
    size, basis = state_bytes("superop", 10_000)
    assert size == 2**MAX_LOG2 and "capped" in basis
    assert human(2**MAX_LOG2) == "1.27e+30 B"


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 B"), (1536, "1.5 KiB"), (256 * MiB, "256 MiB"), (16 * TiB, "16 TiB"),
    (1000 * MiB, "1000 MiB"), (int(2.5 * GiB), "2.5 GiB")])
def test_human_sizes(n: int, text: str) -> None:
    assert human(n) == text


def test_ideal_limit_is_the_agents() -> None:
    agent = (ROOT / "runners" / "agent" / "replay.py").read_text(encoding="utf-8")
    match = re.search(r"^IDEAL_MAX_QUBITS = (\d+)$", agent, re.MULTILINE)
    assert match is not None and int(match.group(1)) == IDEAL_MAX_QUBITS


# --- widths from the circuit files --------------------------------------------------------


def qasm2(declared: int, body: str) -> str:
    return (f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{declared}];\n'
            f"creg c[{declared}];\n{body}\n")


def test_qasm2_counts_the_qubits_its_instructions_touch() -> None:
    # a circuit transpiled for a 127-qubit device: Aer drops the idle qubits
    text = qasm2(127, "// a comment naming q[100]\nh q[0];\ncx q[0],q[5];\nbarrier q;\n"
                      "measure q[0] -> c[0];\nmeasure q[5] -> c[1];")
    shape = qasm_shape(text)
    assert (shape.used, shape.declared, shape.clifford) == (2, 127, True)


def test_a_whole_register_counts_all_of_it() -> None:
    shape = qasm_shape(qasm2(40, "h q[0];\nrz(0.3) q[1];\nmeasure q -> c;"))
    assert (shape.used, shape.declared, shape.clifford) == (40, 40, False)


def test_gate_definitions_name_parameters_not_registers() -> None:
    text = qasm2(8, "gate pair a, b { h a; cx a, b; }\npair q[2], q[3];\nmeasure q[2] -> c[0];")
    shape = qasm_shape(text)
    assert shape.used == 2 and not shape.clifford  # a custom gate: not known to be Clifford


def test_qasm3_registers_physical_qubits_and_loops() -> None:
    text = ("OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit[5] q;\nqubit a;\nbit[2] c;\n"
            "h q[0];\ncx q[0], a;\nc[0] = measure q[0];\n")
    shape = qasm_shape(text)
    assert (shape.used, shape.declared, shape.clifford) == (2, 6, True)
    physical = "OPENQASM 3.0;\nbit[2] c;\nh $0;\ncx $0, $7;\nc[0] = measure $0;\n"
    assert (qasm_shape(physical).used, qasm_shape(physical).declared) == (2, 8)
    loop = "OPENQASM 3.0;\nqubit[9] q;\nfor int i in [0:2] { h q[i]; }\n"
    assert qasm_shape(loop).used == 9  # a computed index: the whole register, to be safe


def test_qpy_header_gives_the_declared_qubits(tmp_path: Path) -> None:
    from qiskit import QuantumCircuit, qpy
    from qiskit.qpy import common

    for version in range(common.QPY_COMPATIBILITY_VERSION, common.QPY_VERSION + 1):
        circuit = QuantumCircuit(37, 2, name="wide")
        circuit.h(0)
        circuit.measure([0, 1], [0, 1])
        buffer = io.BytesIO()
        qpy.dump(circuit, buffer, version=version)
        assert qpy_qubits(buffer.getvalue()) == 37, version
    assert qpy_qubits(b"not a qpy file") is None
    assert qpy_qubits(b"QISKIT\x0d") is None  # cut short
    (tmp_path / "c.qpy").write_bytes(buffer.getvalue())
    shape = circuit_shape(tmp_path / "c.qpy", "qpy")
    assert shape is not None and (shape.used, shape.clifford) == (37, False)
    assert circuit_shape(tmp_path / "missing.qasm", "qasm2") is None


# --- automatic, the ideal distribution, the plan -----------------------------------------


def job(method: str = "statevector", precision: str = "double", ideal: bool = False,
        circuit: str = "c1", noise: str | None = None) -> CircuitJob:
    return CircuitJob(id=circuit, circuit=circuit, file=f"circuits/{circuit}.qasm",
                      format="qasm2", shots=100, seed_simulator=1, seed_transpiler=1,
                      optimization_level=0, method=method, precision=precision,  # type: ignore[arg-type]
                      noise_model=noise, ideal=ideal)


def test_automatic_is_what_aer_would_choose(tmp_path: Path) -> None:
    clifford = qasm_shape(qasm2(40, "h q[0];\ncx q[0],q[1];\nmeasure q -> c;"))
    other = qasm_shape(qasm2(40, "h q[0];\nt q[1];\nmeasure q -> c;"))
    assert estimate(job("automatic"), clifford).estimated_as == "stabilizer"
    assert estimate(job("automatic"), other).estimated_as == "statevector"
    # a Clifford circuit under a non-Pauli channel: statevector (or density_matrix) in Aer
    kraus = tmp_path / "kraus.json"
    kraus.write_text(json.dumps({"gate_errors": [{"channels": [{"type": "kraus"}]}]}))
    depol = tmp_path / "depol.json"
    depol.write_text(json.dumps({"gate_errors": [{"channels": [{"type": "depolarizing"}]}]}))
    assert not pauli_noise(kraus) and pauli_noise(depol) and pauli_noise(None)
    assert not pauli_noise(tmp_path / "missing.json")
    assert estimate(job("automatic"), clifford, pauli=False).estimated_as == "statevector"
    assert "automatic, estimated as statevector" in estimate(job("automatic"), other).basis


def test_the_ideal_distribution_counts_when_larger() -> None:
    shape = qasm_shape(qasm2(20, "h q[0];\ncx q[0],q[1];\nmeasure q -> c;"))  # 20 used
    plain = estimate(job(ideal=False), shape)
    with_ideal = estimate(job(ideal=True), shape)
    assert plain.state_bytes == 16 * 2**20
    assert with_ideal.state_bytes == 24 * 2**20 and "ideal distribution" in with_ideal.basis
    assert with_ideal.bytes == 24 * 2**20 + OVERHEAD
    wide = qasm_shape(qasm2(30, "h q[0];\nmeasure q -> c;"))
    assert estimate(job(ideal=True), wide).state_bytes == 16 * 2**30  # no ideal past 24


def memory(name: str, state: int, method: str = "statevector") -> CircuitMemory:
    return CircuitMemory(circuit=name, file=f"circuits/{name}.qasm", qubits=34,
                         method=method, estimated_as=method, state_bytes=state,
                         bytes=state + OVERHEAD, basis="test")


def test_refused_with_one_line_naming_circuit_sizes_and_limit() -> None:
    limits = Limits(runner=2 * GiB, runner_source="--memory 2g: the container's memory limit",
                    host=512 * GiB)
    plan = make_plan([memory("small", 1 * MiB), memory("qv_34", 256 * GiB)], limits)
    assert plan.refused == ("qv_34",) and plan.largest == "qv_34"
    assert plan.limit_bytes == 2 * GiB and plan.limit_source.startswith("--memory 2g")
    assert plan.total_state_bytes == 256 * GiB + MiB
    assert [c.fits for c in plan.circuits] == [True, False]
    error = refusal(plan)
    assert error is not None and error.kind == "memory" and error.file == "circuits/qv_34.qasm"
    assert error.message == (
        "qv_34: statevector needs 256 GiB for 34 qubits; the runner allows 2 GiB (--memory 2g: "
        "the container's memory limit); raise --memory or use method matrix_product_state")
    assert "\n" not in error.one_line()


def test_past_the_machine_raising_memory_is_not_the_advice() -> None:
    plan = make_plan([memory("big", 100 * GiB), memory("bigger", 200 * GiB)],
                     Limits(runner=8 * GiB, runner_source="x", host=16 * GiB))
    error = refusal(plan)
    assert error is not None
    assert "this machine has 16 GiB available" in error.message
    assert "raise --memory" not in error.message
    assert error.message.endswith("use method matrix_product_state or run on a machine with "
                                  "more memory (1 more circuit too large: big)")


def test_gpu_memory_bounds_the_state() -> None:
    plan = make_plan([memory("g", 40 * GiB)], Limits(host=1024 * GiB, gpu=32 * GiB))
    error = refusal(plan)
    assert error is not None and "the GPU has 32 GiB" in error.message
    assert "--device CPU" in error.message


def test_nothing_known_decides_nothing() -> None:
    plan = make_plan([memory("a", 256 * GiB)], Limits())
    assert plan.limit_bytes is None and plan.circuits[0].fits is None
    assert refusal(plan) is None


def test_host_available_is_meminfos_memavailable() -> None:
    """psutil's available memory is MemAvailable on Linux (within what changed meanwhile)."""
    text = Path("/proc/meminfo").read_text()
    kib = next(int(line.split()[1]) for line in text.splitlines()
               if line.startswith("MemAvailable:"))
    assert abs(host_available() - kib * 1024) < 256 * MiB


def test_gpu_memory_is_the_smallest_gpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\nprintf '81559\\n40536\\n'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert gpu_memory() == 40536 * MiB
    fake.write_text("#!/bin/sh\necho '[N/A]'\n")
    assert gpu_memory() is None
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert gpu_memory() is None


def test_runners_say_their_limit() -> None:
    limit, where = DockerRunner(sandbox=Sandbox(memory="3g")).memory_limit()
    assert limit == 3 * GiB and "--memory 3g" in where
    limit, where = LocalRunner(limits=ProcessLimits(address_space=8 * GiB)).memory_limit()
    assert limit == 8 * GiB and "address-space" in where
    assert LocalRunner(limits=ProcessLimits(address_space=None)).memory_limit()[0] is None
    assert FakeRunner(replay_exactly).memory_limit() == (None, "runner fake sets no memory limit")


# --- through the pipeline and the command line --------------------------------------------


def wide_deposit(root: Path, qubits: int = 40) -> Path:
    body = "\n".join(["h q[0];", *[f"cx q[{i}],q[{i + 1}];" for i in range(qubits - 1)],
                      "measure q -> c;"])
    manifest = base_manifest()
    manifest["noise_models"] = []
    manifest["circuits"] = [{"id": "wide40", "file": "circuits/wide40.qasm", "shots": 100,
                             "seed_simulator": 1}]
    manifest["claims"] = [{"id": "p0", "source": {"circuit": "wide40"},
                           "metric": "success_probability", "outcomes": ["0" * qubits],
                           "value": 0.5, "tolerance": {"kind": "absolute", "value": 0.1}}]
    return build_deposit(root, manifest, {"circuits/wide40.qasm": qasm2(qubits, body)})


def test_a_40_qubit_statevector_is_refused_before_anything_runs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "evaluate", str(wide_deposit(tmp_path / "dep")),
         "--out", str(out), "--runner", "local", "--progress", "none"],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 5, proc.stderr
    line = next(x for x in proc.stderr.splitlines() if x.startswith("qrepro: error:"))
    assert "wide40: statevector needs 16 TiB for 40 qubits" in line
    assert "the runner allows 8 GiB" in line and "matrix_product_state" in line
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "error" and report["error"]["kind"] == "memory"
    assert report["error"]["file"] == "circuits/wide40.qasm"
    plan = report["memory"]
    assert plan["refused"] == ["wide40"] and plan["largest"] == "wide40"
    assert plan["circuits"][0]["qubits"] == 40
    assert plan["circuits"][0]["state_bytes"] == 16 * 2**40
    assert plan["runner_limit_bytes"] == 8 * GiB
    # refused before the environment was built or the agent was asked anything
    assert "build" not in report["timings"] and "execute" not in report["timings"]
    assert not (out / "work" / "job.json").exists()
    assert "refused, too large for the limit: wide40" in (out / "report.md").read_text()


def test_a_normal_deposit_records_its_estimates(make_deposit: Callable[..., Path],
                                                tmp_path: Path) -> None:
    report = evaluate(make_deposit(), tmp_path / "out", FakeRunner(replay_exactly),
                      Options(seed=0))
    assert report.status == "complete" and report.memory is not None
    (ghz,) = report.memory.circuits
    # GHZ-3 with a claim that needs the ideal: its dense ideal (24 B x 2^3) beats 16 B x 2^3
    assert (ghz.circuit, ghz.qubits, ghz.method, ghz.estimated_as) == (
        "ghz3", 3, "statevector", "statevector")
    assert ghz.state_bytes == 24 * 8 and ghz.bytes == 24 * 8 + OVERHEAD and ghz.fits is True
    assert report.memory.refused == () and report.memory.largest == "ghz3"
    assert report.memory.host_available_bytes is not None
    md = (tmp_path / "out" / "report.md").read_text()
    assert "- memory (estimated before the run): largest ghz3, statevector, 3 qubits" in md
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["memory"]["circuits"][0]["bytes"] == 24 * 8 + OVERHEAD
