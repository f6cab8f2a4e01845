"""Noise models: the canonical ``qrepro-noise-v1`` format, its validator and two importers.

A deposit ships each noise model as a JSON file in one of three formats (the manifest's
``noise_models[].format``):

* ``qrepro-noise-v1`` -- our canonical format, documented in ``docs/noise.md``;
* ``qiskit-noise-dict`` -- the output of qiskit-aer ``NoiseModel.to_dict(serializable=True)``;
* ``calibration-v1`` -- a device calibration snapshot (T1/T2, gate errors, readout errors).

:func:`load_noise` reads any of them and returns the *normalised* canonical dict: every key
present, physical numbers as floats, complex numbers as ``[re, im]``, gate names sorted, so
that the same model always serialises to the same JSON and :func:`noise_digest` names it.
Every problem raises :class:`~harness.errors.NoiseModelError` naming the file and the
field (``gate_errors[3].channels[0].p``).

This module is pure Python + numpy. qiskit / qiskit-aer are imported lazily, and only by
the qiskit-dict importer for errors that are not Pauli mixtures. Turning the canonical dict
into an Aer ``NoiseModel`` is done by the self-contained ``runners/agent/aer_noise.py``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import numpy.typing as npt

from harness.errors import NoiseModelError, not_found

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.circuit import Instruction

__all__ = [
    "FORMAT",
    "FORMATS",
    "canonical_json",
    "from_calibration",
    "from_qiskit_dict",
    "load_noise",
    "noise_digest",
    "validate_noise",
]

FORMAT = "qrepro-noise-v1"
CALIBRATION_FORMAT = "calibration-v1"
QISKIT_FORMAT = "qiskit-noise-dict"
FORMATS = (FORMAT, QISKIT_FORMAT, CALIBRATION_FORMAT)

#: tolerance on probability sums (Pauli terms, readout rows, qiskit probabilities)
PROB_TOL = 1e-9
#: tolerance on max |sum K^dagger K - I| for Kraus channels
CPTP_TOL = 1e-8

ROOT = "(root)"

Matrix = npt.NDArray[np.complex128]
Json = dict[str, Any]

#: number of qubits of the standard gates, to catch "cx" with a 1-qubit error early
_GATE_ARITY: dict[str, int] = {
    **dict.fromkeys(
        "id i x y z h s sdg t tdg sx sxdg rx ry rz p u u1 u2 u3 r measure reset delay".split(),
        1,
    ),
    **dict.fromkeys(
        "cx cy cz ch cs csdg csx swap iswap dcx ecr rxx ryy rzz rzx cp crx "
        "cry crz cu cu1 cu3".split(),
        2,
    ),
    **dict.fromkeys("ccx ccz cswap rccx".split(), 3),
}

_PAULI_LABEL = re.compile(r"[IXYZ]+")
_CONVERTED_ENTRY = re.compile(r"^(gate_errors|readout_errors)\[(\d+)\](.*)$")


# --- field paths and typed accessors ----------------------------------------------------


def _join(path: str, key: str) -> str:
    return key if path == ROOT else f"{path}.{key}"


def _item(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _float(value: float) -> float:
    """A plain float with -0.0 folded into 0.0, so equal physics prints equally."""
    return float(value) + 0.0


class _Check:
    """Typed accessors that raise :class:`NoiseModelError` naming the file and the field."""

    def __init__(self, display: str) -> None:
        self.display = display

    def fail(self, path: str, message: str) -> NoReturn:
        raise NoiseModelError(message, file=self.display, field=path)

    def obj(
        self, value: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> Json:
        if not isinstance(value, dict):
            self.fail(path, f"expected an object, got {_kind(value)}")
        for key in required:
            if key not in value:
                self.fail(_join(path, key), "required field is missing")
        allowed = {*required, *optional}
        for key in value:
            if key not in allowed:
                self.fail(
                    _join(path, str(key)),
                    f"unknown field '{key}'; allowed here: {', '.join(sorted(allowed))}",
                )
        return value

    def array(
        self, value: Any, path: str, *, length: int | None = None, min_len: int = 0
    ) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list, got {_kind(value)}")
        if length is not None and len(value) != length:
            self.fail(path, f"expected a list of {length} items, got {len(value)}")
        if len(value) < min_len:
            self.fail(path, f"expected at least {min_len} item(s), got {len(value)}")
        return value

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value:
            self.fail(path, f"expected a non-empty string, got {_kind(value)}")
        return value

    def integer(self, value: Any, path: str, *, low: int = 0, high: int | None = None) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(path, f"expected an integer, got {_kind(value)}")
        if value < low or (high is not None and value > high):
            bounds = f">= {low}" if high is None else f"between {low} and {high}"
            self.fail(path, f"must be an integer {bounds}, got {value}")
        return value

    def real(
        self,
        value: Any,
        path: str,
        *,
        low: float | None = None,
        high: float | None = None,
        low_open: bool = False,
        rule: str = "",
    ) -> float:
        if not _is_real(value):
            self.fail(path, f"expected a number, got {_kind(value)}")
        number = float(value)
        if not math.isfinite(number):
            self.fail(path, f"must be finite, got {number}")
        too_low = low is not None and (number <= low if low_open else number < low)
        too_high = high is not None and number > high
        if too_low or too_high:
            self.fail(path, f"{rule or _bounds_text(low, high, low_open)}; got {number!r}")
        return _float(number)

    def prob(self, value: Any, path: str) -> float:
        return self.real(value, path, low=0.0, high=1.0, rule="a probability is in [0, 1]")

    def complex_entry(self, value: Any, path: str) -> complex:
        if isinstance(value, list):
            pair = self.array(value, path, length=2)
            return complex(self.real(pair[0], _item(path, 0)), self.real(pair[1], _item(path, 1)))
        return complex(self.real(value, path), 0.0)

    def matrix(self, value: Any, path: str, dim: int) -> Matrix:
        rows = self.array(value, path, length=dim)
        out = np.zeros((dim, dim), dtype=np.complex128)
        for r, row in enumerate(rows):
            entries = self.array(row, _item(path, r), length=dim)
            for k, entry in enumerate(entries):
                out[r, k] = self.complex_entry(entry, _item(_item(path, r), k))
        return out


def _bounds_text(low: float | None, high: float | None, low_open: bool) -> str:
    if low is not None and high is not None:
        return f"must be in [{low:g}, {high:g}]"
    if low is not None:
        return f"must be {'>' if low_open else '>='} {low:g}"
    return f"must be <= {high:g}"


def _root(
    c: _Check, value: Any, fmt: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> Json:
    """The top-level object, with its ``format`` checked before anything else."""
    if not isinstance(value, dict):
        c.fail(ROOT, f"expected a JSON object at the top level, got {_kind(value)}")
    declared = value.get("format")
    if declared != fmt:
        if declared in FORMATS:
            c.fail(
                "format",
                f"this file is in format '{declared}', not '{fmt}'; declare "
                f"format: {declared} for it in qdata.yaml",
            )
        c.fail("format", f"expected '{fmt}', got {declared!r}")
    return c.obj(value, ROOT, required, optional)


# --- canonical validation ----------------------------------------------------------------


def validate_noise(spec: Any, display: str) -> Json:
    """Validate a canonical ``qrepro-noise-v1`` dict and return its normalised form.

    Normalised: all keys present (``coupling_map``/``basis_gates`` may be null), every
    gate-error entry carries ``qubits`` and ``arity``, gate names and basis gates sorted,
    numbers as floats, complex numbers as ``[re, im]``, thermal-relaxation ``t1``/``t2`` as
    per-qubit lists, zero-probability Pauli terms dropped. Idempotent.
    """
    c = _Check(display)
    optional = ("coupling_map", "basis_gates", "gate_errors", "readout_errors")
    root = _root(c, spec, FORMAT, ("format", "num_qubits"), optional)
    n = c.integer(root["num_qubits"], "num_qubits", low=1)
    return {
        "format": FORMAT,
        "num_qubits": n,
        "coupling_map": _coupling_map(c, root.get("coupling_map"), n),
        "basis_gates": _basis_gates(c, root.get("basis_gates")),
        "gate_errors": _gate_errors(c, root.get("gate_errors", []), n),
        "readout_errors": _readout_errors(c, root.get("readout_errors", []), n),
    }


def _qubit_index(c: _Check, value: Any, path: str, n: int) -> int:
    index = c.integer(value, path)
    if index >= n:
        c.fail(path, f"qubit index {index} is out of range: num_qubits is {n}")
    return index


def _qubits(c: _Check, value: Any, path: str, n: int) -> list[int] | None:
    """``null`` or a non-empty list of distinct qubit indices below ``n``."""
    if value is None:
        return None
    items = c.array(value, path, min_len=1)
    qubits: list[int] = []
    for k, item in enumerate(items):
        q = _qubit_index(c, item, _item(path, k), n)
        if q in qubits:
            c.fail(_item(path, k), f"qubit {q} is listed twice; qubits must be distinct")
        qubits.append(q)
    return qubits


def _coupling_map(c: _Check, value: Any, n: int) -> list[list[int]] | None:
    if value is None:
        return None
    edges: list[list[int]] = []
    for i, raw in enumerate(c.array(value, "coupling_map")):
        path = _item("coupling_map", i)
        c.array(raw, path, length=2)
        edge = _qubits(c, raw, path, n)
        assert edge is not None
        if edge in edges:
            c.fail(path, f"edge {edge} is listed twice")
        edges.append(edge)
    return edges


def _names(c: _Check, value: Any, path: str, *, min_len: int) -> list[str]:
    """Distinct non-empty strings, returned sorted."""
    names: list[str] = []
    for k, raw in enumerate(c.array(value, path, min_len=min_len)):
        name = c.text(raw, _item(path, k))
        if name in names:
            c.fail(_item(path, k), f"'{name}' is listed twice")
        names.append(name)
    return sorted(names)


def _basis_gates(c: _Check, value: Any) -> list[str] | None:
    return None if value is None else _names(c, value, "basis_gates", min_len=1)


# --- gate errors ---------------------------------------------------------------------------


def _gate_errors(c: _Check, value: Any, n: int) -> list[Json]:
    seen: dict[tuple[str, tuple[int, ...] | None], int] = {}
    out: list[Json] = []
    for i, raw in enumerate(c.array(value, "gate_errors")):
        entry = _gate_error(c, raw, _item("gate_errors", i), n)
        _claim_targets(c, entry, i, seen)
        out.append(entry)
    return out


def _gate_error(c: _Check, raw: Any, path: str, n: int) -> Json:
    entry = c.obj(raw, path, ("gates", "channels"), ("qubits", "arity"))
    qubits = _qubits(c, entry.get("qubits"), _join(path, "qubits"), n)
    arity = _arity(c, entry, path, qubits, n)
    gates = _gate_names(c, entry["gates"], _join(path, "gates"), arity)
    channels_path = _join(path, "channels")
    raw_channels = c.array(entry["channels"], channels_path, min_len=1)
    channels = [
        _channel(c, ch, _item(channels_path, j), arity) for j, ch in enumerate(raw_channels)
    ]
    return {"gates": gates, "qubits": qubits, "arity": arity, "channels": channels}


def _arity(c: _Check, entry: Json, path: str, qubits: list[int] | None, n: int) -> int:
    arity_path = _join(path, "arity")
    arity = None
    if "arity" in entry:
        arity = c.integer(entry["arity"], arity_path, low=1, high=n)
    if qubits is None:
        if arity is None:
            c.fail(arity_path, "an all-qubit error (qubits null or absent) must give its arity")
        return arity
    if arity is not None and arity != len(qubits):
        c.fail(arity_path, f"arity {arity} does not match the {len(qubits)} qubit(s) listed")
    return len(qubits)


def _gate_names(c: _Check, value: Any, path: str, arity: int) -> list[str]:
    names = _names(c, value, path, min_len=1)
    for k, name in enumerate(value):
        known = _GATE_ARITY.get(name)
        if known is not None and known != arity:
            c.fail(
                _item(path, k),
                f"gate '{name}' acts on {known} qubit(s) but this error acts on {arity}",
            )
    return names


def _claim_targets(
    c: _Check, entry: Json, index: int, seen: dict[tuple[str, tuple[int, ...] | None], int]
) -> None:
    """One entry per (gate, qubits): several channels belong in one entry's list."""
    target = None if entry["qubits"] is None else tuple(entry["qubits"])
    where = "all qubits" if target is None else f"qubits {list(target)}"
    for gate in entry["gates"]:
        earlier = seen.setdefault((gate, target), index)
        if earlier != index:
            c.fail(
                _join(_item("gate_errors", index), "gates"),
                f"gate '{gate}' on {where} already has an error in gate_errors[{earlier}]; "
                "list all of its channels in one entry",
            )


