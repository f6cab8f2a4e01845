"""Record every Qiskit Aer job a notebook runs (the shim ``qrepro record`` installs).

``qrepro record`` runs a copy of the author's notebook whose first cell puts this file's
folder on ``sys.path`` and calls :func:`install`. From then on every ``AerSimulator.run``
job (and so every ``qiskit_aer.primitives.SamplerV2`` job and every other caller of
``AerSimulator.run``, such as qiskit's ``BackendSamplerV2``) is recorded, one experiment at
a time, into the capture folder:

    exp-000000.json     seed Aer used, method, precision, device, shots, counts, noise file
    exp-000000.qpy      the circuit Aer ran (parameters bound), always
    exp-000000.qasm     the same circuit as OpenQASM 3, when qiskit.qasm3 can express it
    noise-<sha>.json    the job's noise model, ``NoiseModel.to_dict(serializable=True)``
    notes.jsonl         what was not recorded, and why (one JSON object a line)
    versions.json       python, qiskit, qiskit-aer, qiskit-qasm3-import of this kernel

Experiments without counts (``EstimatorV2``'s expectation values, ``save_statevector``
only) are noted, not recorded. Recording never changes what the notebook computes: the
job runs as it would, and a failure to record is a note, never an exception.

Self-contained on purpose: the kernel may not have qrepro installed, so this imports the
standard library and qiskit / qiskit-aer only (qiskit-aer when :func:`install` runs).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import itertools
import json
import os
import platform
import threading
from typing import Any

__all__ = ["install", "installed_dir", "uninstall"]

_LOCK = threading.Lock()
_COUNTER = itertools.count()
_STATE: dict[str, str] = {}
_ORIGINAL: list[Any] = []  # AerSimulator.run before install
#: run options Aer's replay sets itself (qrepro replays with these and nothing else)
_REPLAYED = frozenset({"shots", "seed_simulator", "method", "precision", "noise_model",
                       "device", "memory", "parameter_binds"})
_PACKAGES = ("qiskit", "qiskit-aer", "qiskit-qasm3-import")


def install(capture_dir: str) -> None:
    """Patch ``AerSimulator.run`` to record into ``capture_dir`` (again: just move there)."""
    from qiskit_aer import AerSimulator

    os.makedirs(capture_dir, exist_ok=True)
    _STATE["dir"] = capture_dir
    _write_json(os.path.join(capture_dir, "versions.json"), _versions())
    if getattr(AerSimulator.run, "_qrepro_recorder", False):
        return
    original = AerSimulator.run
    _ORIGINAL[:] = [original]

    def run(self: Any, circuits: Any, parameter_binds: Any = None, **run_options: Any) -> Any:
        job = original(self, circuits, parameter_binds=parameter_binds, **run_options)
        try:
            _record_job(self, circuits, parameter_binds, run_options, job)
        except Exception as exc:  # recording must never break the notebook
            _note("recorder-error", f"{type(exc).__name__}: {exc}")
        return job

    run._qrepro_recorder = True  # type: ignore[attr-defined]
    run.__doc__ = original.__doc__
    AerSimulator.run = run


def uninstall() -> None:
    """Put ``AerSimulator.run`` back and stop recording."""
    from qiskit_aer import AerSimulator

    if _ORIGINAL:
        AerSimulator.run = _ORIGINAL.pop()
    _STATE.pop("dir", None)


def installed_dir() -> str | None:
    """The capture folder, once :func:`install` ran."""
    return _STATE.get("dir")


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _write_json(path: str, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)


def _note(code: str, message: str, **extra: Any) -> None:
    folder = _STATE.get("dir")
    if folder is None:
        return
    with _LOCK, open(os.path.join(folder, "notes.jsonl"), "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"code": code, "message": message, **extra}, sort_keys=True) + "\n")


def _record_job(sim: Any, circuits: Any, binds: Any, run_options: dict[str, Any],
                job: Any) -> None:
    try:
        result = job.result()  # cached by the job: the notebook's own call gets the same
    except Exception as exc:
        _note("job-failed", f"the Aer job failed, nothing recorded: {exc}")
        return
    experiments = _experiments(circuits, binds)
    if len(experiments) != len(result.results):
        _note("experiments-mismatch", f"{len(experiments)} circuits but "
              f"{len(result.results)} results: job not recorded")
        return
    noise_file = _noise_file(run_options.get("noise_model", sim.options.noise_model))
    common = {
        "precision": str(run_options.get("precision", sim.options.precision)),
        "noise_model": noise_file,
        "options": _other_options(sim, run_options),
    }
    for index, (circuit, experiment) in enumerate(zip(experiments, result.results,
                                                      strict=True)):
        counts = _counts(result, index)
        if counts is None:
            _note("no-counts", f"experiment {index} of a job on '{circuit.name}' has no "
                  "counts (expectation values or saved states only): not recorded")
            continue
        _write_experiment(circuit, experiment, counts, common)


def _experiments(circuits: Any, binds: Any) -> list[Any]:
    """The circuits Aer ran, in its result order: each circuit once per bound value set."""
    from qiskit import QuantumCircuit

    listed = [circuits] if isinstance(circuits, QuantumCircuit) else list(circuits)
    if binds is None:
        return listed
    out = []
    for circuit, bind in zip(listed, binds, strict=True):
        if not bind:
            out.append(circuit)
            continue
        size = len(next(iter(bind.values())))
        out.extend(circuit.assign_parameters({p: float(v[j]) for p, v in bind.items()})
                   for j in range(size))
    return out


def _counts(result: Any, index: int) -> dict[str, int] | None:
    data = result.results[index].data
    raw = getattr(data, "counts", None)
    if not raw:
        return None
    try:
        counts = result.get_counts(index)
    except Exception:
        return None
    return {str(key).replace(" ", ""): int(value) for key, value in counts.items()}


def _noise_file(noise: Any) -> str | None:
    """Save the noise model once per content; its file name, or None when noiseless."""
    if noise is None or (hasattr(noise, "is_ideal") and noise.is_ideal()):
        return None
    text = json.dumps(noise.to_dict(serializable=True), sort_keys=True)
    name = f"noise-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}.json"
    path = os.path.join(_STATE["dir"], name)
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    return name


def _other_options(sim: Any, run_options: dict[str, Any]) -> dict[str, str]:
    """Options the replay does not set, when they differ from Aer's defaults."""
    defaults = type(sim)._default_options()
    chosen = {k: v for k, v in sim.options.items() if getattr(defaults, k, None) != v}
    chosen.update(run_options)
    return {k: repr(v)[:200] for k, v in sorted(chosen.items()) if k not in _REPLAYED}


