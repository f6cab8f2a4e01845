"""Build a qiskit-aer ``NoiseModel`` from a canonical ``qrepro-noise-v1`` dict.

Self-contained on purpose: this file is copied into foreign environments (deposit
containers, remote workers) next to the agent, so it imports only the standard library,
numpy and qiskit_aer -- never ``harness``. It trusts its input to be a spec already
validated (and normalised) by ``harness.noise.load``; it also accepts the unnormalised
spellings the validator accepts (scalar ``t1``/``t2``, real Kraus entries, absent keys).
The format is documented in ``docs/noise.md``.

Semantics: a gate-error entry's ``channels`` are composed in order (the first acts first);
``qubits`` null means the error applies to every qubit tuple of that gate (Aer's all-qubit
error, which a qubit-specific error for the same gate overrides); readout matrices are
``P(measured | prepared)`` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qiskit_aer.noise import (
    NoiseModel,
    QuantumError,
    ReadoutError,
    depolarizing_error,
    kraus_error,
    pauli_error,
    thermal_relaxation_error,
)

__all__ = ["build_noise_model", "build_quantum_error", "build_readout_error"]


def build_noise_model(spec: dict[str, Any]) -> NoiseModel:
    """The Aer noise model that the canonical ``spec`` describes."""
    basis = spec.get("basis_gates")
    model = NoiseModel(basis_gates=list(basis)) if basis else NoiseModel()
    for entry in spec.get("gate_errors") or []:
        error = build_quantum_error(entry)
        gates = list(entry["gates"])
        if entry.get("qubits") is None:
            model.add_all_qubit_quantum_error(error, gates)
        else:
            model.add_quantum_error(error, gates, list(entry["qubits"]))
    for entry in spec.get("readout_errors") or []:
        readout = build_readout_error(entry)
        if entry.get("qubits") is None:
            model.add_all_qubit_readout_error(readout)
        else:
            model.add_readout_error(readout, list(entry["qubits"]))
    return model


def build_quantum_error(entry: dict[str, Any]) -> QuantumError:
    """The composition (in list order) of one gate-error entry's channels."""
    arity = _arity(entry)
    error: QuantumError | None = None
    for channel in entry["channels"]:
        step = _channel(channel, arity)
        error = step if error is None else error.compose(step)
    if error is None:
        raise ValueError("a gate-error entry needs at least one channel")
    return error


def build_readout_error(entry: dict[str, Any]) -> ReadoutError:
    """A single-qubit readout error from rows ``P(measured | prepared)``."""
    return ReadoutError(np.asarray(entry["matrix"], dtype=float))


def _arity(entry: dict[str, Any]) -> int:
    qubits = entry.get("qubits")
    return int(entry["arity"]) if qubits is None else len(qubits)


def _channel(channel: dict[str, Any], arity: int) -> QuantumError:
    kind = channel["type"]
    if kind == "depolarizing":
        return depolarizing_error(float(channel["p"]), arity)
    if kind == "pauli":
        return pauli_error([(label, float(p)) for label, p in channel["terms"].items()])
    if kind == "kraus":
        return kraus_error([_complex_matrix(op) for op in channel["operators"]])
    if kind == "thermal_relaxation":
        return _thermal_relaxation(channel, arity)
    raise ValueError(f"unknown channel type {kind!r}")


def _complex_matrix(rows: Sequence[Sequence[Any]]) -> np.ndarray[Any, np.dtype[np.complex128]]:
    """Entries are ``[re, im]`` pairs or plain real numbers."""
    return np.array(
        [[complex(*z) if isinstance(z, list | tuple) else complex(z) for z in row] for row in rows],
        dtype=np.complex128,
    )


def _per_qubit(value: Any, arity: int) -> list[float]:
    values = [float(v) for v in value] if isinstance(value, list | tuple) else [float(value)]
    if len(values) != arity:
        raise ValueError(f"expected {arity} per-qubit values, got {len(values)}")
    return values


def _thermal_relaxation(channel: dict[str, Any], arity: int) -> QuantumError:
    """Tensor product of per-qubit relaxations; value k acts on the entry's k-th qubit."""
    t1s = _per_qubit(channel["t1"], arity)
    t2s = _per_qubit(channel["t2"], arity)
    time = float(channel["time"])
    population = float(channel.get("excited_state_population", 0.0))
    error: QuantumError | None = None
    for t1, t2 in zip(t1s, t2s, strict=True):
        one = thermal_relaxation_error(t1, t2, time, population)
        error = one if error is None else error.expand(one)
    assert error is not None
    return error
