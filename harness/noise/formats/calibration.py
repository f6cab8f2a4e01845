"""Importer for ``calibration-v1``: a device calibration snapshot (T1/T2, gate and readout
errors), and the fidelity arithmetic that turns a calibrated gate error into channels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from harness.noise.formats.canonical import qubit_list
from harness.noise.formats.converted import Converted, validate_converted
from harness.noise.formats.fields import (
    CALIBRATION_FORMAT,
    FORMAT,
    MAX_QUBITS,
    FieldReader,
    Json,
    clean_float,
    index_path,
    key_path,
    read_root,
)


@dataclass(frozen=True)
class _QubitCalibration:
    t1: float
    t2: float
    readout: list[list[float]] | None


def from_calibration(d: Any, display: str) -> Json:
    """Convert a ``calibration-v1`` snapshot to the canonical dict.

    Each gate becomes thermal relaxation (its qubits' T1/T2 over the gate duration) followed
    by the depolarizing channel that brings the average gate infidelity to the calibrated
    ``error`` (as qiskit-aer's ``basic_device_gate_errors``); T2 is clamped to 2*T1.
    """
    c = FieldReader(display)
    required = ("format", "device", "timestamp", "num_qubits", "qubits", "gates")
    root = read_root(c, d, CALIBRATION_FORMAT, required, ("coupling_map",))
    c.text(root["device"], "device")
    c.text(root["timestamp"], "timestamp")
    n = c.integer(root["num_qubits"], "num_qubits", low=1, high=MAX_QUBITS)
    qubits = _calibration_qubits(c, root["qubits"], n)
    conv = Converted()
    for q, cal in enumerate(qubits):
        if cal.readout is not None:
            conv.add_readout({"qubits": [q], "matrix": cal.readout}, index_path("qubits", q))
    for i, raw in enumerate(c.array(root["gates"], "gates")):
        path = index_path("gates", i)
        conv.add_gate(_calibration_gate(c, raw, path, qubits), path)
    spec = {
        "format": FORMAT,
        "num_qubits": n,
        "coupling_map": root.get("coupling_map"),
        "gate_errors": conv.gate_errors,
        "readout_errors": conv.readout_errors,
    }
    return validate_converted(spec, display, conv.origins)


def _calibration_qubits(c: FieldReader, value: Any, n: int) -> list[_QubitCalibration]:
    items = c.array(value, "qubits")
    if len(items) != n:
        c.fail("qubits", f"expected one entry per qubit (num_qubits = {n}), got {len(items)}")
    return [_calibration_qubit(c, raw, index_path("qubits", q)) for q, raw in enumerate(items)]


def _calibration_qubit(c: FieldReader, raw: Any, path: str) -> _QubitCalibration:
    optional = ("readout_error", "prob_meas1_prep0", "prob_meas0_prep1")
    entry = c.obj(raw, path, ("t1", "t2"), optional)
    t1 = c.real(entry["t1"], key_path(path, "t1"), low=0.0, low_open=True)
    t2 = c.real(entry["t2"], key_path(path, "t2"), low=0.0, low_open=True)
    return _QubitCalibration(
        t1=t1, t2=min(t2, 2 * t1), readout=_calibration_readout(c, entry, path)
    )


def _calibration_readout(c: FieldReader, entry: Json, path: str) -> list[list[float]] | None:
    """The asymmetric pair if given (as qiskit-aer does), else the symmetric readout_error."""
    asym = [key for key in ("prob_meas1_prep0", "prob_meas0_prep1") if key in entry]
    if len(asym) == 1:
        c.fail(key_path(path, asym[0]), "give prob_meas1_prep0 and prob_meas0_prep1 together")
    if asym:
        p10 = c.prob(entry["prob_meas1_prep0"], key_path(path, "prob_meas1_prep0"))
        p01 = c.prob(entry["prob_meas0_prep1"], key_path(path, "prob_meas0_prep1"))
    elif "readout_error" in entry:
        p10 = p01 = c.prob(entry["readout_error"], key_path(path, "readout_error"))
    else:
        return None
    if p10 == 0 and p01 == 0:
        return None
    return [[clean_float(1.0 - p10), p10], [p01, clean_float(1.0 - p01)]]


def _calibration_gate(c: FieldReader, raw: Any, path: str, cals: list[_QubitCalibration]) -> Json:
    entry = c.obj(raw, path, ("gate", "qubits", "error", "duration"))
    name = c.text(entry["gate"], key_path(path, "gate"))
    qubits_path = key_path(path, "qubits")
    if entry["qubits"] is None:
        c.fail(qubits_path, "expected a list of qubits, got null")
    qubits = qubit_list(c, entry["qubits"], qubits_path, len(cals))
    assert qubits is not None
    error = c.prob(entry["error"], key_path(path, "error"))
    duration = c.real(entry["duration"], key_path(path, "duration"), low=0.0)
    relax = {
        "type": "thermal_relaxation",
        "t1": [cals[q].t1 for q in qubits],
        "t2": [cals[q].t2 for q in qubits],
        "time": duration,
        "excited_state_population": 0.0,
    }
    depol = depolarizing_for_error(error, relaxation_fidelity(relax), len(qubits))
    return {
        "gates": [name],
        "qubits": qubits,
        "arity": len(qubits),
        "channels": [relax, {"type": "depolarizing", "p": depol}],
    }


def relaxation_fidelity(channel: Json) -> float:
    """Average gate fidelity of a (tensor product of) thermal relaxation channel(s).

    Per qubit the Choi matrix is ``[[1-p1 r, ., ., e], [., p1 r, ., .], [., ., p0 r, .],
    [e, ., ., 1-p0 r]]`` with ``r = 1 - exp(-t/T1)``, ``e = exp(-t/T2)``, so the process
    fidelity is ``(2 - r + 2 e) / 4``; process fidelities multiply under tensor products and
    ``F_avg = (d F_pro + 1) / (d + 1)``.
    """
    t1: list[float] = channel["t1"]
    t2: list[float] = channel["t2"]
    time = float(channel["time"])
    process = 1.0
    for one_t1, one_t2 in zip(t1, t2, strict=True):
        reset = 1.0 - math.exp(-time / one_t1)
        process *= (2.0 - reset + 2.0 * math.exp(-time / one_t2)) / 4.0
    dim = 1 << len(t1)
    return (dim * process + 1.0) / (dim + 1.0)


def depolarizing_for_error(error: float, relax_fidelity: float, n: int) -> float:
    """Depolarizing lambda making relaxation-then-depolarizing have infidelity ``error``.

    ``F(D_lambda o R) = (1 - lambda) F(R) + lambda / d``, hence
    ``lambda = d (error - (1 - F(R))) / (d F(R) - 1)``; clamped to ``[0, 4^n/(4^n-1)]``
    and the error to at most ``d/(d+1)``, like qiskit-aer's device models.
    """
    dim = 1 << n
    top = 4.0**n / (4.0**n - 1.0)
    error = min(error, dim / (dim + 1))
    relax_infidelity = 1.0 - relax_fidelity
    if error <= relax_infidelity:
        return 0.0
    denominator = dim * relax_fidelity - 1.0
    if denominator <= 0:
        return top
    return clean_float(min(dim * (error - relax_infidelity) / denominator, top))