# --- channels ------------------------------------------------------------------------------


def _channel(c: _Check, raw: Any, path: str, arity: int) -> Json:
    if not isinstance(raw, dict):
        c.fail(path, f"expected an object, got {_kind(raw)}")
    if "type" not in raw:
        c.fail(_join(path, "type"), "required field is missing")
    validator = _CHANNELS.get(raw["type"]) if isinstance(raw["type"], str) else None
    if validator is None:
        c.fail(
            _join(path, "type"),
            f"unknown channel type {raw['type']!r}; known: {', '.join(sorted(_CHANNELS))}",
        )
    return validator(c, raw, path, arity)


def _depolarizing(c: _Check, raw: Json, path: str, n: int) -> Json:
    ch = c.obj(raw, path, ("type", "p"))
    top = 4.0**n / (4.0**n - 1.0)
    rule = f"the depolarizing parameter of a {n}-qubit error is in [0, 4^n/(4^n-1) = {top:.6g}]"
    return {
        "type": "depolarizing",
        "p": c.real(ch["p"], _join(path, "p"), low=0.0, high=top, rule=rule),
    }


def _pauli(c: _Check, raw: Json, path: str, n: int) -> Json:
    ch = c.obj(raw, path, ("type", "terms"))
    terms_path = _join(path, "terms")
    terms = ch["terms"]
    if not isinstance(terms, dict) or not terms:
        c.fail(terms_path, "expected a non-empty object {pauli label: probability}")
    kept: dict[str, float] = {}
    for label, value in terms.items():
        label_path = _join(terms_path, str(label))
        if not (isinstance(label, str) and _PAULI_LABEL.fullmatch(label) and len(label) == n):
            c.fail(label_path, f"a Pauli label of a {n}-qubit error is {n} letter(s) from IXYZ")
        prob = c.prob(value, label_path)
        if prob > 0:
            kept[label] = prob
    total = math.fsum(kept.values())
    if abs(total - 1.0) > PROB_TOL:
        c.fail(terms_path, f"Pauli probabilities sum to {total!r}, not 1 (tolerance {PROB_TOL:g})")
    return {"type": "pauli", "terms": dict(sorted(kept.items()))}


