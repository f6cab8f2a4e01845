"""Tests for harness.noise.load (canonical format, importers) and runners/agent/aer_noise.py."""

from __future__ import annotations

import ast
import copy
import importlib.util
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import SuperOp, average_gate_fidelity
from qiskit_aer import AerSimulator
from qiskit_aer.noise import (
    NoiseModel,
    ReadoutError,
    amplitude_damping_error,
    depolarizing_error,
    pauli_error,
    thermal_relaxation_error,
)

from harness.errors import NoiseModelError, RegistryError
from harness.noise.load import (
    depolarizing_for_error,
    from_calibration,
    from_qiskit_dict,
    load_noise,
    noise_digest,
    relaxation_fidelity,
    validate_noise,
)
from runners.agent.aer_noise import build_noise_model, build_quantum_error

AER_NOISE = Path(__file__).resolve().parents[2] / "runners" / "agent" / "aer_noise.py"
Spec = dict[str, Any]


def example_spec() -> Spec:
    """The full example of docs/noise.md."""
    return {
        "format": "qrepro-noise-v1",
        "num_qubits": 3,
        "coupling_map": [[0, 1], [1, 2]],
        "basis_gates": ["id", "rz", "sx", "x", "cx"],
        "gate_errors": [
            {"gates": ["cx"], "qubits": [0, 1], "channels": [{"type": "depolarizing", "p": 0.01}]},
            {
                "gates": ["sx", "x"],
                "qubits": None,
                "arity": 1,
                "channels": [{"type": "pauli", "terms": {"I": 0.99, "X": 0.01}}],
            },
            {
                "gates": ["sx"],
                "qubits": [0],
                "channels": [
                    {
                        "type": "kraus",
                        "operators": [
                            [[1, 0], [0, [math.sqrt(0.9), 0]]],
                            [[0, math.sqrt(0.1)], [0, 0]],
                        ],
                    }
                ],
            },
            {
                "gates": ["x"],
                "qubits": [0],
                "channels": [
                    {
                        "type": "thermal_relaxation",
                        "t1": 5e-5,
                        "t2": 7e-5,
                        "time": 3.5e-8,
                        "excited_state_population": 0,
                    },
                    {"type": "depolarizing", "p": 0.001},
                ],
            },
        ],
        "readout_errors": [
            {"qubits": [0], "matrix": [[0.98, 0.02], [0.05, 0.95]]},
            {"qubits": None, "matrix": [[0.99, 0.01], [0.03, 0.97]]},
        ],
    }


def expect_error(call: Callable[[], object], field: str, fragment: str = "") -> NoiseModelError:
    with pytest.raises(NoiseModelError) as info:
        call()
    assert info.value.field == field, info.value.one_line()
    assert fragment.lower() in info.value.message.lower(), info.value.message
    return info.value


# --- canonical format ------------------------------------------------------------------


def test_valid_spec_normalises_and_round_trips(tmp_path: Path) -> None:
    norm = validate_noise(example_spec(), "noise.json")
    assert validate_noise(norm, "noise.json") == norm
    assert json.loads(json.dumps(norm)) == norm
    assert set(norm) == {
        "format",
        "num_qubits",
        "coupling_map",
        "basis_gates",
        "gate_errors",
        "readout_errors",
    }
    assert norm["basis_gates"] == ["cx", "id", "rz", "sx", "x"]
    assert norm["gate_errors"][0]["arity"] == 2
    assert norm["gate_errors"][2]["channels"][0]["operators"][0][0] == [[1.0, 0.0], [0.0, 0.0]]
    assert norm["gate_errors"][3]["channels"][0]["t1"] == [5e-5]
    path = tmp_path / "noise.json"
    path.write_text(json.dumps(example_spec()))
    assert load_noise(path, "qrepro-noise-v1", "noise.json") == norm
    assert len(noise_digest(norm)) == 64


