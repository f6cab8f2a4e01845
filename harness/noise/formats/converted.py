"""Bookkeeping shared by the importers: converted entries and where each came from.

An importer collects canonical entries in :class:`Converted`, each with the source field
it was built from, and :func:`validate_converted` validates the result so that an error in
``gate_errors[2]`` is reported at that source field instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.errors import NoiseModelError
from harness.noise.formats.canonical import validate_noise
from harness.noise.formats.fields import Json

_CONVERTED_ENTRY = re.compile(r"^(gate_errors|readout_errors)\[(\d+)\](.*)$")


@dataclass
class Converted:
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


def validate_converted(spec: Json, display: str, origins: dict[str, list[str]]) -> Json:
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