def _kraus(c: _Check, raw: Json, path: str, n: int) -> Json:
    ch = c.obj(raw, path, ("type", "operators"))
    ops_path = _join(path, "operators")
    raw_ops = c.array(ch["operators"], ops_path, min_len=1)
    ops = [_kraus_operator(c, op, _item(ops_path, k), n) for k, op in enumerate(raw_ops)]
    deviation = cptp_deviation(ops)
    if deviation > CPTP_TOL:
        c.fail(
            ops_path,
            "Kraus operators are not CPTP: sum of K^dagger K differs from the identity by "
            f"{deviation:.3g} (largest entry; tolerance {CPTP_TOL:g})",
        )
    return {"type": "kraus", "operators": [_encode_matrix(op) for op in ops]}


def _kraus_operator(c: _Check, value: Any, path: str, n: int) -> Matrix:
    dim = 1 << n
    rows = value if isinstance(value, list) else []
    if len(rows) != dim or not all(isinstance(r, list) and len(r) == dim for r in rows):
        c.fail(path, f"a Kraus operator of a {n}-qubit error is a {dim}x{dim} matrix")
    return c.matrix(value, path, dim)


def cptp_deviation(ops: list[Matrix]) -> float:
    """Largest entry of ``|sum K^dagger K - I|`` (0 for a trace-preserving Kraus set)."""
    total = sum((op.conj().T @ op for op in ops), np.zeros_like(ops[0]))
    return float(np.max(np.abs(total - np.eye(ops[0].shape[0]))))


