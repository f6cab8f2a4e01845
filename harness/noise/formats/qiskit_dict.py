"""Importer for ``qiskit-noise-dict``: qiskit-aer ``NoiseModel.to_dict(serializable=True)``.

Pauli-only errors become ``pauli`` channels, any other error one ``kraus`` channel.
qiskit / qiskit-aer are imported lazily, and only for errors that are not Pauli mixtures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.noise.formats.canonical import name_list
from harness.noise.formats.channels import PAULI_LABEL, encode_matrix
from harness.noise.formats.converted import Converted, validate_converted
from harness.noise.formats.fields import (
    FORMAT,
    PROB_TOL,
    ROOT,
    FieldReader,
    Json,
    Matrix,
    index_path,
    key_path,
    kind_of,
)

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.circuit import Instruction


_PAULI_GATES = {"id": "I", "i": "I", "x": "X", "y": "Y", "z": "Z"}
_PAULI_BITS = {"I": (0, 0), "X": (1, 0), "Y": (1, 1), "Z": (0, 1)}
_BITS_PAULI = {bits: letter for letter, bits in _PAULI_BITS.items()}
_QISKIT_INSTRUCTIONS = ("id", "i", "x", "y", "z", "pauli", "reset", "kraus", "unitary")


def from_qiskit_dict(d: Any, display: str) -> Json:
    """Convert ``NoiseModel.to_dict(serializable=True)`` output to the canonical dict.

    Pauli-only errors become ``pauli`` channels, any other error one ``kraus`` channel;
    ``num_qubits`` is the smallest number that holds every qubit the model names.
    """
    c = FieldReader(display)
    root = c.obj(d, ROOT, ("errors",), ("x90_gates",))
    conv = Converted()
    for i, raw in enumerate(c.array(root["errors"], "errors")):
        path = index_path("errors", i)
        if not isinstance(raw, dict):
            c.fail(path, f"expected an object, got {kind_of(raw)}")
        kind = raw.get("type")
        if kind == "qerror":
            _import_qerror(c, raw, path, conv)
        elif kind == "roerror":
            _import_roerror(c, raw, path, conv)
        else:
            c.fail(key_path(path, "type"), f"expected 'qerror' or 'roerror', got {kind!r}")
    spec = {
        "format": FORMAT,
        "num_qubits": conv.min_qubits(),
        "gate_errors": conv.gate_errors,
        "readout_errors": conv.readout_errors,
    }
    return validate_converted(spec, display, conv.origins)


def _gate_qubit_lists(c: FieldReader, value: Any, path: str) -> list[list[int] | None]:
    """``gate_qubits``: absent means all qubits (``[None]``)."""
    if value is None:
        return [None]
    out: list[list[int] | None] = []
    for k, raw in enumerate(c.array(value, path, min_len=1)):
        items = c.array(raw, index_path(path, k), min_len=1)
        out.append([c.integer(q, index_path(index_path(path, k), j)) for j, q in enumerate(items)])
    return out


def _import_qerror(c: FieldReader, raw: Json, path: str, conv: Converted) -> None:
    entry = c.obj(
        raw, path, ("type", "operations", "instructions", "probabilities"), ("id", "gate_qubits")
    )
    gates = name_list(c, entry["operations"], key_path(path, "operations"), min_len=1)
    circuits = _qiskit_circuits(c, entry["instructions"], key_path(path, "instructions"))
    probs = _qiskit_probabilities(c, entry["probabilities"], path, len(circuits))
    width = max([1, *(q + 1 for circuit in circuits for inst in circuit for q in inst["qubits"])])
    channels: dict[int, Json] = {}
    for qubits in _gate_qubit_lists(c, entry.get("gate_qubits"), key_path(path, "gate_qubits")):
        arity = width if qubits is None else len(qubits)
        if arity < width:
            c.fail(key_path(path, "gate_qubits"), f"the error acts on {width} qubits, not {arity}")
        if arity not in channels:
            channels[arity] = _qiskit_channel(c, circuits, probs, path, arity)
        conv.add_gate(
            {"gates": gates, "qubits": qubits, "arity": arity, "channels": [channels[arity]]},
            path,
        )


def _qiskit_circuits(c: FieldReader, value: Any, path: str) -> list[list[Json]]:
    """``instructions``: a list of circuits, each a list of {name, qubits, params?}."""
    circuits: list[list[Json]] = []
    for k, raw in enumerate(c.array(value, path, min_len=1)):
        circuit_path = index_path(path, k)
        circuit: list[Json] = []
        for j, inst in enumerate(c.array(raw, circuit_path)):
            inst_path = index_path(circuit_path, j)
            op = c.obj(inst, inst_path, ("name", "qubits"), ("params", "label", "condition"))
            c.text(op["name"], key_path(inst_path, "name"))
            qubits = c.array(op["qubits"], key_path(inst_path, "qubits"), min_len=1)
            for m, q in enumerate(qubits):
                c.integer(q, index_path(key_path(inst_path, "qubits"), m))
            circuit.append(op)
        circuits.append(circuit)
    return circuits


def _qiskit_probabilities(c: FieldReader, value: Any, path: str, count: int) -> list[float]:
    probs_path = key_path(path, "probabilities")
    items = c.array(value, probs_path)
    if len(items) != count:
        c.fail(probs_path, f"{len(items)} probabilities for {count} instruction lists")
    probs = [c.prob(v, index_path(probs_path, k)) for k, v in enumerate(items)]
    total = math.fsum(probs)
    if abs(total - 1.0) > PROB_TOL:
        c.fail(probs_path, f"probabilities sum to {total!r}, not 1 (tolerance {PROB_TOL:g})")
    return probs


def _qiskit_channel(
    c: FieldReader, circuits: list[list[Json]], probs: list[float], path: str, arity: int
) -> Json:
    terms = _pauli_terms(circuits, probs, arity)
    if terms is not None:
        return {"type": "pauli", "terms": terms}
    ops = _qiskit_kraus(c, circuits, probs, path, arity)
    return {"type": "kraus", "operators": [encode_matrix(op) for op in ops]}


def _pauli_terms(
    circuits: list[list[Json]], probs: list[float], arity: int
) -> dict[str, float] | None:
    """The Pauli mixture these circuits describe, or None if one is not a Pauli product."""
    sums: dict[str, list[float]] = {}
    for circuit, prob in zip(circuits, probs, strict=True):
        label = _circuit_pauli(circuit, arity)
        if label is None:
            return None
        sums.setdefault(label, []).append(prob)
    return {label: math.fsum(parts) for label, parts in sorted(sums.items())}


def _circuit_pauli(circuit: list[Json], arity: int) -> str | None:
    """Product of the circuit's Pauli gates (phase dropped) as a label, rightmost = qubit 0."""
    bits = [(0, 0)] * arity
    for inst in circuit:
        paulis = _instruction_paulis(inst)
        if paulis is None:
            return None
        for qubit, letter in paulis:
            x, z = _PAULI_BITS[letter]
            bits[qubit] = (bits[qubit][0] ^ x, bits[qubit][1] ^ z)
    return "".join(_BITS_PAULI[b] for b in reversed(bits))