def test_same_physics_gives_same_digest() -> None:
    spelled = example_spec()
    spelled["basis_gates"] = ["x", "sx", "rz", "id", "cx"]
    spelled["gate_errors"][1]["gates"] = ["x", "sx"]
    spelled["gate_errors"][1]["channels"][0]["terms"]["Z"] = 0
    spelled["gate_errors"][2]["channels"][0]["operators"][0][0][0] = [1, -0.0]
    spelled["gate_errors"][3]["channels"][0]["t1"] = [5e-5]
    a = validate_noise(example_spec(), "a")
    b = validate_noise(spelled, "b")
    assert noise_digest(a) == noise_digest(b)
    changed = example_spec()
    changed["gate_errors"][0]["channels"][0]["p"] = 0.02
    assert noise_digest(validate_noise(changed, "c")) != noise_digest(a)


def _set(path: str, value: Any) -> Callable[[Spec], None]:
    """A mutation ``spec[path] = value`` with ``path`` like ``gate_errors.0.channels.0.p``."""

    def mutate(spec: Spec) -> None:
        *parents, last = path.split(".")
        target: Any = spec
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


def _delete(path: str) -> Callable[[Spec], None]:
    def mutate(spec: Spec) -> None:
        *parents, last = path.split(".")
        target: Any = spec
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        del target[last]

    return mutate


G0 = "gate_errors[0]"
NOT_CPTP = [[[1, 0], [0, 1]], [[0, 0.5], [0, 0]]]
INVALID = [
    # probabilities and parameters out of range
    (
        _set("gate_errors.1.channels.0.terms", {"I": 1.5, "X": -0.5}),
        "gate_errors[1].channels[0].terms.I",
        "[0, 1]",
    ),
    (_set("gate_errors.0.channels.0.p", -0.1), f"{G0}.channels[0].p", "depolarizing"),
    (_set("gate_errors.0.channels.0.p", 1.1), f"{G0}.channels[0].p", "1.06667"),
    (
        _set("gate_errors.1.channels.0.terms", {"I": 0.9, "X": 0.05}),
        "gate_errors[1].channels[0].terms",
        "sum to",
    ),
    (
        _set("gate_errors.2.channels.0.operators", NOT_CPTP),
        "gate_errors[2].channels[0].operators",
        "not CPTP",
    ),
    (
        _set("readout_errors.0.matrix", [[0.98, 0.02], [0.05, 0.9]]),
        "readout_errors[0].matrix[1]",
        "sums to",
    ),
    (
        _set("readout_errors.1.matrix", [[1.02, -0.02], [0.0, 1.0]]),
        "readout_errors[1].matrix[0][0]",
        "[0, 1]",
    ),
    (_set("gate_errors.3.channels.0.t2", 1.1e-4), "gate_errors[3].channels[0].t2", "2*T1"),
    (_set("gate_errors.3.channels.0.t1", 0), "gate_errors[3].channels[0].t1", "> 0"),
    (_set("gate_errors.3.channels.0.time", -1e-9), "gate_errors[3].channels[0].time", ">= 0"),
    (
        _set("gate_errors.3.channels.0.excited_state_population", 2),
        "gate_errors[3].channels[0].excited_state_population",
        "[0, 1]",
    ),
    # qubits
    (_set("gate_errors.0.qubits", [0, 3]), f"{G0}.qubits[1]", "num_qubits is 3"),
    (_set("gate_errors.0.qubits", [1, 1]), f"{G0}.qubits[1]", "twice"),
    (_set("readout_errors.0.qubits", [7]), "readout_errors[0].qubits[0]", "out of range"),
    (_set("readout_errors.0.qubits", [0, 1]), "readout_errors[0].qubits", "single-qubit"),
    (_set("readout_errors.0.qubits", None), "readout_errors[1]", "already has"),
    (_set("coupling_map", [[0, 5]]), "coupling_map[0][1]", "out of range"),
    # arity
    (
        _set("gate_errors.2.channels.0.operators", [np.eye(4).tolist()]),
        "gate_errors[2].channels[0].operators[0]",
        "2x2",
    ),
    (
        _set("gate_errors.1.channels.0.terms", {"II": 1.0}),
        "gate_errors[1].channels[0].terms.II",
        "1 letter",
    ),
    (
        _set("gate_errors.3.channels.0.t1", [5e-5, 5e-5]),
        "gate_errors[3].channels[0].t1",
        "one per qubit; got 2",
    ),
    (
        _set(
            "gate_errors.0.channels", [{"type": "thermal_relaxation", "t1": 1, "t2": 1, "time": 0}]
        ),
        f"{G0}.channels[0].t1",
        "list of 2",
    ),
    (_set("gate_errors.0.qubits", [0]), f"{G0}.gates[0]", "acts on 2"),
    (_set("gate_errors.0.arity", 1), f"{G0}.arity", "does not match"),
    (_delete("gate_errors.1.arity"), "gate_errors[1].arity", "all-qubit"),
    (_set("gate_errors.1.arity", 4), "gate_errors[1].arity", "between 1 and 3"),
    # structure
    (_set("gate_errors.3.gates", ["sx"]), "gate_errors[3].gates", "gate_errors[2]"),
    (_set("gate_errors.0.colour", 1), f"{G0}.colour", "unknown field"),
    (_set("colour", 1), "colour", "unknown field"),
    (_delete("num_qubits"), "num_qubits", "missing"),
    (_set("num_qubits", True), "num_qubits", "integer"),
    (_set("gate_errors.0.channels", []), f"{G0}.channels", "at least 1"),
    (_set("gate_errors.0.channels.0.type", "amplitude"), f"{G0}.channels[0].type", "known"),
    (_set("gate_errors.0.channels.0.p", "0.1"), f"{G0}.channels[0].p", "number"),
    (_set("gate_errors.0.channels.0.p", float("nan")), f"{G0}.channels[0].p", "finite"),
    (_set("format", "qrepro-noise-v2"), "format", "expected 'qrepro-noise-v1'"),
    (_set("format", "calibration-v1"), "format", "declare format: calibration-v1"),
]