def _encode_matrix(op: Matrix) -> list[list[list[float]]]:
    return [[[_float(z.real), _float(z.imag)] for z in row] for row in op]


def _thermal_relaxation(c: _Check, raw: Json, path: str, n: int) -> Json:
    ch = c.obj(raw, path, ("type", "t1", "t2", "time"), ("excited_state_population",))
    t1, _ = _per_qubit_times(c, ch["t1"], _join(path, "t1"), n)
    t2, t2_paths = _per_qubit_times(c, ch["t2"], _join(path, "t2"), n)
    for k in range(n):
        if t2[k] > 2 * t1[k]:
            c.fail(t2_paths[k], f"T2 = {t2[k]!r} exceeds 2*T1 = {2 * t1[k]!r}; need T2 <= 2*T1")
    time = c.real(ch["time"], _join(path, "time"), low=0.0)
    population = c.prob(
        ch.get("excited_state_population", 0.0), _join(path, "excited_state_population")
    )
    return {
        "type": "thermal_relaxation",
        "t1": t1,
        "t2": t2,
        "time": time,
        "excited_state_population": population,
    }


def _per_qubit_times(c: _Check, value: Any, path: str, n: int) -> tuple[list[float], list[str]]:
    """T1 or T2: a scalar (1-qubit errors only) or one positive value per qubit."""
    if not isinstance(value, list):
        if n != 1:
            c.fail(
                path, f"a {n}-qubit thermal_relaxation needs a list of {n} values, one per qubit"
            )
        return [c.real(value, path, low=0.0, low_open=True)], [path]
    items = value
    if len(items) != n:
        c.fail(
            path,
            f"a {n}-qubit thermal_relaxation needs {n} value(s), one per qubit; got {len(items)}",
        )
    paths = [_item(path, k) for k in range(n)]
    return [c.real(v, p, low=0.0, low_open=True) for v, p in zip(items, paths, strict=True)], paths


