"""qrepro in-environment agent: replays circuits on Qiskit Aer.

This file runs INSIDE the deposit's environment (a container, a venv, or the harness's own
Python for the local runner). It uses only the standard library and the deposit's own
qiskit / qiskit-aer, never ``harness``, and talks to the harness only through files:

    python -E -s -S replay.py JOB.json RESULT

RESULT is where the result goes: ``fd:N`` (a file descriptor the harness handed over),
``-`` (this process's standard output, e.g. a container's stdout stream) or a file path
(tests). The channel is taken before anything of the deposit runs and is never inherited by
a child; the process makes itself non-dumpable, so another process of the same user (a
notebook's kernel) cannot open it through ``/proc/<pid>/fd``. Run with ``-S``, no ``.pth``
file or ``sitecustomize`` of the environment executes in this process: the site-packages
directories are added to the path by hand.

JOB.json: {"device": "auto|CPU|GPU", "deposit_root": DIR, "work_dir": DIR,
           "circuits": [{"id", "file" (relative to deposit_root), "format", "shots",
                         "seed_simulator", "seed_transpiler", "optimization_level",
                         "method", "precision", "noise_model" (relative to work_dir or null),
                         "ideal"}]}
RESULT.json: {"agent_version", "environment": {..., "stack": [...]}, "circuits": [...],
              "fatal": null|str, "fatal_kind": "unavailable"|"stack"}

Before qiskit is imported the replay stack is verified and confined (stack.py): a stack file
that differs from its RECORD is fatal (fatal_kind "stack"); a circuit whose replay loaded code
from outside the stack is a failed run (error_type "foreign-code").

Each circuit is one Aer job (batching would derive per-circuit seeds). With
"circuit_jobs" N > 1 the circuits run N at a time in forked worker processes (each with
"aer_threads" Aer threads), results kept in the job's order; Aer's counts for a given seed
do not depend on its thread count. Per-circuit failures are recorded and the next circuit
runs (a worker that dies marks the circuits it had not finished as failed); a fatal error
(GPU asked for but absent) is written to RESULT.json and the exit status is 3.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import sys
import time
import traceback
from typing import Any

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)

import stack  # noqa: E402
from channel import add_site_dirs, harden, open_result  # noqa: E402

add_site_dirs()

AGENT_VERSION = "1"
IDEAL_MAX_QUBITS = 24


class Fatal(Exception):
    """An error that stops the whole job (not one circuit)."""

    kind = "unavailable"


class StackChanged(Fatal):
    """A file of the replay stack differs from its RECORD, or one was added."""

    kind = "stack"


def package_versions() -> dict[str, str]:
    """Every distribution installed in this environment: what ran, pinned or not."""
    versions = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            versions[re.sub(r"[-_.]+", "-", name).lower()] = dist.version
    return dict(sorted(versions.items()))


def available_devices() -> list[str]:
    try:
        from qiskit_aer import AerSimulator
    except ImportError:  # a notebook-only environment without Aer
        return ["CPU"]
    return [str(d) for d in AerSimulator().available_devices()]


def resolve_device(requested: str, available: list[str]) -> tuple[str, list[str]]:
    notes = []
    if requested == "GPU" and "GPU" not in available:
        raise Fatal(
            "GPU requested but Aer reports devices: "
            + ", ".join(available)
            + " (install qiskit-aer-gpu and run on a host with an NVIDIA GPU)"
        )
    if requested == "auto":
        device = "GPU" if "GPU" in available else "CPU"
        if device == "CPU":
            notes.append("device auto: no GPU reported by Aer, ran on CPU")
        return device, notes
    return requested, notes


def load_circuit(path: str, fmt: str) -> Any:
    if fmt == "qasm2":
        from qiskit import qasm2

        return qasm2.load(path, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    if fmt == "qasm3":
        from qiskit import qasm3

        return qasm3.load(path)
    if fmt == "qpy":
        from qiskit import qpy

        with open(path, "rb") as fh:
            circuits = qpy.load(fh)
        if len(circuits) != 1:
            raise ValueError(
                f"a QPY circuit file must hold exactly one circuit, found {len(circuits)}"
            )
        return circuits[0]
    raise ValueError(f"unknown circuit format {fmt!r}")


_noise_models: dict[str, Any] = {}


def load_noise(path: str | None) -> Any:
    """The Aer noise model of a qrepro-noise-v1 file, built once per file and process."""
    if path is None:
        return None
    if path not in _noise_models:
        from aer_noise import build_noise_model  # sibling module, copied in with this file

        with open(path, encoding="utf-8") as fh:
            _noise_models[path] = build_noise_model(json.load(fh))
    return _noise_models[path]


def ideal_distribution(circuit: Any) -> dict[str, float] | None:
    """Exact outcome distribution of the noiseless circuit over its classical bits.

    Only for circuits whose measurements are all final; None otherwise.
    """
    from qiskit.quantum_info import Statevector

    if circuit.num_qubits > IDEAL_MAX_QUBITS:
        return None
    mapping = [
        (circuit.find_bit(inst.qubits[0]).index, circuit.find_bit(inst.clbits[0]).index)
        for inst in circuit.data
        if inst.operation.name == "measure"
    ]
    body = circuit.remove_final_measurements(inplace=False)
    if any(inst.operation.name in ("measure", "reset") for inst in body.data):
        return None
    probs = Statevector(body).probabilities()
    width = circuit.num_clbits
    dist: dict[str, float] = {}
    for index, p in enumerate(probs):
        if p < 1e-15:
            continue
        bits = ["0"] * width
        for qubit, clbit in mapping:
            bits[width - 1 - clbit] = "1" if (index >> qubit) & 1 else "0"
        key = "".join(bits)
        dist[key] = dist.get(key, 0.0) + float(p)
    return dist


def identity(spec: dict[str, Any]) -> dict[str, Any]:
    """The fields that tie a result to its job (run name, circuit, role)."""
    return {key: spec[key] for key in ("id", "circuit", "role") if key in spec}


_simulators: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def simulator_for(method: str, precision: str, device: str, noise_path: str | None,
                  threads: int | None) -> tuple[Any, Any]:
    """(AerSimulator, its transpiler Target), made once per configuration and process.

    ``transpile(circuit, simulator)`` reads ``simulator.target``, and qiskit-aer builds a new
    Target on every read (about 136 reads, 2 ms each, per transpile: 0.15-0.3 s for a
    3-qubit circuit). Transpiling against the Target read once gives the same circuits
    (checked at optimization levels 0 and 1 on every reference circuit; level 3 differs from
    itself from one call to the next either way) at a fraction of the cost."""
    key = (method, precision, device, noise_path, threads)
    if key not in _simulators:
        from qiskit_aer import AerSimulator

        options: dict[str, Any] = {"method": method, "precision": precision, "device": device}
        noise = load_noise(noise_path)
        if noise is not None:
            options["noise_model"] = noise
        if threads is not None:
            options["max_parallel_threads"] = threads
        simulator = AerSimulator(**options)
        _simulators[key] = (simulator, simulator.target)
    return _simulators[key]


def run_circuit(
    spec: dict[str, Any], deposit_root: str, work_dir: str, device: str,
    threads: int | None = None,
) -> dict[str, Any]:
    from qiskit import transpile

    circuit = load_circuit(os.path.join(deposit_root, spec["file"]), spec["format"])
    noise_path = spec.get("noise_model")
    simulator, target = simulator_for(
        spec["method"], spec["precision"], device,
        os.path.join(work_dir, noise_path) if noise_path else None, threads)
    compiled = transpile(
        circuit,
        target=target,
        seed_transpiler=spec.get("seed_transpiler"),
        optimization_level=spec.get("optimization_level", 0),
    )
    run_options: dict[str, Any] = {"shots": spec["shots"]}
    if spec.get("seed_simulator") is not None:
        run_options["seed_simulator"] = spec["seed_simulator"]
    start = time.perf_counter()
    result = simulator.run(compiled, **run_options).result()
    wall = time.perf_counter() - start
    if not result.success:
        raise RuntimeError(f"Aer reported failure: {result.status}")
    experiment = result.results[0]
    metadata = getattr(experiment, "metadata", None) or {}
    counts = {str(k).replace(" ", ""): int(v) for k, v in result.get_counts(0).items()}
    return {
        **identity(spec),
        "ok": True,
        "counts": counts,
        "ideal": ideal_distribution(circuit) if spec.get("ideal", True) else None,
        "seed_simulator": int(experiment.seed_simulator),
        "method": metadata.get("method"),
        "device": metadata.get("device", device),
        "shots": int(experiment.shots),
        "wall_s": wall,
    }


def run_one(spec: dict[str, Any], deposit_root: str, work_dir: str, device: str,
            threads: int | None = None) -> dict[str, Any]:
    """One circuit's result; not a result when code from outside the stack was loaded."""
    try:
        result = run_circuit(spec, deposit_root, work_dir, device, threads)
    except Exception as exc:
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        result = {**identity(spec), "ok": False, "error": last,
                  "error_type": type(exc).__name__}
    checked: dict[str, Any] = stack.checked(result)
    return checked


