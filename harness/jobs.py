"""Prepare the execute phase: canonical noise models, circuit and notebook jobs, counts.

Noise models are converted to the canonical qrepro-noise-v1 form and written into the
work directory (the agent builds Aer noise models from those); problems become findings
and the circuits they touch are listed as not run, so one bad file never hides the rest.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from harness.claims import needs_ideal, wants_fresh
from harness.errors import DepositError, NoiseModelError
from harness.intake.archive import Deposit
from harness.intake.correlated_seeds import far_from
from harness.intake.manifest import Circuit, Environment, Manifest
from harness.intake.recorded import load_counts
from harness.intake.versions import environment_for, qasm3_reader_findings
from harness.models import CircuitJob, Finding, MemoryPlan, NotebookJob, Validation, finding
from harness.noise.load import load_noise
from harness.notebook_runs import FRESH_INFIX, REPEAT_SUFFIX
from harness.wording import plural

NOISE_DIR = "noise"
_EXTENSIONS = {".qasm": "qasm2", ".qasm2": "qasm2", ".qasm3": "qasm3", ".qpy": "qpy"}


@dataclass(frozen=True)
class PreparedJobs:
    jobs: tuple[CircuitJob, ...]
    recorded: dict[str, dict[str, int]]
    findings: tuple[Finding, ...]
    not_run: tuple[str, ...]
    environment: Environment
    notebooks: tuple[NotebookJob, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.jobs and not self.notebooks


def circuit_format(circuit: Circuit, path: Path) -> str:
    """The declared format, else from the extension (an OPENQASM 3 header wins)."""
    if circuit.format is not None:
        return circuit.format
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise DepositError(
            "cannot tell the circuit format from the extension; set 'format'",
            file=circuit.file,
            field="format",
        )
    if fmt == "qasm2" and path.read_bytes()[:200].lstrip().startswith(b"OPENQASM 3"):
        return "qasm3"
    return fmt


MAX_QASM_SCAN = 64 * 1024 * 1024
#: the only files an OpenQASM ``include`` may name: the standard libraries, never a path
STANDARD_INCLUDES = frozenset({"qelib1.inc", "stdgates.inc"})
_INCLUDE = re.compile(rb'\binclude\s*"([^"]*)"')


def check_includes(path: Path, display: str, field: str) -> None:
    """Refuse an OpenQASM ``include`` of anything but the standard libraries."""
    for match in _INCLUDE.finditer(path.read_bytes()):
        name = match.group(1).decode("utf-8", errors="replace")
        if name not in STANDARD_INCLUDES:
            raise DepositError(
                f"include \"{name[:80]}\" is not allowed: only "
                f"{', '.join(sorted(STANDARD_INCLUDES))} may be included (paste other "
                "definitions into the circuit file)",
                file=display,
                field=field,
            )


def _bad(code: str, exc: DepositError | NoiseModelError, blocks: tuple[str, ...]) -> Finding:
    return finding(code, "error", exc.message, file=exc.file, field=exc.field, blocks=blocks)


def _check_noise_reference(ref: str | None, noise: dict[str, str], file: str, field: str) -> None:
    """A circuit or notebook whose noise model did not load cannot run."""
    if ref is not None and ref not in noise:
        raise DepositError(f"its noise model '{ref}' is invalid", file=file, field=field)


def _noise_models(
    deposit: Deposit, m: Manifest, workdir: Path
) -> tuple[dict[str, str], list[Finding]]:
    """id -> canonical file (relative to workdir) for every valid noise model."""
    (workdir / NOISE_DIR).mkdir(parents=True, exist_ok=True)
    ready: dict[str, str] = {}
    findings: list[Finding] = []
    for i, ref in enumerate(m.noise_models):
        try:
            spec = load_noise(
                deposit.path(ref.file, field=f"noise_models[{i}].file"), ref.format, ref.file
            )
        except (NoiseModelError, DepositError) as exc:
            findings.append(
                _bad("invalid-noise-model", exc, ("functional", "reusable", "reproduced"))
            )
            continue
        rel = f"{NOISE_DIR}/{ref.id}.json"
        (workdir / rel).write_text(json.dumps(spec, indent=1, sort_keys=True), encoding="utf-8")
        ready[ref.id] = rel
    return ready, findings


def _job(deposit: Deposit, m: Manifest, index: int, noise: dict[str, str]) -> CircuitJob:
    c = m.circuits[index]
    path = deposit.path(c.file, field=f"circuits[{index}].file")
    if not path.is_file():
        raise DepositError("circuit file is missing", file=c.file, field=f"circuits[{index}].file")
    _check_noise_reference(c.noise_model, noise, c.file, f"circuits[{index}].noise_model")
    fmt = circuit_format(c, path)
    if fmt in ("qasm2", "qasm3"):
        check_includes(path, c.file, f"circuits[{index}].file")
    recorded = CircuitJob(
        id=c.id,
        circuit=c.id,
        file=c.file,
        format=fmt,  # type: ignore[arg-type]
        shots=c.shots,
        seed_simulator=c.seed_simulator,
        seed_transpiler=c.seed_transpiler,
        optimization_level=c.optimization_level,
        method=c.method,
        precision=c.precision,
        noise_model=noise.get(c.noise_model) if c.noise_model else None,
        ideal=needs_ideal(m, c.id),
    )
    return recorded


def _seeded(job: CircuitJob, role: str, seeds: list[int]) -> list[CircuitJob]:
    """Copies of the recorded job with other seeds (the ideal comes from the recorded run)."""
    tag = "seed" if role == "trial" else "fresh"
    return [
        job.model_copy(
            update={
                "id": f"{job.circuit}@{tag}-{s}",
                "seed_simulator": s,
                "role": role,
                "ideal": False,
            }
        )
        for s in seeds
    ]


#: fresh seeds keep at least this far apart when the shot count is unknown (notebooks)
DEFAULT_SPACING = 1_000_000


def fresh_seeds(
    name: str, k: int, exclude: set[int], base: int, spacing: int = DEFAULT_SPACING
) -> list[int]:
    """K new seeds for ``name``, reproducible from ``base`` (the evaluation's --seed), each at
    least ``spacing`` (the shot count) away from the deposit's seeds and from each other:
    Aer's seed s + i replays shot i of seed s, so closer seeds would share shots."""
    import numpy as np  # only when fresh seeds are drawn (qrepro validate stays numpy-free)

    rng = np.random.default_rng([base, zlib.crc32(name.encode())])
    seeds: list[int] = []
    while len(seeds) < k:
        s = int(rng.integers(1, 2**31 - 1))
        if far_from(s, exclude, spacing) and far_from(s, seeds, spacing):
            seeds.append(s)
    return seeds


#: shots of a kick-the-tires run (--smoke): enough to see that a circuit runs
SMOKE_SHOTS = 100


def _circuit_jobs(
    deposit: Deposit, m: Manifest, index: int, noise: dict[str, str], fresh: int, base: int,
    smoke: bool = False,
) -> list[CircuitJob]:
    c = m.circuits[index]
    recorded = _job(deposit, m, index, noise)
    if smoke:  # one run, few shots, no ideal: does it run at all?
        return [recorded.model_copy(update={"shots": min(c.shots, SMOKE_SHOTS),
                                            "ideal": False})]
    jobs = [recorded, *_seeded(recorded, "trial", c.seeds)]
    if fresh and wants_fresh(m, c.id):
        own = set(c.deposited_seeds())
        jobs += _seeded(recorded, "fresh", fresh_seeds(c.id, fresh, own, base, c.shots))
    return jobs


_CREG = re.compile(rb"^\s*creg\s+\w+\s*\[\s*(\d+)\s*\]\s*;", re.MULTILINE)
_BIT3 = re.compile(rb"^\s*(?:output\s+)?bit\s*(?:\[\s*(\d+)\s*\])?\s+\w+", re.MULTILINE)


def classical_bits(path: Path) -> int | None:
    """The classical bits an OpenQASM file declares (None: not OpenQASM, or none found)."""
    try:
        text = path.read_bytes()[:MAX_QASM_SCAN]
    except OSError:
        return None
    if text.lstrip().startswith(b"OPENQASM 3"):
        sizes = [int(m.group(1) or 1) for m in _BIT3.finditer(text)]
    elif text.lstrip().startswith(b"OPENQASM 2"):
        sizes = [int(m.group(1)) for m in _CREG.finditer(text)]
    else:
        return None
    return sum(sizes) or None


def _check_width(counts: dict[str, int], circuit: Path, display: str) -> None:
    bits = classical_bits(circuit)
    width = len(next(iter(counts)))
    if bits is not None and width != bits:
        raise DepositError(
            f"bitstrings are {width} bits wide but the circuit declares {bits} classical bits",
            file=display, field="(root)")


def recorded_counts(
    deposit: Deposit, m: Manifest
) -> tuple[dict[str, dict[str, int]], list[Finding]]:
    """The recorded counts of every circuit that has them (id -> counts), and an
    invalid-counts finding for each counts file that does not load."""
    recorded: dict[str, dict[str, int]] = {}
    findings: list[Finding] = []
    for i, c in enumerate(m.circuits):
        if c.counts is None:
            continue
        try:
            path = deposit.path(c.counts, field=f"circuits[{i}].counts")
            counts = load_counts(path, c.counts, c.shots)
            _check_width(counts, deposit.path(c.file, field=f"circuits[{i}].file"), c.counts)
            recorded[c.id] = counts
        except DepositError as exc:
            findings.append(_bad("invalid-counts", exc, ("reproduced",)))
    return recorded, findings


def _notebook_runs(
    deposit: Deposit,
    m: Manifest,
    index: int,
    noise: dict[str, str],
    repeat_first: bool,
    fresh: int = 0,
    base: int = 0,
    smoke: bool = False,
) -> list[NotebookJob]:
    """One job per recorded seed (seed 0 when none is recorded), plus, when asked, a
    second run of the first seed: a notebook that ignores its seed is caught that way."""
    nb = m.notebooks[index]
    path = deposit.path(nb.path, field=f"notebooks[{index}].path")
    if not path.is_file():
        raise DepositError(
            "notebook file is missing", file=nb.path, field=f"notebooks[{index}].path"
        )
    _check_noise_reference(nb.noise_model, noise, nb.path, f"notebooks[{index}].noise_model")
    seeds = (nb.seeds or [0])[:1] if smoke else (nb.seeds or [0])
    runs = [(s, f"{nb.id}-seed-{s}") for s in seeds]
    if repeat_first:
        runs.append((seeds[0], f"{nb.id}-seed-{seeds[0]}{REPEAT_SUFFIX}"))
    if fresh:
        runs += [
            (s, f"{nb.id}{FRESH_INFIX}{s}")
            for s in fresh_seeds(nb.id, fresh, set(seeds), base,
                                 max(nb.shots or 0, DEFAULT_SPACING))
        ]
    return [
        NotebookJob(
            id=nb.id,
            run=run,
            path=nb.path,
            seed=seed,
            parameters=nb.parameters,
            shots=min(nb.shots, SMOKE_SHOTS) if smoke and nb.shots else nb.shots,
            noise_model=noise.get(nb.noise_model or ""),
            timeout=nb.timeout,
            cell_timeout=nb.cell_timeout,
            metrics=nb.metrics,
        )
        for seed, run in runs
    ]


def prepare_jobs(
    deposit: Deposit,
    m: Manifest,
    validation: Validation,
    workdir: Path,
    repeat_first: bool = True,
    fresh: int = 0,
    base: int = 0,
    smoke: bool = False,
) -> PreparedJobs:
    """All jobs of the deposit; ``fresh`` new seeds per seeded experiment when asked
    (--fresh-seeds), drawn reproducibly from ``base``."""
    noise, findings = _noise_models(deposit, m, workdir)
    jobs: list[CircuitJob] = []
    not_run: list[str] = []
    for i, c in enumerate(m.circuits):
        try:
            jobs.extend(_circuit_jobs(deposit, m, i, noise, 0 if smoke else fresh, base, smoke))
        except DepositError as exc:
            not_run.append(f"circuit {c.id} not run: {exc.one_line()}")
    notebooks: list[NotebookJob] = []
    for i, nb in enumerate(m.notebooks):
        try:
            notebooks.extend(_notebook_runs(deposit, m, i, noise, repeat_first and not smoke,
                                            0 if smoke else fresh, base, smoke))
        except DepositError as exc:
            not_run.append(f"notebook {nb.id} not run: {exc.one_line()}")
    recorded, count_findings = recorded_counts(deposit, m)
    environment, env_findings = environment_for(m)
    qasm3 = qasm3_reader_findings(deposit.root, m, list(dict.fromkeys(
        j.circuit for j in jobs if j.format == "qasm3")))
    return PreparedJobs(
        jobs=tuple(jobs),
        recorded=recorded,
        findings=(*findings, *count_findings, *env_findings, *qasm3),
        not_run=tuple(not_run),
        notebooks=tuple(notebooks),
        environment=environment,
    )


#: from this width on Aer spreads one statevector over its threads (its default
#: statevector_parallel_threshold); a narrower circuit gains more from a core of its own
AER_PARALLEL_WIDTH = 14


@dataclass(frozen=True)
class Parallelism:
    circuit_jobs: int
    aer_threads: int | None
    why: str


def parallelism(requested: int | None, cpus: int, circuits: int, plan: MemoryPlan | None,
                device: str) -> Parallelism:
    """How many circuits to simulate at once, and with how many Aer threads each.

    ``requested``: --jobs (None: as many as ``cpus``, the cores the run may use). One at a
    time on a GPU, for a single circuit, and by default once a circuit is wide enough for
    Aer to parallelise it itself; never more at once than the memory limit holds copies of
    the largest circuit. Threads split the cores between the circuits running at once, so
    that jobs x threads never over-subscribes them (Aer's counts for a seed do not depend on
    its thread count)."""
    widest = max((c.qubits or 0 for c in plan.circuits), default=0) if plan else 0
    if circuits < 2:
        return Parallelism(1, None, "one circuit")
    if device == "GPU":
        return Parallelism(1, None, "one GPU: circuits run one at a time")
    if requested is None and widest >= AER_PARALLEL_WIDTH:
        return Parallelism(1, None, f"circuits of up to {widest} qubits: Aer spreads each "
                           f"over the {plural(cpus, 'core')} itself")
    jobs, why = min(requested or cpus, circuits), f"--jobs {requested}" if requested else (
        f"{plural(cpus, 'core')}")
    if plan is not None and plan.limit_bytes and plan.largest_bytes:
        fit = max(1, plan.limit_bytes // plan.largest_bytes)
        if fit < jobs:
            jobs, why = fit, f"{why}, lowered to {fit}: the memory limit ({plan.limit_source}) "\
                f"holds {plural(fit, 'copy', 'copies')} of the largest circuit"
    if jobs < 2:
        return Parallelism(1, None, why)
    return Parallelism(jobs, max(1, cpus // jobs), why)
