"""Shared building blocks of the noise-model formats: names, field paths, typed accessors.

Every validator and importer reports problems through :class:`FieldReader`, which raises
:class:`~harness.errors.NoiseModelError` naming the file and the field
(``gate_errors[3].channels[0].p``); :func:`key_path` and :func:`index_path` build those
field paths.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

from harness.errors import NoiseModelError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

FORMAT = "qrepro-noise-v1"
CALIBRATION_FORMAT = "calibration-v1"
QISKIT_FORMAT = "qiskit-noise-dict"
FORMATS = (FORMAT, QISKIT_FORMAT, CALIBRATION_FORMAT)

#: tolerance on probability sums (Pauli terms, readout rows, qiskit probabilities)
#: more qubits than any device or simulator has: a typo or an attack
MAX_QUBITS = 10_000
PROB_TOL = 1e-9
#: tolerance on max |sum K^dagger K - I| for Kraus channels
CPTP_TOL = 1e-8

ROOT = "(root)"

#: a complex matrix (numpy, imported where one is built: Kraus channels only)
Matrix: TypeAlias = "npt.NDArray[np.complex128]"
Json = dict[str, Any]


def key_path(path: str, key: str) -> str:
    return key if path == ROOT else f"{path}.{key}"


def index_path(path: str, index: int) -> str:
    return f"{path}[{index}]"


def kind_of(value: Any) -> str:
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


def clean_float(value: float) -> float:
    """A plain float with -0.0 folded into 0.0, so equal physics prints equally."""
    return float(value) + 0.0


class FieldReader:
    """Typed accessors that raise :class:`NoiseModelError` naming the file and the field."""

    def __init__(self, display: str) -> None:
        self.display = display

    def fail(self, path: str, message: str) -> NoReturn:
        raise NoiseModelError(message, file=self.display, field=path)

    def obj(
        self, value: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> Json:
        if not isinstance(value, dict):
            self.fail(path, f"expected an object, got {kind_of(value)}")
        for key in required:
            if key not in value:
                self.fail(key_path(path, key), "required field is missing")
        allowed = {*required, *optional}
        for key in value:
            if key not in allowed:
                self.fail(
                    key_path(path, str(key)),
                    f"unknown field '{key}'; allowed here: {', '.join(sorted(allowed))}",
                )
        return value

    def array(
        self, value: Any, path: str, *, length: int | None = None, min_len: int = 0
    ) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list, got {kind_of(value)}")
        if length is not None and len(value) != length:
            self.fail(path, f"expected a list of {length} items, got {len(value)}")
        if len(value) < min_len:
            self.fail(path, f"expected at least {min_len} item(s), got {len(value)}")
        return value

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value:
            self.fail(path, f"expected a non-empty string, got {kind_of(value)}")
        return value

    def integer(self, value: Any, path: str, *, low: int = 0, high: int | None = None) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(path, f"expected an integer, got {kind_of(value)}")
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
            self.fail(path, f"expected a number, got {kind_of(value)}")
        number = float(value)
        if not math.isfinite(number):
            self.fail(path, f"must be finite, got {number}")
        too_low = low is not None and (number <= low if low_open else number < low)
        too_high = high is not None and number > high
        if too_low or too_high:
            self.fail(path, f"{rule or _bounds_text(low, high, low_open)}; got {number!r}")
        return clean_float(number)

    def prob(self, value: Any, path: str) -> float:
        return self.real(value, path, low=0.0, high=1.0, rule="a probability is in [0, 1]")

    def complex_entry(self, value: Any, path: str) -> complex:
        if isinstance(value, list):
            pair = self.array(value, path, length=2)
            return complex(
                self.real(pair[0], index_path(path, 0)), self.real(pair[1], index_path(path, 1))
            )
        return complex(self.real(value, path), 0.0)

    def matrix(self, value: Any, path: str, dim: int) -> Matrix:
        import numpy as np

        rows = self.array(value, path, length=dim)
        out = np.zeros((dim, dim), dtype=np.complex128)
        for r, row in enumerate(rows):
            entries = self.array(row, index_path(path, r), length=dim)
            for k, entry in enumerate(entries):
                out[r, k] = self.complex_entry(entry, index_path(index_path(path, r), k))
        return out


def _bounds_text(low: float | None, high: float | None, low_open: bool) -> str:
    if low is not None and high is not None:
        return f"must be in [{low:g}, {high:g}]"
    if low is not None:
        return f"must be {'>' if low_open else '>='} {low:g}"
    return f"must be <= {high:g}"


def read_root(
    c: FieldReader, value: Any, fmt: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> Json:
    """The top-level object, with its ``format`` checked before anything else."""
    if not isinstance(value, dict):
        c.fail(ROOT, f"expected a JSON object at the top level, got {kind_of(value)}")
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