def _write_experiment(circuit: Any, experiment: Any, counts: dict[str, int],
                      common: dict[str, Any]) -> None:
    from qiskit import qpy

    with _LOCK:
        stem = f"exp-{next(_COUNTER):06d}"
    folder = _STATE["dir"]
    with open(os.path.join(folder, stem + ".qpy"), "wb") as fh:
        qpy.dump(circuit, fh)
    qasm, qasm_error = _qasm3(circuit)
    if qasm is not None:
        with open(os.path.join(folder, stem + ".qasm"), "w", encoding="utf-8") as fh:
            fh.write(qasm)
    metadata = getattr(experiment, "metadata", None) or {}
    _write_json(os.path.join(folder, stem + ".json"), {
        **common,
        "name": str(circuit.name),
        "seed_simulator": int(experiment.seed_simulator),
        "shots": int(experiment.shots),
        "method": str(metadata.get("method", "automatic")),
        "device": str(metadata.get("device", "CPU")),
        "counts": counts,
        "qpy": stem + ".qpy",
        "qasm3": stem + ".qasm" if qasm is not None else None,
        "qasm3_error": qasm_error,
    })


def _qasm3(circuit: Any) -> tuple[str | None, str | None]:
    from qiskit import qasm3

    try:
        return qasm3.dumps(circuit), None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
