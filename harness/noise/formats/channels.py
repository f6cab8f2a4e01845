"""Validation of the four ``qrepro-noise-v1`` channel types.

``depolarizing``, ``pauli``, ``kraus`` and ``thermal_relaxation``: each validator checks
one channel of an ``n``-qubit gate error and returns its normalised form (floats, complex
numbers as ``[re, im]``, zero-probability Pauli terms dropped, per-qubit T1/T2 lists).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from harness.noise.formats.fields import (
    CPTP_TOL,
    PROB_TOL,
    FieldReader,
    Json,
    Matrix,
    clean_float,
    index_path,
    key_path,
    kind_of,
)

PAULI_LABEL = re.compile(r"[IXYZ]+")


def validate_channel(c: FieldReader, raw: Any, path: str, arity: int) -> Json:
    if not isinstance(raw, dict):
        c.fail(path, f"expected an object, got {kind_of(raw)}")
    if "type" not in raw:
        c.fail(key_path(path, "type"), "required field is missing")
    validator = _CHANNELS.get(raw["type"]) if isinstance(raw["type"], str) else None
    if validator is None:
        c.fail(
            key_path(path, "type"),
            f"unknown channel type {raw['type']!r}; known: {', '.join(sorted(_CHANNELS))}",
        )
    return validator(c, raw, path, arity)


def _depolarizing(c: FieldReader, raw: Json, path: str, n: int) -> Json:
    ch = c.obj(raw, path, ("type", "p"))
    top = 4.0**n / (4.0**n - 1.0)
    rule = f"the depolarizing parameter of a {n}-qubit error is in [0, 4^n/(4^n-1) = {top:.6g}]"
    return {
        "type": "depolarizing",
        "p": c.real(ch["p"], key_path(path, "p"), low=0.0, high=top, rule=rule),
    }


def _pauli(c: FieldReader, raw: Json, path: str, n: int) -> Json:
    ch = c.obj(raw, path, ("type", "terms"))
    terms_path = key_path(path, "terms")
    terms = ch["terms"]
    if not isinstance(terms, dict) or not terms:
        c.fail(terms_path, "expected a non-empty object {pauli label: probability}")
    kept: dict[str, float] = {}
    for label, value in terms.items():
        label_path = key_path(terms_path, str(label))
        if not (isinstance(label, str) and PAULI_LABEL.fullmatch(label) and len(label) == n):
            c.fail(label_path, f"a Pauli label of a {n}-qubit error is {n} letter(s) from IXYZ")
        prob = c.prob(value, label_path)
        if prob > 0:
            kept[label] = prob
    total = math.fsum(kept.values())
    if abs(total - 1.0) > PROB_TOL:
        c.fail(terms_path, f"Pauli probabilities sum to {total!r}, not 1 (tolerance {PROB_TOL:g})")
    return {"type": "pauli", "terms": dict(sorted(kept.items()))}


def _kraus(c: FieldReader, raw: Json, path: str, n: int) -> Json:
    ch = c.obj(raw, path, ("type", "operators"))
    ops_path = key_path(path, "operators")
    raw_ops = c.array(ch["operators"], ops_path, min_len=1)
    ops = [_kraus_operator(c, op, index_path(ops_path, k), n) for k, op in enumerate(raw_ops)]
    deviation = cptp_deviation(ops)
    if deviation > CPTP_TOL:
        c.fail(
            ops_path,
            "Kraus operators are not CPTP: sum of K^dagger K differs from the identity by "
            f"{deviation:.3g} (largest entry; tolerance {CPTP_TOL:g})",
        )
    return {"type": "kraus", "operators": [encode_matrix(op) for op in ops]}


def _kraus_operator(c: FieldReader, value: Any, path: str, n: int) -> Matrix:
    dim = 1 << n
    rows = value if isinstance(value, list) else []
    if len(rows) != dim or not all(isinstance(r, list) and len(r) == dim for r in rows):
        c.fail(path, f"a Kraus operator of a {n}-qubit error is a {dim}x{dim} matrix")
    return c.matrix(value, path, dim)


def cptp_deviation(ops: list[Matrix]) -> float:
    """Largest entry of ``|sum K^dagger K - I|`` (0 for a trace-preserving Kraus set)."""
    import numpy as np  # Kraus channels only: validating other models stays numpy-free

    total = sum((op.conj().T @ op for op in ops), np.zeros_like(ops[0]))
    return float(np.max(np.abs(total - np.eye(ops[0].shape[0]))))


def encode_matrix(op: Matrix) -> list[list[list[float]]]:
    return [[[clean_float(z.real), clean_float(z.imag)] for z in row] for row in op]


def _thermal_relaxation(c: FieldReader, raw: Json, path: str, n: int) -> Json:
    ch = c.obj(raw, path, ("type", "t1", "t2", "time"), ("excited_state_population",))
    t1, _ = _per_qubit_times(c, ch["t1"], key_path(path, "t1"), n)
    t2, t2_paths = _per_qubit_times(c, ch["t2"], key_path(path, "t2"), n)
    for k in range(n):
        if t2[k] > 2 * t1[k]:
            c.fail(t2_paths[k], f"T2 = {t2[k]!r} exceeds 2*T1 = {2 * t1[k]!r}; need T2 <= 2*T1")
    time = c.real(ch["time"], key_path(path, "time"), low=0.0)
    population = c.prob(
        ch.get("excited_state_population", 0.0), key_path(path, "excited_state_population")
    )
    return {
        "type": "thermal_relaxation",
        "t1": t1,
        "t2": t2,
        "time": time,
        "excited_state_population": population,
    }


def _per_qubit_times(
    c: FieldReader, value: Any, path: str, n: int
) -> tuple[list[float], list[str]]:
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
    paths = [index_path(path, k) for k in range(n)]
    return [c.real(v, p, low=0.0, low_open=True) for v, p in zip(items, paths, strict=True)], paths


_CHANNELS: dict[str, Callable[[FieldReader, Json, str, int], Json]] = {
    "depolarizing": _depolarizing,
    "pauli": _pauli,
    "kraus": _kraus,
    "thermal_relaxation": _thermal_relaxation,
}