def verify_stack(job: dict[str, Any]) -> list[dict[str, Any]]:
    """Before qiskit is imported: the deposit's folders off the path, the stack's files
    checked against their RECORDs (Fatal naming what differs), entry points and imports
    confined to the stack, the guard that checks every circuit's loaded modules set up."""
    stack.clean_sys_path(job.get("deposit_root", ""), job.get("work_dir", ""))
    dists = stack.stack_distributions()
    report, files, problems = stack.verify(dists, workers=min(4, os.cpu_count() or 1))
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise StackChanged("the replay stack is not as its wheels installed it: "
                           + "; ".join(problems[:3]) + more)
    stack.restrict_entry_points(dists)
    guard = stack.Guard(files, set(dists))
    stack.confine_imports(guard, dists)
    stack.install(guard)
    verified: list[dict[str, Any]] = report
    return verified


#: how a progress line starts in the agent's log (stderr); the runner follows the log
PROGRESS_MARK = "qrepro-progress:"


def progress(what: str, done: int, total: int) -> None:
    """One line on stderr per finished run: the harness shows ``what done/total``."""
    print(f"{PROGRESS_MARK} {what} {done}/{total}", file=sys.stderr, flush=True)


def _run_indexed(index: int, spec: dict[str, Any], deposit_root: str, work_dir: str,
                 device: str, threads: int | None) -> tuple[int, dict[str, Any]]:
    return index, run_one(spec, deposit_root, work_dir, device, threads)


