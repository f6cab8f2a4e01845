"""Validation of a canonical ``qrepro-noise-v1`` dict: its structure and readout errors.

:func:`validate_noise` checks the top level, the coupling map, the basis gates, every gate
error (targets, arity, gate names; its channels via :mod:`harness.noise.formats.channels`)
and every readout error, and returns the normalised dict.
"""

from __future__ import annotations

import math
from typing import Any

from harness.noise.formats.channels import validate_channel
from harness.noise.formats.fields import (
    FORMAT,
    MAX_QUBITS,
    PROB_TOL,
    FieldReader,
    Json,
    index_path,
    key_path,
    read_root,
)

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


def validate_noise(spec: Any, display: str) -> Json:
    """Validate a canonical ``qrepro-noise-v1`` dict and return its normalised form.

    Normalised: all keys present (``coupling_map``/``basis_gates`` may be null), every
    gate-error entry carries ``qubits`` and ``arity``, gate names and basis gates sorted,
    numbers as floats, complex numbers as ``[re, im]``, thermal-relaxation ``t1``/``t2`` as
    per-qubit lists, zero-probability Pauli terms dropped. Idempotent.
    """
    c = FieldReader(display)
    optional = ("coupling_map", "basis_gates", "gate_errors", "readout_errors")
    root = read_root(c, spec, FORMAT, ("format", "num_qubits"), optional)
    n = c.integer(root["num_qubits"], "num_qubits", low=1, high=MAX_QUBITS)
    basis = _basis_gates(c, root.get("basis_gates"))
    errors = _gate_errors(c, root.get("gate_errors", []), n)
    _in_basis(c, errors, basis)
    return {
        "format": FORMAT,
        "num_qubits": n,
        "coupling_map": _coupling_map(c, root.get("coupling_map"), n),
        "basis_gates": basis,
        "gate_errors": errors,
        "readout_errors": _readout_errors(c, root.get("readout_errors", []), n),
    }


#: instructions every basis has, whatever basis_gates lists
_ALWAYS = frozenset({"measure", "reset", "id", "delay"})


def _in_basis(c: FieldReader, errors: list[Json], basis: list[str] | None) -> None:
    """Noise on a gate the model's basis does not know never applies: say so."""
    if basis is None:
        return
    known = _ALWAYS | set(basis)
    for i, entry in enumerate(errors):
        for k, gate in enumerate(entry["gates"]):
            if gate not in known:
                c.fail(index_path(index_path("gate_errors", i) + ".gates", k),
                       f"gate '{gate}' is not in basis_gates {sorted(basis)}: its error "
                       "would never apply")


def _qubit_index(c: FieldReader, value: Any, path: str, n: int) -> int:
    index = c.integer(value, path)
    if index >= n:
        c.fail(path, f"qubit index {index} is out of range: num_qubits is {n}")
    return index


def qubit_list(c: FieldReader, value: Any, path: str, n: int) -> list[int] | None:
    """``null`` or a non-empty list of distinct qubit indices below ``n``."""
    if value is None:
        return None
    items = c.array(value, path, min_len=1)
    qubits: list[int] = []
    for k, item in enumerate(items):
        q = _qubit_index(c, item, index_path(path, k), n)
        if q in qubits:
            c.fail(index_path(path, k), f"qubit {q} is listed twice; qubits must be distinct")
        qubits.append(q)
    return qubits


def _coupling_map(c: FieldReader, value: Any, n: int) -> list[list[int]] | None:
    if value is None:
        return None
    edges: list[list[int]] = []
    for i, raw in enumerate(c.array(value, "coupling_map")):
        path = index_path("coupling_map", i)
        c.array(raw, path, length=2)
        edge = qubit_list(c, raw, path, n)
        assert edge is not None
        if edge in edges:
            c.fail(path, f"edge {edge} is listed twice")
        edges.append(edge)
    return edges


def name_list(c: FieldReader, value: Any, path: str, *, min_len: int) -> list[str]:
    """Distinct non-empty strings, returned sorted."""
    names: list[str] = []
    for k, raw in enumerate(c.array(value, path, min_len=min_len)):
        name = c.text(raw, index_path(path, k))
        if name in names:
            c.fail(index_path(path, k), f"'{name}' is listed twice")
        names.append(name)
    return sorted(names)