_CHANNELS: dict[str, Callable[[_Check, Json, str, int], Json]] = {
    "depolarizing": _depolarizing,
    "pauli": _pauli,
    "kraus": _kraus,
    "thermal_relaxation": _thermal_relaxation,
}


# --- readout errors ------------------------------------------------------------------------


def _readout_errors(c: _Check, value: Any, n: int) -> list[Json]:
    seen: dict[int | None, int] = {}
    out: list[Json] = []
    for i, raw in enumerate(c.array(value, "readout_errors")):
        path = _item("readout_errors", i)
        entry = c.obj(raw, path, ("matrix",), ("qubits",))
        qubits = _qubits(c, entry.get("qubits"), _join(path, "qubits"), n)
        if qubits is not None and len(qubits) != 1:
            c.fail(_join(path, "qubits"), "readout errors are single-qubit: list one qubit or null")
        target = None if qubits is None else qubits[0]
        earlier = seen.setdefault(target, i)
        if earlier != i:
            where = "all qubits" if target is None else f"qubit {target}"
            c.fail(path, f"{where} already has a readout error in readout_errors[{earlier}]")
        matrix = _readout_matrix(c, entry["matrix"], _join(path, "matrix"))
        out.append({"qubits": qubits, "matrix": matrix})
    return out


def _readout_matrix(c: _Check, value: Any, path: str) -> list[list[float]]:
    rows = c.array(value, path, length=2)
    matrix: list[list[float]] = []
    for r, raw_row in enumerate(rows):
        row_path = _item(path, r)
        row = [
            c.prob(v, _item(row_path, k))
            for k, v in enumerate(c.array(raw_row, row_path, length=2))
        ]
        total = math.fsum(row)
        if abs(total - 1.0) > PROB_TOL:
            c.fail(row_path, f"row {r} (P(measured | prepared {r})) sums to {total!r}, not 1")
        matrix.append(row)
    return matrix


# --- reading files ------------------------------------------------------------------------


def load_noise(path: Path, fmt: str, display: str) -> Json:
    """Read a noise-model file in format ``fmt`` and return the normalised canonical dict."""
    loader = _LOADERS.get(fmt)
    if loader is None:
        raise not_found("noise-model format", fmt, FORMATS)
    return loader(_read_json(path, display), display)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed: numbers must be finite")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> Json:
    out: Json = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key '{key}' appears twice in one JSON object")
        out[key] = value
    return out


def _read_json(path: Path, display: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NoiseModelError(
            f"cannot read the noise-model file: {exc}", file=display, field=ROOT
        ) from exc
    try:
        return json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys
        )
    except json.JSONDecodeError as exc:
        raise NoiseModelError(
            f"not valid JSON: {exc.msg}",
            file=display,
            field=f"line {exc.lineno} column {exc.colno}",
        ) from exc
    except ValueError as exc:
        raise NoiseModelError(f"not valid JSON: {exc}", file=display, field=ROOT) from exc


def canonical_json(spec: Json) -> str:
    """The canonical serialisation: sorted keys, no spaces, finite numbers only."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), allow_nan=False)


def noise_digest(spec: Json) -> str:
    """sha256 (hex) of :func:`canonical_json` of a normalised spec."""
    return hashlib.sha256(canonical_json(spec).encode("utf-8")).hexdigest()


# --- importers: shared bookkeeping ----------------------------------------------------------


@dataclass
class _Converted:
    """Canonical entries built by an importer, each with the source field it came from."""

    gate_errors: list[Json] = field(default_factory=list)
    readout_errors: list[Json] = field(default_factory=list)
    origins: dict[str, list[str]] = field(
        default_factory=lambda: {"gate_errors": [], "readout_errors": []}
    )

    def add_gate(self, entry: Json, origin: str) -> None:
        self.gate_errors.append(entry)
        self.origins["gate_errors"].append(origin)

    def add_readout(self, entry: Json, origin: str) -> None:
        self.readout_errors.append(entry)
        self.origins["readout_errors"].append(origin)

    def min_qubits(self) -> int:
        """Smallest num_qubits that holds every listed qubit and every all-qubit arity."""
        needed = [1]
        for entry in [*self.gate_errors, *self.readout_errors]:
            qubits = entry["qubits"]
            needed.append(entry.get("arity", 1) if qubits is None else max(qubits) + 1)
        return max(needed)


def _validate_converted(spec: Json, display: str, origins: dict[str, list[str]]) -> Json:
    """Validate an importer's output, pointing errors at the source field they came from."""
    try:
        return validate_noise(spec, display)
    except NoiseModelError as exc:
        match = _CONVERTED_ENTRY.match(exc.field or "")
        if match is None:
            raise
        origin = origins[match.group(1)][int(match.group(2))]
        message = f"{exc.message} (converted to qrepro-noise-v1 as {exc.field})"
        raise NoiseModelError(message, file=exc.file, field=origin) from exc


