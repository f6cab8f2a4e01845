"""The memory planner: what each circuit's simulation will need, known before anything runs.

A circuit too wide for its method is refused with one line naming it (a
:class:`~harness.errors.MemoryPlanError`, error kind ``memory``) before an environment is
built, never killed for memory in the middle of the run. The estimate (docs/runners.md,
"Memory"):

* the state of the method, for the qubits the simulation holds, ``n``:
  ``statevector`` 16 B x 2^n (8 B in single precision), ``density_matrix`` and ``unitary``
  16 B x 4^n, ``superop`` 16 B x 16^n, ``matrix_product_state`` n x 2 x chi^2 amplitudes
  (chi: the bond dimension cap when one is set, else an assumed 256, said so),
  ``stabilizer`` and ``extended_stabilizer`` a tableau of 2n x (2n + 1) bits (per term for
  the extended one), ``tensor_network`` not estimated; ``automatic`` is what Aer would
  choose: ``stabilizer`` for a Clifford circuit with Pauli noise, else ``statevector``;
* the ideal distribution the agent computes for claims that need it (a double-precision
  statevector and its probabilities, 24 B x 2^d for a circuit declaring d <= 24 qubits),
  when larger than the state;
* plus a fixed :data:`OVERHEAD` for the interpreter, Qiskit and Aer.

``n`` is the number of qubits the circuit's instructions touch (Aer drops idle qubits), read
from the OpenQASM text without Qiskit; a QPY file's header gives its declared qubits
(:mod:`harness.intake.circuit_shape`). The
need is compared with the runner's limit (:meth:`runners.base.Runner.memory_limit`), the
machine's available memory (``MemAvailable``) and, with ``--device GPU``, the GPU's memory.
The machine's side (available memory, the GPU's) comes from :mod:`runners.host`; everything
here is pure but :func:`pauli_noise`, which reads the canonical noise file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import MemoryPlanError
from harness.intake.circuit_shape import CircuitShape, circuit_shape
from harness.models import CircuitJob, CircuitMemory, MemoryPlan
from harness.units import human_size

KiB = 1024
MiB = 1024**2
#: the interpreter, Qiskit and Aer themselves (a Python process with both loaded)
OVERHEAD = 256 * MiB
#: the agent's ideal distribution is a dense statevector up to this many declared qubits
#: (IDEAL_MAX_QUBITS in runners/agent/replay.py; a test holds the two equal)
IDEAL_MAX_QUBITS = 24
#: bond dimension assumed for matrix_product_state when the job sets no cap
ASSUMED_BOND = 256
#: log2 of the largest figure written: past 2^100 bytes no machine is near, and the number
#: would only grow (a 10 000-qubit superop has 12 000 digits)
MAX_LOG2 = 100

_BYTES = {"double": 16, "single": 8}
#: dense methods: the state holds 2^(k n) complex entries
_DENSE = {"statevector": 1, "density_matrix": 2, "unitary": 2, "superop": 4}
_ADVICE = {
    "statevector": "use method matrix_product_state",
    "density_matrix": "use method statevector (noise by sampling) or matrix_product_state",
    "unitary": "simulate the circuit (method statevector or matrix_product_state) instead "
               "of building its unitary",
    "superop": "use method density_matrix or statevector",
    "matrix_product_state": "set a smaller matrix_product_state_max_bond_dimension",
}


def _capped(log2: float) -> tuple[int, bool]:
    """2^log2 bytes, or 2^MAX_LOG2 (capped) past it."""
    if log2 > MAX_LOG2:
        return 2**MAX_LOG2, True
    return math.ceil(2**log2), False


def state_bytes(method: str, qubits: int, precision: str = "double",
                bond: int | None = None) -> tuple[int | None, str]:
    """Bytes of the simulator's state for ``qubits`` qubits, and how that was reckoned.
    ``method`` is a concrete Aer method (not automatic); None: not estimated."""
    entry = _BYTES[precision]
    if method in _DENSE:
        k = _DENSE[method]
        size, capped = _capped(math.log2(entry) + k * qubits)
        what = {1: "amplitudes", 2: "matrix entries", 4: "superoperator entries"}[k]
        power = f"{2**k}^{qubits}" if k > 1 else f"2^{qubits}"
        more = " (capped: more than any machine has)" if capped else ""
        return size, f"{method}: {entry} B x {power} {what} ({precision}){more}"
    if method == "matrix_product_state":
        chi = bond if bond is not None else min(ASSUMED_BOND, 2 ** (qubits // 2))
        size = qubits * 2 * chi * chi * entry
        if bond is not None:
            why = f"bond dimension at most {bond} (matrix_product_state_max_bond_dimension)"
        else:
            why = (f"bond dimension {chi} assumed (no matrix_product_state_max_bond_dimension "
                   "set; a highly entangled circuit needs more)")
        return size, f"matrix_product_state: {qubits} x 2 x chi^2 x {entry} B, {why}"
    if method in ("stabilizer", "extended_stabilizer"):
        size = math.ceil(2 * qubits * (2 * qubits + 1) / 8)
        per = (" per stabilizer term (their number grows with the non-Clifford gates)"
               if method == "extended_stabilizer" else "")
        return size, f"{method}: a tableau of 2n x (2n+1) bits{per}"
    return None, f"{method}: not estimated (its memory depends on the circuit's structure)"


def ideal_bytes(declared: int) -> int | None:
    """What the agent's ideal distribution holds: a complex128 statevector and its float64
    probabilities over the declared qubits; None past IDEAL_MAX_QUBITS (not computed)."""
    return 24 * 2**declared if declared <= IDEAL_MAX_QUBITS else None


def pauli_noise(path: Path | None) -> bool:
    """No noise, or a canonical noise model whose channels Aer's stabilizer method takes
    (depolarizing and Pauli; readout errors always)."""
    if path is None:
        return True
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
        kinds = {ch["type"] for e in spec.get("gate_errors", []) for ch in e["channels"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return kinds <= {"depolarizing", "pauli"}


# --- the plan ---------------------------------------------------------------------------


def estimate(job: CircuitJob, shape: CircuitShape | None, pauli: bool = True,
             bond: int | None = None) -> CircuitMemory:
    """One circuit's estimate (``fits`` is decided by :func:`make_plan`)."""
    name = job.circuit or job.id
    if shape is None:
        return CircuitMemory(circuit=name, file=job.file, method=job.method,
                             precision=job.precision, estimated_as=job.method,
                             basis="not estimated: the circuit file does not tell its width")
    method, note = job.method, ""
    if method == "automatic":
        method = "stabilizer" if shape.clifford and pauli else "statevector"
        note = (f"automatic, estimated as {method} (what Aer chooses for "
                + ("a Clifford circuit with Pauli noise)" if method == "stabilizer"
                   else "a non-Clifford circuit or noise; density_matrix for some small noisy "
                        "circuits)") + "; ")
    state, basis = state_bytes(method, shape.used, job.precision, bond)
    ideal = ideal_bytes(shape.declared) if job.ideal else None
    if state is not None and ideal is not None and ideal > state:
        state, basis = ideal, (f"{basis}; the ideal distribution is larger: 24 B x "
                               f"2^{shape.declared} (statevector and probabilities, double)")
    return CircuitMemory(
        circuit=name, file=job.file, method=job.method, precision=job.precision,
        qubits=shape.used, estimated_as=method, state_bytes=state,
        bytes=None if state is None else state + OVERHEAD,
        basis=f"{note}{basis}; {shape.used} qubits: {shape.how}")


