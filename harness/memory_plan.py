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
from the OpenQASM text without Qiskit; a QPY file's header gives its declared qubits. The
need is compared with the runner's limit (:meth:`runners.base.Runner.memory_limit`), the
machine's available memory (``MemAvailable``) and, with ``--device GPU``, the GPU's memory.
Everything here but :func:`host_available` and :func:`gpu_memory` is pure.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import struct
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import MemoryPlanError
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
#: bytes of the OpenQASM text read for the width (jobs.MAX_QASM_SCAN's bound)
MAX_SCAN = 64 * MiB

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


# --- the circuit's width, from its file -------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """What the planner reads of a circuit file."""

    #: qubits the instructions touch (a QPY file: its declared qubits)
    used: int
    #: qubits the circuit declares (what the agent's ideal distribution spans)
    declared: int
    #: only gates Aer's stabilizer method runs (False when unsure)
    clifford: bool
    how: str


#: the gates Aer's stabilizer method runs (what its automatic method looks for)
CLIFFORD = frozenset({"id", "x", "y", "z", "h", "s", "sdg", "sx", "sxdg", "cx", "CX", "cy",
                      "cz", "swap", "ecr", "measure", "reset", "barrier", "delay"})
#: a slice longer than this counts as its whole register (no set of that many indices is built)
MAX_SLICE = 4096
_COMMENT = re.compile(r"//[^\n]*|/\*")
_VERSION = re.compile(r"\bOPENQASM\s+(\d+)")
_PREAMBLE = re.compile(r"\bOPENQASM\b[^;]*;|\binclude\s*\"[^\"]*\"\s*;")
_QREG = re.compile(r"\bqreg\s+([A-Za-z_]\w*)\s*\[\s*(\d+)\s*\]\s*;")
_QUBIT = re.compile(r"\bqubit\s*(?:\[([^\]]*)\])?\s+([A-Za-z_]\w*)\s*;")
_CONST = re.compile(r"\bconst\s+u?int\s*(?:\[\s*\d+\s*\])?\s+([A-Za-z_]\w*)\s*=\s*(\d+)\s*;")
#: per OpenQASM version: the classical declarations (their names are not instructions) and
#: the definitions (their bodies name parameters, not registers). OpenQASM 2 has none of the
#: version 3 keywords: there, ``int`` or ``cal`` can be a register's name.
_CLASSICAL = {
    2: re.compile(r"\bcreg\b[^;{}]*;"),
    3: re.compile(r"\b(?:creg|bit|output|input|const|uint|int|float|angle|bool|complex|"
                  r"duration|stretch|array)\b[^;{}]*;"),
}
_DEFINITION = {2: re.compile(r"\b(gate|opaque)\b"),
               3: re.compile(r"\b(gate|def|opaque|defcal|cal)\b")}
_BARRIER = re.compile(r"\bbarrier\b[^;]*;")
_REF = re.compile(r"([A-Za-z_]\w*)\s*(?:\[([^\]]*)\])?")
_PHYSICAL = re.compile(r"\$(\d+)")
_HEAD = re.compile(r"^\s*(?:if\s*\([^)]*\)\s*)?([A-Za-z_]\w*)")
_ASSIGNED_MEASURE = re.compile(r"^\s*[A-Za-z_]\w*\s*(?:\[[^\]]*\])?\s*=\s*measure\b")
_INT = re.compile(r"\s*(-?\d+)\s*")


def _strip_comments(text: str) -> str:
    """The text without ``//`` and ``/* */`` comments, in one pass (an unclosed ``/*`` runs
    to the end: no rescan per ``/*``)."""
    out: list[str] = []
    pos = 0
    while (m := _COMMENT.search(text, pos)) is not None:
        out.append(text[pos:m.start()])
        out.append(" ")
        if m.group() == "/*":
            end = text.find("*/", m.end())
            pos = len(text) if end < 0 else end + 2
        else:
            pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _heads(body: str) -> set[str]:
    """The instruction names of the program's statements (``c[0] = measure q[0]``: measure)."""
    heads: set[str] = set()
    for statement in set(re.split(r"[;{}]", body)):  # each distinct statement once
        if _ASSIGNED_MEASURE.match(statement):
            heads.add("measure")
        elif (head := _HEAD.match(statement)) is not None:
            heads.add(head.group(1))
    return heads - {"for", "while", "else", "in", "let", "return", "end", "break", "continue"}


def _strip_definitions(text: str, definition: re.Pattern[str]) -> tuple[str, bool]:
    """The text without gate / def / opaque definitions (their bodies name parameters, not
    registers), and whether there were any."""
    out: list[str] = []
    pos, found = 0, False
    for match in definition.finditer(text):
        if match.start() < pos:
            continue
        found = True
        out.append(text[pos:match.start()])
        brace, semi = text.find("{", match.end()), text.find(";", match.end())
        if match.group(1) == "opaque" or brace < 0 or (0 <= semi < brace):
            pos = (semi + 1) if semi >= 0 else len(text)
            continue
        depth, i = 0, brace
        while i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
            if depth == 0:
                break
        pos = i
    out.append(text[pos:])
    return "".join(out), found