# --- importer: qiskit-aer NoiseModel.to_dict(serializable=True) ----------------------------

_PAULI_GATES = {"id": "I", "i": "I", "x": "X", "y": "Y", "z": "Z"}
_PAULI_BITS = {"I": (0, 0), "X": (1, 0), "Y": (1, 1), "Z": (0, 1)}
_BITS_PAULI = {bits: letter for letter, bits in _PAULI_BITS.items()}
_QISKIT_INSTRUCTIONS = ("id", "i", "x", "y", "z", "pauli", "reset", "kraus", "unitary")


def from_qiskit_dict(d: Any, display: str) -> Json:
    """Convert ``NoiseModel.to_dict(serializable=True)`` output to the canonical dict.

    Pauli-only errors become ``pauli`` channels, any other error one ``kraus`` channel;
    ``num_qubits`` is the smallest number that holds every qubit the model names.
    """
    c = _Check(display)
    root = c.obj(d, ROOT, ("errors",), ("x90_gates",))
    conv = _Converted()
    for i, raw in enumerate(c.array(root["errors"], "errors")):
        path = _item("errors", i)
        if not isinstance(raw, dict):
            c.fail(path, f"expected an object, got {_kind(raw)}")
        kind = raw.get("type")
        if kind == "qerror":
            _import_qerror(c, raw, path, conv)
        elif kind == "roerror":
            _import_roerror(c, raw, path, conv)
        else:
            c.fail(_join(path, "type"), f"expected 'qerror' or 'roerror', got {kind!r}")
    spec = {
        "format": FORMAT,
        "num_qubits": conv.min_qubits(),
        "gate_errors": conv.gate_errors,
        "readout_errors": conv.readout_errors,
    }
    return _validate_converted(spec, display, conv.origins)


def _gate_qubit_lists(c: _Check, value: Any, path: str) -> list[list[int] | None]:
    """``gate_qubits``: absent means all qubits (``[None]``)."""
    if value is None:
        return [None]
    out: list[list[int] | None] = []
    for k, raw in enumerate(c.array(value, path, min_len=1)):
        items = c.array(raw, _item(path, k), min_len=1)
        out.append([c.integer(q, _item(_item(path, k), j)) for j, q in enumerate(items)])
    return out


def _import_qerror(c: _Check, raw: Json, path: str, conv: _Converted) -> None:
    entry = c.obj(
        raw, path, ("type", "operations", "instructions", "probabilities"), ("id", "gate_qubits")
    )
    gates = _names(c, entry["operations"], _join(path, "operations"), min_len=1)
    circuits = _qiskit_circuits(c, entry["instructions"], _join(path, "instructions"))
    probs = _qiskit_probabilities(c, entry["probabilities"], path, len(circuits))
    width = max([1, *(q + 1 for circuit in circuits for inst in circuit for q in inst["qubits"])])
    channels: dict[int, Json] = {}
    for qubits in _gate_qubit_lists(c, entry.get("gate_qubits"), _join(path, "gate_qubits")):
        arity = width if qubits is None else len(qubits)
        if arity < width:
            c.fail(_join(path, "gate_qubits"), f"the error acts on {width} qubits, not {arity}")
        if arity not in channels:
            channels[arity] = _qiskit_channel(c, circuits, probs, path, arity)
        conv.add_gate(
            {"gates": gates, "qubits": qubits, "arity": arity, "channels": [channels[arity]]},
            path,
        )


def _qiskit_circuits(c: _Check, value: Any, path: str) -> list[list[Json]]:
    """``instructions``: a list of circuits, each a list of {name, qubits, params?}."""
    circuits: list[list[Json]] = []
    for k, raw in enumerate(c.array(value, path, min_len=1)):
        circuit_path = _item(path, k)
        circuit: list[Json] = []
        for j, inst in enumerate(c.array(raw, circuit_path)):
            inst_path = _item(circuit_path, j)
            op = c.obj(inst, inst_path, ("name", "qubits"), ("params", "label", "condition"))
            c.text(op["name"], _join(inst_path, "name"))
            qubits = c.array(op["qubits"], _join(inst_path, "qubits"), min_len=1)
            for m, q in enumerate(qubits):
                c.integer(q, _item(_join(inst_path, "qubits"), m))
            circuit.append(op)
        circuits.append(circuit)
    return circuits