def _instruction_paulis(inst: Json) -> list[tuple[int, str]] | None:
    name, qubits = inst["name"], inst["qubits"]
    if name in _PAULI_GATES:
        return [(q, _PAULI_GATES[name]) for q in qubits]
    params = inst.get("params")
    if name != "pauli" or not isinstance(params, list) or len(params) != 1:
        return None
    label = params[0]
    if not isinstance(label, str) or not PAULI_LABEL.fullmatch(label):
        return None
    if len(label) != len(qubits):
        return None
    return [(q, label[-1 - j]) for j, q in enumerate(qubits)]


def _qiskit_kraus(
    c: FieldReader, circuits: list[list[Json]], probs: list[float], path: str, arity: int
) -> list[Matrix]:
    """Kraus operators of a general qiskit error, via QuantumError and quantum_info.Kraus."""
    import numpy as np
    from qiskit.exceptions import QiskitError
    from qiskit.quantum_info import Kraus
    from qiskit_aer.noise import QuantumError

    inst_path = key_path(path, "instructions")
    noise_ops = [
        (_qiskit_circuit(c, circuit, index_path(inst_path, k), arity), prob)
        for k, (circuit, prob) in enumerate(zip(circuits, probs, strict=True))
    ]
    try:
        channel = QuantumError(noise_ops).to_quantumchannel()
        return [np.asarray(op, dtype=np.complex128) for op in Kraus(channel).data]
    except (QiskitError, ValueError, TypeError) as exc:
        c.fail(inst_path, f"cannot convert this error to Kraus operators: {exc}")


