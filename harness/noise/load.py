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

This module is the public facade; the work is done in :mod:`harness.noise.formats`
(validation, the two importers, JSON reading). It is pure Python + numpy: qiskit /
qiskit-aer are imported lazily, and only by the qiskit-dict importer for errors that are
not Pauli mixtures. Turning the canonical dict into an Aer ``NoiseModel`` is done by the
self-contained ``runners/agent/aer_noise.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.errors import not_found
from harness.noise.formats.calibration import depolarizing_for_error as depolarizing_for_error
from harness.noise.formats.calibration import from_calibration
from harness.noise.formats.calibration import relaxation_fidelity as relaxation_fidelity
from harness.noise.formats.canonical import validate_noise
from harness.noise.formats.channels import cptp_deviation as cptp_deviation
from harness.noise.formats.fields import CALIBRATION_FORMAT as CALIBRATION_FORMAT
from harness.noise.formats.fields import CPTP_TOL as CPTP_TOL
from harness.noise.formats.fields import FORMAT, FORMATS, QISKIT_FORMAT, Json
from harness.noise.formats.fields import PROB_TOL as PROB_TOL
from harness.noise.formats.fields import ROOT as ROOT
from harness.noise.formats.fields import Matrix as Matrix
from harness.noise.formats.jsonio import canonical_json, noise_digest, read_json
from harness.noise.formats.qiskit_dict import from_qiskit_dict

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

_LOADERS: dict[str, Callable[[Any, str], Json]] = {
    FORMAT: validate_noise,
    QISKIT_FORMAT: from_qiskit_dict,
    CALIBRATION_FORMAT: from_calibration,
}


def load_noise(path: Path, fmt: str, display: str) -> Json:
    """Read a noise-model file in format ``fmt`` and return the normalised canonical dict."""
    loader = _LOADERS.get(fmt)
    if loader is None:
        raise not_found("noise-model format", fmt, FORMATS)
    return loader(read_json(path, display), display)