def _basis_gates(c: FieldReader, value: Any) -> list[str] | None:
    return None if value is None else name_list(c, value, "basis_gates", min_len=1)


# --- gate errors ---------------------------------------------------------------------------


def _gate_errors(c: FieldReader, value: Any, n: int) -> list[Json]:
    seen: dict[tuple[str, tuple[int, ...] | None], int] = {}
    out: list[Json] = []
    for i, raw in enumerate(c.array(value, "gate_errors")):
        entry = _gate_error(c, raw, index_path("gate_errors", i), n)
        _claim_targets(c, entry, i, seen)
        out.append(entry)
    return out


def _gate_error(c: FieldReader, raw: Any, path: str, n: int) -> Json:
    entry = c.obj(raw, path, ("gates", "channels"), ("qubits", "arity"))
    qubits = qubit_list(c, entry.get("qubits"), key_path(path, "qubits"), n)
    arity = _arity(c, entry, path, qubits, n)
    gates = _gate_names(c, entry["gates"], key_path(path, "gates"), arity)
    channels_path = key_path(path, "channels")
    raw_channels = c.array(entry["channels"], channels_path, min_len=1)
    channels = [
        validate_channel(c, ch, index_path(channels_path, j), arity)
        for j, ch in enumerate(raw_channels)
    ]
    return {"gates": gates, "qubits": qubits, "arity": arity, "channels": channels}


def _arity(c: FieldReader, entry: Json, path: str, qubits: list[int] | None, n: int) -> int:
    arity_path = key_path(path, "arity")
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


def _gate_names(c: FieldReader, value: Any, path: str, arity: int) -> list[str]:
    names = name_list(c, value, path, min_len=1)
    for k, name in enumerate(value):
        known = _GATE_ARITY.get(name)
        if known is not None and known != arity:
            c.fail(
                index_path(path, k),
                f"gate '{name}' acts on {known} qubit(s) but this error acts on {arity}",
            )
    return names


def _claim_targets(
    c: FieldReader, entry: Json, index: int, seen: dict[tuple[str, tuple[int, ...] | None], int]
) -> None:
    """One entry per (gate, qubits): several channels belong in one entry's list."""
    target = None if entry["qubits"] is None else tuple(entry["qubits"])
    where = "all qubits" if target is None else f"qubits {list(target)}"
    for gate in entry["gates"]:
        earlier = seen.setdefault((gate, target), index)
        if earlier != index:
            c.fail(
                key_path(index_path("gate_errors", index), "gates"),
                f"gate '{gate}' on {where} already has an error in gate_errors[{earlier}]; "
                "list all of its channels in one entry",
            )


# --- readout errors ------------------------------------------------------------------------


def _readout_errors(c: FieldReader, value: Any, n: int) -> list[Json]:
    seen: dict[int | None, int] = {}
    out: list[Json] = []
    for i, raw in enumerate(c.array(value, "readout_errors")):
        path = index_path("readout_errors", i)
        entry = c.obj(raw, path, ("matrix",), ("qubits",))
        qubits = qubit_list(c, entry.get("qubits"), key_path(path, "qubits"), n)
        if qubits is not None and len(qubits) != 1:
            c.fail(
                key_path(path, "qubits"), "readout errors are single-qubit: list one qubit or null"
            )
        target = None if qubits is None else qubits[0]
        earlier = seen.setdefault(target, i)
        if earlier != i:
            where = "all qubits" if target is None else f"qubit {target}"
            c.fail(path, f"{where} already has a readout error in readout_errors[{earlier}]")
        matrix = _readout_matrix(c, entry["matrix"], key_path(path, "matrix"))
        out.append({"qubits": qubits, "matrix": matrix})
    return out


def _readout_matrix(c: FieldReader, value: Any, path: str) -> list[list[float]]:
    rows = c.array(value, path, length=2)
    matrix: list[list[float]] = []
    for r, raw_row in enumerate(rows):
        row_path = index_path(path, r)
        row = [
            c.prob(v, index_path(row_path, k))
            for k, v in enumerate(c.array(raw_row, row_path, length=2))
        ]
        total = math.fsum(row)
        if abs(total - 1.0) > PROB_TOL:
            c.fail(row_path, f"row {r} (P(measured | prepared {r})) sums to {total!r}, not 1")
        matrix.append(row)
    return matrix