@dataclass(frozen=True)
class Limits:
    """What the run may use: the runner's limit, the machine's, the GPU's (None: unknown)."""

    runner: int | None = None
    runner_source: str = "the runner sets no memory limit"
    host: int | None = None
    gpu: int | None = None

    def smallest(self) -> tuple[int | None, str]:
        known = [(b, s) for b, s in ((self.runner, self.runner_source),
                                     (self.host, "MemAvailable, the memory this machine has "
                                      "available")) if b is not None]
        if not known:
            return None, "no limit known (no runner limit, no /proc/meminfo)"
        return min(known, key=lambda pair: pair[0])


def _fits(c: CircuitMemory, limits: Limits) -> bool | None:
    if c.bytes is None or c.state_bytes is None:
        return None
    limit, _ = limits.smallest()
    verdicts = [c.bytes <= limit] if limit is not None else []
    if limits.gpu is not None:
        verdicts.append(c.state_bytes <= limits.gpu)
    return all(verdicts) if verdicts else None


def make_plan(circuits: Iterable[CircuitMemory], limits: Limits) -> MemoryPlan:
    """The estimates held to the limits: which fit, the largest, the total."""
    decided = [c.model_copy(update={"fits": _fits(c, limits)}) for c in circuits]
    known = [c for c in decided if c.bytes is not None]
    largest = max(known, key=lambda c: c.bytes or 0) if known else None
    limit, source = limits.smallest()
    return MemoryPlan(
        overhead_bytes=OVERHEAD,
        limit_bytes=limit,
        limit_source=source,
        runner_limit_bytes=limits.runner,
        runner_limit_source=limits.runner_source,
        host_available_bytes=limits.host,
        gpu_bytes=limits.gpu,
        circuits=tuple(decided),
        largest=largest.circuit if largest else None,
        largest_bytes=largest.bytes if largest else None,
        total_state_bytes=sum(c.state_bytes or 0 for c in decided),
        refused=tuple(c.circuit for c in decided if c.fits is False),
    )