def _qiskit_circuit(c: FieldReader, circuit: list[Json], path: str, arity: int) -> QuantumCircuit:
    from qiskit import QuantumCircuit
    from qiskit.exceptions import QiskitError

    qc = QuantumCircuit(arity)
    for j, inst in enumerate(circuit):
        operation = _qiskit_instruction(c, inst, index_path(path, j))
        try:
            qc.append(operation, inst["qubits"])
        except (QiskitError, ValueError, TypeError, IndexError) as exc:
            c.fail(index_path(path, j), f"cannot apply '{inst['name']}' here: {exc}")
    return qc


def _qiskit_instruction(c: FieldReader, inst: Json, path: str) -> Instruction:
    from qiskit.circuit import Reset
    from qiskit.circuit.library import IGate, XGate, YGate, ZGate

    simple: dict[str, Callable[[], Instruction]] = {
        "id": IGate,
        "i": IGate,
        "x": XGate,
        "y": YGate,
        "z": ZGate,
        "reset": Reset,
    }
    name = inst["name"]
    if name in simple:
        return simple[name]()
    if name not in _QISKIT_INSTRUCTIONS:
        c.fail(
            key_path(path, "name"),
            f"unsupported instruction '{name}' in a noise error; "
            f"supported: {', '.join(_QISKIT_INSTRUCTIONS)}",
        )
    return _parametrised_instruction(c, inst, path)


def _parametrised_instruction(c: FieldReader, inst: Json, path: str) -> Instruction:
    """A ``pauli`` (label), ``unitary`` (matrix) or ``kraus`` (matrices) instruction."""
    from qiskit.circuit.library import PauliGate, UnitaryGate
    from qiskit.exceptions import QiskitError
    from qiskit.quantum_info import Kraus

    name = inst["name"]
    params_path = key_path(path, "params")
    items = c.array(inst.get("params"), params_path, min_len=1)
    if name == "pauli":
        return PauliGate(c.text(items[0], index_path(params_path, 0)))
    dim = 1 << len(inst["qubits"])
    mats = [c.matrix(m, index_path(params_path, k), dim) for k, m in enumerate(items)]
    try:
        return UnitaryGate(mats[0]) if name == "unitary" else Kraus(mats).to_instruction()
    except (QiskitError, ValueError, TypeError) as exc:
        c.fail(params_path, f"invalid '{name}' parameters: {exc}")


def _import_roerror(c: FieldReader, raw: Json, path: str, conv: Converted) -> None:
    entry = c.obj(raw, path, ("type", "operations", "probabilities"), ("id", "gate_qubits"))
    ops_path = key_path(path, "operations")
    if name_list(c, entry["operations"], ops_path, min_len=1) != ["measure"]:
        c.fail(ops_path, "a readout error must apply to ['measure'] only")
    probs_path = key_path(path, "probabilities")
    size = len(c.array(entry["probabilities"], probs_path))
    if size != 2:
        c.fail(probs_path, f"only single-qubit (2x2) readout errors are supported, got {size} rows")
    qubits_path = key_path(path, "gate_qubits")
    for qubits in _gate_qubit_lists(c, entry.get("gate_qubits"), qubits_path):
        if qubits is not None and len(qubits) != 1:
            c.fail(qubits_path, "only single-qubit readout errors are supported")
        conv.add_readout({"qubits": qubits, "matrix": entry["probabilities"]}, path)