def _qiskit_probabilities(c: _Check, value: Any, path: str, count: int) -> list[float]:
    probs_path = _join(path, "probabilities")
    items = c.array(value, probs_path)
    if len(items) != count:
        c.fail(probs_path, f"{len(items)} probabilities for {count} instruction lists")
    probs = [c.prob(v, _item(probs_path, k)) for k, v in enumerate(items)]
    total = math.fsum(probs)
    if abs(total - 1.0) > PROB_TOL:
        c.fail(probs_path, f"probabilities sum to {total!r}, not 1 (tolerance {PROB_TOL:g})")
    return probs


def _qiskit_channel(
    c: _Check, circuits: list[list[Json]], probs: list[float], path: str, arity: int
) -> Json:
    terms = _pauli_terms(circuits, probs, arity)
    if terms is not None:
        return {"type": "pauli", "terms": terms}
    ops = _qiskit_kraus(c, circuits, probs, path, arity)
    return {"type": "kraus", "operators": [_encode_matrix(op) for op in ops]}


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
    if not isinstance(label, str) or not _PAULI_LABEL.fullmatch(label):
        return None
    if len(label) != len(qubits):
        return None
    return [(q, label[-1 - j]) for j, q in enumerate(qubits)]


def _qiskit_kraus(
    c: _Check, circuits: list[list[Json]], probs: list[float], path: str, arity: int
) -> list[Matrix]:
    """Kraus operators of a general qiskit error, via QuantumError and quantum_info.Kraus."""
    from qiskit.exceptions import QiskitError
    from qiskit.quantum_info import Kraus
    from qiskit_aer.noise import QuantumError

    inst_path = _join(path, "instructions")
    noise_ops = [
        (_qiskit_circuit(c, circuit, _item(inst_path, k), arity), prob)
        for k, (circuit, prob) in enumerate(zip(circuits, probs, strict=True))
    ]
    try:
        channel = QuantumError(noise_ops).to_quantumchannel()
        return [np.asarray(op, dtype=np.complex128) for op in Kraus(channel).data]
    except (QiskitError, ValueError, TypeError) as exc:
        c.fail(inst_path, f"cannot convert this error to Kraus operators: {exc}")


def _qiskit_circuit(c: _Check, circuit: list[Json], path: str, arity: int) -> QuantumCircuit:
    from qiskit import QuantumCircuit
    from qiskit.exceptions import QiskitError

    qc = QuantumCircuit(arity)
    for j, inst in enumerate(circuit):
        operation = _qiskit_instruction(c, inst, _item(path, j))
        try:
            qc.append(operation, inst["qubits"])
        except (QiskitError, ValueError, TypeError, IndexError) as exc:
            c.fail(_item(path, j), f"cannot apply '{inst['name']}' here: {exc}")
    return qc


def _qiskit_instruction(c: _Check, inst: Json, path: str) -> Instruction:
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
            _join(path, "name"),
            f"unsupported instruction '{name}' in a noise error; "
            f"supported: {', '.join(_QISKIT_INSTRUCTIONS)}",
        )
    return _parametrised_instruction(c, inst, path)


def _parametrised_instruction(c: _Check, inst: Json, path: str) -> Instruction:
    """A ``pauli`` (label), ``unitary`` (matrix) or ``kraus`` (matrices) instruction."""
    from qiskit.circuit.library import PauliGate, UnitaryGate
    from qiskit.exceptions import QiskitError
    from qiskit.quantum_info import Kraus

    name = inst["name"]
    params_path = _join(path, "params")
    items = c.array(inst.get("params"), params_path, min_len=1)
    if name == "pauli":
        return PauliGate(c.text(items[0], _item(params_path, 0)))
    dim = 1 << len(inst["qubits"])
    mats = [c.matrix(m, _item(params_path, k), dim) for k, m in enumerate(items)]
    try:
        return UnitaryGate(mats[0]) if name == "unitary" else Kraus(mats).to_instruction()
    except (QiskitError, ValueError, TypeError) as exc:
        c.fail(params_path, f"invalid '{name}' parameters: {exc}")