@pytest.mark.parametrize(("mutate", "field", "fragment"), INVALID)
def test_invalid_spec_is_rejected_with_field_path(
    mutate: Callable[[Spec], None], field: str, fragment: str
) -> None:
    spec = example_spec()
    mutate(spec)
    error = expect_error(lambda: validate_noise(spec, "noise/model.json"), field, fragment)
    assert error.file == "noise/model.json"
    assert error.one_line().startswith(f"noise/model.json: {field}: ")


def test_non_cptp_message_gives_deviation() -> None:
    spec = example_spec()
    spec["gate_errors"][2]["channels"][0]["operators"] = NOT_CPTP
    error = expect_error(lambda: validate_noise(spec, "n"), "gate_errors[2].channels[0].operators")
    assert "0.25" in error.message


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        ('{"format": "qrepro-noise-v1",\n "num_qubits": }', "line 2 column 16", "not valid JSON"),
        ('{"format": "qrepro-noise-v1", "num_qubits": NaN}', "(root)", "NaN"),
        ('{"num_qubits": 1, "num_qubits": 2}', "(root)", "twice"),
        ("[1, 2]", "(root)", "top level"),
    ],
)
def test_bad_json_is_rejected(tmp_path: Path, text: str, field: str, fragment: str) -> None:
    path = tmp_path / "noise.json"
    path.write_text(text)
    expect_error(lambda: load_noise(path, "qrepro-noise-v1", "noise.json"), field, fragment)


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    missing = tmp_path / "absent.json"
    expect_error(lambda: load_noise(missing, "qrepro-noise-v1", "absent.json"), "(root)", "read")
    with pytest.raises(RegistryError, match="qiskit-noise-dict"):
        load_noise(missing, "yaml-noise", "absent.json")


# --- Aer builder -------------------------------------------------------------------------