def _indices(index: str, size: int) -> set[int] | None:
    """The qubits of a register of ``size`` that an index names: ``3``, ``-1``, ``{0, 2}``,
    ``1:4`` or ``0:2:8`` (OpenQASM 3 ranges include their end); None: all of them (a computed
    index, an open or long range)."""
    index = index.strip()
    if index.startswith("{") and index.endswith("}"):
        found: set[int] = set()
        for part in index[1:-1].split(","):
            one = _indices(part, size)
            if one is None:
                return None
            found |= one
        return found
    parts = index.split(":")
    if len(parts) > 3 or not all(_INT.fullmatch(p) for p in parts):
        return None
    start, *rest = (int(p) for p in parts)
    if not rest:
        return {start + size if start < 0 else start}
    step, stop = (1, rest[0]) if len(rest) == 1 else (rest[0], rest[1])
    if step == 0:
        return None
    span = range(start, stop + (1 if step > 0 else -1), step)
    if len(span) > MAX_SLICE:
        return None
    return {i + size if i < 0 else i for i in span}


def qasm_shape(text: str) -> Shape | None:
    """Qubits an OpenQASM 2 or 3 program declares and touches (qiskit is not loaded); None
    when a register's size is not a number this reader can tell."""
    text = _strip_comments(text)
    version = 2 if (v := _VERSION.search(text)) is not None and v.group(1) == "2" else 3
    text = _PREAMBLE.sub(" ", text)
    registers: dict[str, int] = {}
    for m in _QREG.finditer(text):
        registers[m.group(1)] = int(m.group(2))
    consts = {m.group(1): int(m.group(2)) for m in _CONST.finditer(text)} if version == 3 else {}
    for m in _QUBIT.finditer(text):
        size = (m.group(1) or "1").strip()
        if size.isdigit():
            registers[m.group(2)] = int(size)
        elif size in consts:
            registers[m.group(2)] = consts[size]
        else:
            return None
    body, defined = _strip_definitions(_QUBIT.sub(" ", _QREG.sub(" ", text)),
                                       _DEFINITION[version])
    physical = {int(k) for k in _PHYSICAL.findall(body)}
    declared = sum(registers.values()) + (max(physical) + 1 if physical else 0)
    ops = _BARRIER.sub(" ", body)  # Aer drops a qubit that only a barrier names
    whole: set[str] = set()
    named: dict[str, set[int]] = {}
    for name, index in set(_REF.findall(ops)):  # each distinct reference once
        if name not in registers or name in whole:
            continue
        found = _indices(index, registers[name]) if index else None
        if found is None:  # the whole register, or an index not told: all of it, to be safe
            whole.add(name)
        else:
            named.setdefault(name, set()).update(found)
    used = sum(registers[name] for name in whole) + len(set(_PHYSICAL.findall(ops))) + sum(
        len({i for i in indices if 0 <= i < registers[name]})
        for name, indices in named.items() if name not in whole)
    clifford = not defined and _heads(_CLASSICAL[version].sub(" ", body)) <= CLIFFORD
    return Shape(used=used, declared=declared, clifford=clifford,
                 how="the qubits its instructions touch (OpenQASM)")


#: the QPY versions :func:`qpy_qubits` reads (their headers are laid out as it expects)
QPY_VERSIONS = range(1, 19)


def qpy_qubits(data: bytes) -> int | None:
    """The declared qubits of the first circuit of a QPY file, from its headers; None when
    the bytes are not a QPY file of a circuit this reader knows (versions 1 to 18).

    The file header is ``!6sBBBBQ`` (18 bytes; version 10 on adds a 1-byte symbolic encoding),
    then, from version 5, a 1-byte program type (``q``: a circuit) and, from version 16, a
    table of 8-byte program offsets. The circuit header starts ``!HdI`` in version 1
    (num_qubits at 10) and ``!H1cHI`` from version 2 (num_qubits at 5)."""
    try:
        if data[:6] != b"QISKIT" or data[6] not in QPY_VERSIONS:
            return None
        version = data[6]
        pos = 18 if version < 10 else 19
        if version >= 5:
            if data[pos:pos + 1] != b"q":  # not a circuit (a schedule block)
                return None
            pos += 1
        if version >= 16:
            (pos,) = struct.unpack_from("!Q", data, pos)  # the first program's offset
        offset = 10 if version < 2 else 5
        (qubits,) = struct.unpack_from("!I", data, pos + offset)
    except (IndexError, struct.error):
        return None
    return int(qubits)


def circuit_shape(path: Path, fmt: str) -> Shape | None:
    """The circuit file's shape, or None when it cannot be read or told."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_SCAN)
    except OSError:
        return None
    if fmt == "qpy":
        qubits = qpy_qubits(data)
        if qubits is None:
            return None
        return Shape(used=qubits, declared=qubits, clifford=False,
                     how="the qubits its QPY header declares (idle ones included)")
    return qasm_shape(data.decode("utf-8", errors="replace"))


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


def estimate(job: CircuitJob, shape: Shape | None, pauli: bool = True,
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


# --- what the machine has ---------------------------------------------------------------


def host_available(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """MemAvailable in bytes (None where /proc/meminfo does not say)."""
    try:
        for line in meminfo.read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * KiB
    except (OSError, ValueError, IndexError):
        return None
    return None


def gpu_memory(timeout_s: float = 10.0) -> int | None:
    """Memory of the smallest NVIDIA GPU, from nvidia-smi (None: no answer)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=timeout_s, check=True)
        sizes = [int(float(line)) * MiB for line in out.stdout.split() if line.strip()]
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return min(sizes) if sizes else None


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
    shapes: dict[tuple[str, str], Shape | None] = {}
    estimates = []
    for job in by_circuit.values():
        key = (job.file, job.format)
        if key not in shapes:  # one read per file, whatever number of runs it has
            shapes[key] = circuit_shape(deposit_root / job.file, job.format)
        noise = workdir / job.noise_model if job.noise_model else None
        estimates.append(estimate(job, shapes[key], pauli_noise(noise)))
    return make_plan(estimates, limits)