def _import_roerror(c: _Check, raw: Json, path: str, conv: _Converted) -> None:
    entry = c.obj(raw, path, ("type", "operations", "probabilities"), ("id", "gate_qubits"))
    ops_path = _join(path, "operations")
    if _names(c, entry["operations"], ops_path, min_len=1) != ["measure"]:
        c.fail(ops_path, "a readout error must apply to ['measure'] only")
    probs_path = _join(path, "probabilities")
    size = len(c.array(entry["probabilities"], probs_path))
    if size != 2:
        c.fail(probs_path, f"only single-qubit (2x2) readout errors are supported, got {size} rows")
    qubits_path = _join(path, "gate_qubits")
    for qubits in _gate_qubit_lists(c, entry.get("gate_qubits"), qubits_path):
        if qubits is not None and len(qubits) != 1:
            c.fail(qubits_path, "only single-qubit readout errors are supported")
        conv.add_readout({"qubits": qubits, "matrix": entry["probabilities"]}, path)


# --- importer: calibration-v1 -------------------------------------------------------------


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
    c = _Check(display)
    required = ("format", "device", "timestamp", "num_qubits", "qubits", "gates")
    root = _root(c, d, CALIBRATION_FORMAT, required, ("coupling_map",))
    c.text(root["device"], "device")
    c.text(root["timestamp"], "timestamp")
    n = c.integer(root["num_qubits"], "num_qubits", low=1)
    qubits = _calibration_qubits(c, root["qubits"], n)
    conv = _Converted()
    for q, cal in enumerate(qubits):
        if cal.readout is not None:
            conv.add_readout({"qubits": [q], "matrix": cal.readout}, _item("qubits", q))
    for i, raw in enumerate(c.array(root["gates"], "gates")):
        path = _item("gates", i)
        conv.add_gate(_calibration_gate(c, raw, path, qubits), path)
    spec = {
        "format": FORMAT,
        "num_qubits": n,
        "coupling_map": root.get("coupling_map"),
        "gate_errors": conv.gate_errors,
        "readout_errors": conv.readout_errors,
    }
    return _validate_converted(spec, display, conv.origins)


def _calibration_qubits(c: _Check, value: Any, n: int) -> list[_QubitCalibration]:
    items = c.array(value, "qubits")
    if len(items) != n:
        c.fail("qubits", f"expected one entry per qubit (num_qubits = {n}), got {len(items)}")
    return [_calibration_qubit(c, raw, _item("qubits", q)) for q, raw in enumerate(items)]


def _calibration_qubit(c: _Check, raw: Any, path: str) -> _QubitCalibration:
    optional = ("readout_error", "prob_meas1_prep0", "prob_meas0_prep1")
    entry = c.obj(raw, path, ("t1", "t2"), optional)
    t1 = c.real(entry["t1"], _join(path, "t1"), low=0.0, low_open=True)
    t2 = c.real(entry["t2"], _join(path, "t2"), low=0.0, low_open=True)
    return _QubitCalibration(
        t1=t1, t2=min(t2, 2 * t1), readout=_calibration_readout(c, entry, path)
    )


def _calibration_readout(c: _Check, entry: Json, path: str) -> list[list[float]] | None:
    """The asymmetric pair if given (as qiskit-aer does), else the symmetric readout_error."""
    asym = [key for key in ("prob_meas1_prep0", "prob_meas0_prep1") if key in entry]
    if len(asym) == 1:
        c.fail(_join(path, asym[0]), "give prob_meas1_prep0 and prob_meas0_prep1 together")
    if asym:
        p10 = c.prob(entry["prob_meas1_prep0"], _join(path, "prob_meas1_prep0"))
        p01 = c.prob(entry["prob_meas0_prep1"], _join(path, "prob_meas0_prep1"))
    elif "readout_error" in entry:
        p10 = p01 = c.prob(entry["readout_error"], _join(path, "readout_error"))
    else:
        return None
    if p10 == 0 and p01 == 0:
        return None
    return [[_float(1.0 - p10), p10], [p01, _float(1.0 - p01)]]


def _calibration_gate(c: _Check, raw: Any, path: str, cals: list[_QubitCalibration]) -> Json:
    entry = c.obj(raw, path, ("gate", "qubits", "error", "duration"))
    name = c.text(entry["gate"], _join(path, "gate"))
    qubits_path = _join(path, "qubits")
    if entry["qubits"] is None:
        c.fail(qubits_path, "expected a list of qubits, got null")
    qubits = _qubits(c, entry["qubits"], qubits_path, len(cals))
    assert qubits is not None
    error = c.prob(entry["error"], _join(path, "error"))
    duration = c.real(entry["duration"], _join(path, "duration"), low=0.0)
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
    return _float(min(dim * (error - relax_infidelity) / denominator, top))


_LOADERS: dict[str, Callable[[Any, str], Json]] = {
    FORMAT: validate_noise,
    QISKIT_FORMAT: from_qiskit_dict,
    CALIBRATION_FORMAT: from_calibration,
}