def test_aer_builder_is_self_contained() -> None:
    tree = ast.parse(AER_NOISE.read_text())
    imported = {
        (node.module or "" if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "collections", "typing", "numpy", "qiskit_aer"}
    spec = importlib.util.spec_from_file_location("standalone_aer_noise", AER_NOISE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert isinstance(module.build_noise_model(validate_noise(example_spec(), "n")), NoiseModel)


def test_aer_builder_channels_match_qiskit() -> None:
    norm = validate_noise(example_spec(), "n")
    model = build_noise_model(norm)
    assert {"cx", "sx", "x", "measure"} <= set(model.noise_instructions)
    assert set(model.basis_gates) >= {"cx", "id", "rz", "sx", "x"}
    kraus = build_quantum_error(norm["gate_errors"][2])
    assert SuperOp(kraus.to_quantumchannel()) == SuperOp(
        amplitude_damping_error(0.1).to_quantumchannel()
    )
    composed = build_quantum_error(norm["gate_errors"][3])
    expected = thermal_relaxation_error(5e-5, 7e-5, 3.5e-8).compose(depolarizing_error(0.001, 1))
    assert SuperOp(composed.to_quantumchannel()) == SuperOp(expected.to_quantumchannel())


def test_two_qubit_relaxation_orders_values_by_entry_qubit() -> None:
    entry = {
        "gates": ["cx"],
        "qubits": [0, 1],
        "channels": [
            {"type": "thermal_relaxation", "t1": [1.0, 2.0], "t2": [1.0, 3.0], "time": 0.5}
        ],
    }
    spec = {"format": "qrepro-noise-v1", "num_qubits": 2, "gate_errors": [entry]}
    error = build_quantum_error(validate_noise(spec, "n")["gate_errors"][0])
    expected = thermal_relaxation_error(1.0, 1.0, 0.5).expand(thermal_relaxation_error(2, 3, 0.5))
    assert SuperOp(error.to_quantumchannel()) == SuperOp(expected.to_quantumchannel())


# --- importer: qiskit NoiseModel.to_dict ---------------------------------------------------


def qiskit_model() -> NoiseModel:
    model = NoiseModel()
    model.add_all_qubit_quantum_error(depolarizing_error(0.02, 1), ["sx", "x"])
    model.add_quantum_error(depolarizing_error(0.03, 2), ["cx"], [0, 1])
    model.add_quantum_error(amplitude_damping_error(0.15), ["x"], [1])
    model.add_quantum_error(thermal_relaxation_error(5e-5, 3e-5, 2e-6), ["sx"], [2])
    model.add_quantum_error(pauli_error([("XI", 0.1), ("II", 0.9)]), ["cz"], [1, 2])
    model.add_readout_error(ReadoutError([[0.97, 0.03], [0.06, 0.94]]), [0])
    model.add_all_qubit_readout_error(ReadoutError([[0.99, 0.01], [0.02, 0.98]]))
    return model


def qiskit_dict() -> Spec:
    serialised: Spec = json.loads(json.dumps(qiskit_model().to_dict(serializable=True)))
    return serialised


def test_qiskit_dict_import_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "aer.json"
    path.write_text(json.dumps(qiskit_dict()))
    spec = load_noise(path, "qiskit-noise-dict", "aer.json")
    assert spec["num_qubits"] == 3
    kinds = {
        (tuple(e["gates"]), None if e["qubits"] is None else tuple(e["qubits"])): e["channels"][0][
            "type"
        ]
        for e in spec["gate_errors"]
    }
    assert kinds[(("cx",), (0, 1))] == "pauli"
    assert kinds[(("x",), (1,))] == "kraus"
    assert kinds[(("sx",), (2,))] == "kraus"
    by_target = {tuple(e["qubits"] or ()): e for e in spec["gate_errors"] if "cz" in e["gates"]}
    assert by_target[(1, 2)]["channels"][0]["terms"] == pytest.approx({"II": 0.9, "XI": 0.1})

    original, imported = qiskit_model(), build_noise_model(spec)
    circuit = QuantumCircuit(3)
    circuit.sx(0)
    circuit.x(1)
    circuit.cx(0, 1)
    circuit.sx(2)
    circuit.cz(1, 2)
    circuit.x(0)
    circuit.measure_all()
    counts = [
        AerSimulator(method="density_matrix", noise_model=m, seed_simulator=1234)
        .run(circuit, shots=4000)
        .result()
        .get_counts()
        for m in (original, imported)
    ]
    assert counts[0] == counts[1]


def test_qiskit_dict_channels_equal_originals() -> None:
    spec = from_qiskit_dict(qiskit_dict(), "aer.json")
    errors = {
        (e["gates"][0], None if e["qubits"] is None else tuple(e["qubits"])): e
        for e in spec["gate_errors"]
    }
    pairs = [
        (("x", (1,)), amplitude_damping_error(0.15)),
        (("sx", (2,)), thermal_relaxation_error(5e-5, 3e-5, 2e-6)),
        (("cz", (1, 2)), pauli_error([("XI", 0.1), ("II", 0.9)])),
        (("sx", None), depolarizing_error(0.02, 1)),
    ]
    for key, error in pairs:
        rebuilt = build_quantum_error(errors[key]).to_quantumchannel()
        assert SuperOp(rebuilt) == SuperOp(error.to_quantumchannel()), key


def test_qiskit_pauli_gates_multiply_up_to_phase() -> None:
    d = {
        "errors": [
            {
                "type": "qerror",
                "operations": ["h"],
                "instructions": [
                    [{"name": "x", "qubits": [0]}, {"name": "z", "qubits": [0]}],
                    [{"name": "id", "qubits": [0]}],
                ],
                "probabilities": [0.25, 0.75],
            }
        ]
    }
    spec = from_qiskit_dict(d, "aer.json")
    assert spec["gate_errors"][0]["channels"][0]["terms"] == {"I": 0.75, "Y": 0.25}
    assert spec["gate_errors"][0]["qubits"] is None


def _qerror(**changes: Any) -> Spec:
    error: Spec = {
        "type": "qerror",
        "operations": ["x"],
        "instructions": [[{"name": "id", "qubits": [0]}], [{"name": "reset", "qubits": [0]}]],
        "probabilities": [0.9, 0.1],
        "gate_qubits": [[0]],
    }
    error.update(changes)
    return {"errors": [error]}


@pytest.mark.parametrize(
    ("d", "field", "fragment"),
    [
        (_qerror(probabilities=[0.9, 0.2]), "errors[0].probabilities", "sum to"),
        (_qerror(probabilities=[1.1, -0.1]), "errors[0].probabilities[0]", "[0, 1]"),
        (_qerror(probabilities=[1.0]), "errors[0].probabilities", "2 instruction lists"),
        (
            _qerror(instructions=[[{"name": "measure", "qubits": [0]}], []]),
            "errors[0].instructions[0][0].name",
            "unsupported",
        ),
        (_qerror(type="xerror"), "errors[0].type", "qerror"),
        (_qerror(gate_qubits=[[0, 1]]), "errors[0]", "acts on 1"),
        (
            {
                "errors": [
                    {
                        "type": "roerror",
                        "operations": ["measure"],
                        "probabilities": [[0.9, 0.2], [0.0, 1.0]],
                    }
                ]
            },
            "errors[0]",
            "converted",
        ),
        (
            {
                "errors": [
                    {
                        "type": "roerror",
                        "operations": ["measure"],
                        "probabilities": np.eye(4).tolist(),
                        "gate_qubits": [[0, 1]],
                    }
                ]
            },
            "errors[0].probabilities",
            "single-qubit",
        ),
    ],
)
def test_invalid_qiskit_dict_is_rejected(d: Spec, field: str, fragment: str) -> None:
    expect_error(lambda: from_qiskit_dict(d, "aer.json"), field, fragment)


# --- importer: calibration-v1 ---------------------------------------------------------------


def calibration() -> Spec:
    return {
        "format": "calibration-v1",
        "device": "ibm_test",
        "timestamp": "2025-01-01T00:00:00Z",
        "num_qubits": 3,
        "coupling_map": [[0, 1], [1, 2]],
        "qubits": [
            {"t1": 1.2e-4, "t2": 9e-5, "readout_error": 0.02},
            {
                "t1": 8e-5,
                "t2": 2e-4,
                "readout_error": 0.03,
                "prob_meas1_prep0": 0.01,
                "prob_meas0_prep1": 0.05,
            },
            {"t1": 1e-4, "t2": 1e-4, "readout_error": 0.0},
        ],
        "gates": [
            {"gate": "sx", "qubits": [0], "error": 3e-4, "duration": 3.5e-8},
            {"gate": "cx", "qubits": [1, 0], "error": 8e-3, "duration": 4e-7},
            {"gate": "x", "qubits": [2], "error": 1e-6, "duration": 1e-6},
        ],
    }


def _gate(spec: Spec, name: str) -> Spec:
    entry: Spec = next(e for e in spec["gate_errors"] if e["gates"] == [name])
    return entry


@pytest.mark.parametrize("gate", ["sx", "cx"])
def test_calibration_gate_infidelity_matches(gate: str) -> None:
    spec = from_calibration(calibration(), "cal.json")
    entry = _gate(spec, gate)
    assert [c["type"] for c in entry["channels"]] == ["thermal_relaxation", "depolarizing"]
    error = build_quantum_error(entry)
    infidelity = 1 - average_gate_fidelity(error.to_quantumchannel())
    calibrated = next(g["error"] for g in calibration()["gates"] if g["gate"] == gate)
    assert abs(infidelity - calibrated) < 1e-6


def test_calibration_clamps_and_readout() -> None:
    spec = from_calibration(calibration(), "cal.json")
    cx = _gate(spec, "cx")
    assert cx["qubits"] == [1, 0]
    assert cx["channels"][0]["t2"] == [1.6e-4, 9e-5]  # qubit 1's T2 clamped to 2*T1
    assert _gate(spec, "x")["channels"][1]["p"] == 0.0  # relaxation alone exceeds the error
    readout = {tuple(e["qubits"]): e["matrix"] for e in spec["readout_errors"]}
    assert readout[(0,)] == [[0.98, 0.02], [0.02, 0.98]]
    assert readout[(1,)] == [[0.99, 0.01], [0.05, 0.95]]
    assert (2,) not in readout
    assert spec["coupling_map"] == [[0, 1], [1, 2]]


def test_relaxation_fidelity_matches_qiskit() -> None:
    for t1, t2, time, pop in [(5e-5, 3e-5, 1e-6, 0.0), (5e-5, 9e-5, 2e-6, 0.2)]:
        channel = {"t1": [t1], "t2": [t2], "time": time}
        expected = average_gate_fidelity(
            thermal_relaxation_error(t1, t2, time, pop).to_quantumchannel()
        )
        assert relaxation_fidelity(channel) == pytest.approx(expected, abs=1e-12)
    assert depolarizing_for_error(0.9, 1.0, 1) == pytest.approx(4 / 3)


@pytest.mark.parametrize(
    ("path", "value", "field", "fragment"),
    [
        (("qubits",), [], "qubits", "one entry per qubit"),
        (("gates", 0, "qubits"), [0, 3], "gates[0].qubits[1]", "out of range"),
        (("gates", 0, "error"), 1.5, "gates[0].error", "[0, 1]"),
        (("gates", 0, "duration"), -1.0, "gates[0].duration", ">= 0"),
        (("qubits", 0, "t1"), 0.0, "qubits[0].t1", "> 0"),
        (("qubits", 0, "prob_meas1_prep0"), 0.1, "qubits[0].prob_meas1_prep0", "together"),
        (("qubits", 0, "colour"), "red", "qubits[0].colour", "unknown field"),
        (("gates", 1, "gate"), "sx", "gates[1]", "acts on 1"),
        (("format",), "qrepro-noise-v1", "format", "declare format: qrepro-noise-v1"),
    ],
)
def test_invalid_calibration_is_rejected(
    path: tuple[Any, ...], value: Any, field: str, fragment: str
) -> None:
    d = copy.deepcopy(calibration())
    target: Any = d
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    expect_error(lambda: from_calibration(d, "cal.json"), field, fragment)


def test_load_calibration_file(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(calibration()))
    spec = load_noise(path, "calibration-v1", "cal.json")
    assert spec == validate_noise(spec, "cal.json")
    assert isinstance(build_noise_model(spec), NoiseModel)


def test_docs_examples_are_valid() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "noise.md").read_text()
    blocks = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", docs, re.S)]
    canonical, snapshot = blocks
    assert validate_noise(canonical, "docs") == validate_noise(example_spec(), "test")
    spec = from_calibration(snapshot, "docs")
    assert [e["gates"] for e in spec["gate_errors"]] == [["sx"], ["cx"]]