def run_circuits(job: dict[str, Any], device: str, pool: Any) -> list[dict[str, Any]]:
    """Every circuit of the job, in the job's order; in ``pool`` when there is one."""
    specs = job["circuits"]
    root, work = job["deposit_root"], job["work_dir"]
    threads = job.get("aer_threads")
    if pool is None:
        runs = []
        for i, spec in enumerate(specs, start=1):
            runs.append(run_one(spec, root, work, device, threads))
            progress("circuits", i, len(specs))
        return runs
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    results: list[dict[str, Any] | None] = [None] * len(specs)
    futures = [pool.submit(_run_indexed, i, spec, root, work, device, threads)
               for i, spec in enumerate(specs)]
    try:
        for done, future in enumerate(as_completed(futures), start=1):
            index, run = future.result()
            results[index] = run
            progress("circuits", done, len(specs))
    except BrokenProcessPool:  # a worker died (e.g. killed for memory): say so per circuit
        pass
    return [run if run is not None else {
        **identity(spec), "ok": False, "error_type": "WorkerDied",
        "error": "the worker process simulating this circuit died (killed by a signal, "
                 "e.g. for memory) before it finished"}
        for spec, run in zip(specs, results, strict=True)]


def circuit_workers(job: dict[str, Any]) -> int:
    """Circuits simulated at once: what the harness asked for, at most one per circuit."""
    return max(1, min(int(job.get("circuit_jobs", 1)), len(job.get("circuits") or [])))


def circuit_pool(workers: int) -> Any:
    """Worker processes for the circuits, or None to run them here one after another.

    Forked after qiskit and Aer are imported (no re-import per worker) and before Aer has
    run anything in this process (a fork after OpenMP started threads is not safe). The
    workers run only this file's code on the deposit's data files."""
    if workers < 2:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import qiskit_aer  # noqa: F401
    from qiskit import qasm2, qasm3, transpile  # noqa: F401

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


def run_notebook_jobs(job: dict[str, Any], device: str) -> list[dict[str, Any]]:
    if not job.get("notebooks"):
        return []
    from notebooks import run_notebooks  # sibling module, copied in with this file

    runs: list[dict[str, Any]] = run_notebooks(
        job["notebooks"], job["deposit_root"], job["work_dir"], device, int(job.get("jobs", 1))
    )
    return runs


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: replay.py JOB.json RESULT", file=sys.stderr)
        return 2
    harden()
    channel = open_result(argv[2])
    with open(argv[1], encoding="utf-8") as fh:
        job = json.load(fh)
    environment: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
    }
    output: dict[str, Any] = {"agent_version": AGENT_VERSION, "environment": environment}
    status = 0
    pool = None
    try:
        environment["stack"] = verify_stack(job) if job.get("circuits") else []
        workers = circuit_workers(job)
        pool = circuit_pool(workers)
        devices = available_devices()
        device, notes = resolve_device(job.get("device", "auto"), devices)
        environment.update(device=device, devices_available=devices, notes=notes,
                           circuit_jobs=workers,
                           aer_threads=job.get("aer_threads"))
        output["circuits"] = run_circuits(job, device, pool) if job.get("circuits") else []
        stack.release_imports()
        output["notebooks"] = run_notebook_jobs(job, device)
        output["fatal"] = None
    except Fatal as exc:
        output.update(circuits=[], notebooks=[], fatal=str(exc), fatal_kind=exc.kind)
        status = 3
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        stack.restore()
    with channel:
        json.dump(output, channel, sort_keys=True)
        channel.write("\n")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