def refusal(plan: MemoryPlan) -> MemoryPlanError | None:
    """The error naming the largest circuit that does not fit (None: every one fits), e.g.
    ``qv_34: statevector needs 256 GiB for 34 qubits; the runner allows 2 GiB (--memory 2g:
    the container's memory limit); raise --memory or use method matrix_product_state``."""
    refused = [c for c in plan.circuits if c.fits is False]
    if not refused:
        return None
    c = max(refused, key=lambda r: r.bytes or 0)
    assert c.bytes is not None and c.state_bytes is not None
    why: list[str] = []
    remedies: list[str] = []
    host_short = plan.host_available_bytes is not None and c.bytes > plan.host_available_bytes
    if plan.runner_limit_bytes is not None and c.bytes > plan.runner_limit_bytes:
        why.append(f"the runner allows {human_size(plan.runner_limit_bytes)} "
                   f"({plan.runner_limit_source})")
        if not host_short:  # more --memory than the machine has would not help
            remedies.append("raise --memory")
    if host_short:
        assert plan.host_available_bytes is not None
        why.append(f"this machine has {human_size(plan.host_available_bytes)} available")
    if plan.gpu_bytes is not None and c.state_bytes > plan.gpu_bytes:
        why.append(f"the GPU has {human_size(plan.gpu_bytes)}")
        remedies.append("use --device CPU")
    if c.estimated_as in _ADVICE:
        remedies.append(_ADVICE[c.estimated_as])
    if host_short:
        remedies.append("run on a machine with more memory")
    others = [r.circuit for r in refused if r is not c]
    more = (f" ({len(others)} more circuit{'s' if len(others) > 1 else ''} too large: "
            f"{', '.join(others[:5])}{', ...' if len(others) > 5 else ''})" if others else "")
    message = (f"{c.circuit}: {c.estimated_as} needs {human_size(c.bytes)} for {c.qubits} qubits; "
               f"{' and '.join(why)}; {' or '.join(remedies)}{more}")
    return MemoryPlanError(message, file=c.file)


def plan_jobs(jobs: Sequence[CircuitJob], deposit_root: Path, workdir: Path,
              limits: Limits) -> MemoryPlan | None:
    """The plan of a deposit's circuit jobs (one estimate per circuit: its seeds and fresh
    runs need the same); None when there are no circuit jobs."""
    if not jobs:
        return None
    by_circuit: dict[str, CircuitJob] = {}
    for job in jobs:  # the recorded run first: the one that computes the ideal
        name = job.circuit or job.id
        if name not in by_circuit or (job.ideal and not by_circuit[name].ideal):
            by_circuit[name] = job
    shapes: dict[tuple[str, str], CircuitShape | None] = {}
    estimates = []
    for job in by_circuit.values():
        key = (job.file, job.format)
        if key not in shapes:  # one read per file, whatever number of runs it has
            shapes[key] = circuit_shape(deposit_root / job.file, job.format)
        noise = workdir / job.noise_model if job.noise_model else None
        estimates.append(estimate(job, shapes[key], pauli_noise(noise)))
    return make_plan(estimates, limits)
