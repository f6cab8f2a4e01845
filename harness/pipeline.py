"""The evaluation pipeline: the only place that knows the order of the phases.

    load -> validate -> prepare jobs -> execute (runner) -> compare -> decide -> report

Every phase returns frozen data from :mod:`harness.models`. Any :class:`QreproError`
ends the evaluation with a report whose status is ``error`` naming the file and field;
the deposit is only ever read, and the output directory may not lie inside it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness import __version__
from harness.badges import decide, none_awarded, smoke_only
from harness.claims import evaluate_claims, flag_discrepancies
from harness.claims.base import result
from harness.claims.bit_identity import bit_identity_findings
from harness.errors import DepositError, Interrupted, QreproError, RunnerError
from harness.intake.archive import Deposit, deposit_files, open_deposit
from harness.intake.deposit_digest import tree_digest
from harness.intake.manifest import MANIFEST_NAME, Manifest, load_manifest
from harness.intake.validate import validate
from harness.intake.versions import pinned_names, pinned_versions, version_findings
from harness.jobs import PreparedJobs, parallelism, prepare_jobs
from harness.models import (
    BadgeKey,
    CircuitRun,
    ClaimResult,
    DepositInfo,
    ErrorInfo,
    Execution,
    Finding,
    JobSpec,
    MemoryPlan,
    Person,
    Report,
    Validation,
    ValidationReport,
    finding,
)
from harness.notebook_runs import determinism_findings
from harness.policies import Policy, load_policy
from harness.wording import plural
from reports import DEFAULT_FORMATS, check_out_paths, may_plot, write_reports
from reports import modules as report_modules
from reports.attestation import ATTESTATION_NAME
from runners.base import Runner
from runners.untrusted import fresh_dir

WORK_DIR = "work"


@dataclass(frozen=True)
class Options:
    device: Literal["auto", "CPU", "GPU"] = "auto"
    seed: int = 0
    today: dt.date | None = None
    formats: tuple[str, ...] = DEFAULT_FORMATS
    #: the venue's badges (--policy): names and which decisions each needs
    policy: Policy = field(default_factory=load_policy)
    #: Ed25519 private key (--sign): the reports are attested in report.intoto.json
    sign: Path | None = None
    #: the runner's name, as the attestation records it
    runner_name: str | None = None
    #: --jobs: circuits simulated and notebooks executed at once (None: circuits one per
    #: core the runner may use, harness.jobs.parallelism; notebooks one at a time)
    jobs: int | None = None
    determinism_check: bool = True
    fresh_seeds: int = 0
    seed_policy: Literal["strict", "report"] = "strict"
    discrepancy_method: Literal["holm", "bh"] = "holm"
    #: kick the tires: one seed, few shots, Available and Functional only
    smoke: bool = False
    #: progress on stderr (never in the report): called as each phase starts
    on_phase: PhaseListener | None = None


#: told each phase as it starts: (phase, what it does), e.g. ("execute", "6 circuits")
PhaseListener = Callable[[str, str], None]


@dataclass
class _Clock:
    timings: dict[str, float] = field(default_factory=dict)
    listener: PhaseListener | None = None

    @contextmanager
    def phase(self, name: str, what: str = "") -> Iterator[None]:
        if self.listener is not None:
            self.listener(name, what)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - start, 6)


@dataclass
class _State:
    """What is known so far, so that an error report can still say it."""

    info: DepositInfo
    digest: str | None = None
    findings: tuple[Finding, ...] = ()
    manifest: Manifest | None = None
    memory: MemoryPlan | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _tool() -> dict[str, str]:
    return {"name": "qrepro", "version": __version__}


def check_out_dir(source: Path, out_dir: Path) -> None:
    src, out = source.resolve(), out_dir.resolve()
    if src.is_dir() and (out == src or src in out.parents):
        raise DepositError("the output directory must lie outside the deposit", file=str(out_dir))


def evaluate(source: Path, out_dir: Path, runner: Runner, options: Options | None = None) -> Report:
    """Evaluate one deposit and write the reports into ``out_dir``.

    Raises DepositError only when ``out_dir`` lies inside the deposit (no report can be
    written there without changing the deposit); every other failure is reported.
    """
    options = options or Options()
    check_out_dir(source, out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    check_out_paths(out_dir, options.formats)
    # an attestation left by an earlier evaluation would vouch for files it did not see
    (out_dir / ATTESTATION_NAME).unlink(missing_ok=True)
    clock = _Clock(listener=options.on_phase)
    state = _State(info=DepositInfo(source=str(source)))
    start = time.perf_counter()
    try:
        # scratch (an archive's extraction) lives under --out: nothing is written elsewhere
        with tempfile.TemporaryDirectory(prefix=".qrepro-tmp-", dir=out_dir) as tmp:
            report = _run(source, out_dir, Path(tmp), runner, options, clock, state)
    except QreproError as exc:
        report = _error_report(exc, state, clock)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the runner has stopped what it started
        interrupted = Interrupted("the evaluation was interrupted before it completed")
        report = _error_report(interrupted, state, clock, status="interrupted")
        report = report.model_copy(update={"policy": options.policy.apply(report.badges)})
        write_reports(report, out_dir, options.formats)
        raise
    total = round(time.perf_counter() - start, 6)
    report = report.model_copy(update={"timings": {**report.timings, "total": total},
                                       "policy": options.policy.apply(report.badges)})
    written = write_reports(report, out_dir, options.formats)
    if options.sign is not None:
        from reports.attestation import attest

        attest(report, out_dir, written, options.sign, _attested_options(options))
    return report


def _attested_options(options: Options) -> dict[str, Any]:
    """What the attestation records of the options that decided the result."""
    return {"runner": options.runner_name, "device": options.device, "seed": options.seed,
            "today": options.today, "jobs": options.jobs,
            "determinism_check": options.determinism_check,
            "fresh_seeds": options.fresh_seeds, "seed_policy": options.seed_policy,
            "discrepancy_method": options.discrepancy_method, "smoke": options.smoke,
            "policy": options.policy.name, "formats": options.formats}


def _load(source: Path, tmp: Path, state: _State) -> tuple[Deposit, Manifest]:
    deposit = open_deposit(source, tmp)
    state.digest = tree_digest(deposit.root, deposit.files)
    manifest = load_manifest(deposit.manifest_path, MANIFEST_NAME)
    state.manifest = manifest
    ident = manifest.identity.identifier
    state.info = DepositInfo(
        source=str(source),
        identifier=f"{ident.scheme}:{ident.value}" if ident else None,
        title=manifest.identity.title,
        version=manifest.identity.version,
        license=manifest.license.spdx,
        authors=tuple(Person(name=a.name, orcid=a.orcid, affiliation=a.affiliation)
                      for a in manifest.provenance.authors),
        files=len(deposit.files),
        bytes=sum((deposit.root / f).stat().st_size for f in deposit.files),
    )
    return deposit, manifest


def _run(
    source: Path,
    out_dir: Path,
    tmp: Path,
    runner: Runner,
    options: Options,
    clock: _Clock,
    state: _State,
) -> Report:
    today = options.today or dt.datetime.now(dt.UTC).date()
    with clock.phase("load"):
        deposit, manifest = _load(source, tmp, state)
    with clock.phase("validate"):
        validation = validate(deposit, manifest, today)
        state.findings = validation.findings
    workdir = fresh_dir(out_dir / WORK_DIR)  # nothing a previous run left is trusted
    with clock.phase("prepare"):
        prepared = prepare_jobs(
            deposit,
            manifest,
            validation,
            workdir,
            repeat_first=options.determinism_check,
            fresh=options.fresh_seeds,
            base=options.seed,
            smoke=options.smoke,
        )
        state.findings = (*validation.findings, *prepared.findings)
        # before anything is built or run: a circuit too wide for the memory it may have is
        # refused here (error kind memory), not killed for memory in the middle of the run
        state.memory = _memory_plan(runner, prepared, deposit, workdir, options)
    _refuse_unfit(state.memory)
    failure: RunnerError | None = None
    # loaded while the deposit runs: comparing, and the reports (matplotlib only for plots)
    warm = (*COMPARE_MODULES, *report_modules(options.formats, plots=may_plot(
        (c.kind for c in manifest.claims), bool(prepared.notebooks))))
    try:
        execution = _execute(runner, prepared, state.memory, deposit, workdir, options, clock,
                             warm)
    except RunnerError as exc:  # the evidence gathered so far still decides Available
        execution, failure = None, exc
    # the statistics (numpy, scipy) load here, not when the module is imported: qrepro
    # validate (check) and qrepro --help never pay for them (and _execute warmed them)
    from harness.claims.seed_sensitivity import seed_findings

    with clock.phase("compare"):
        claims = () if options.smoke else flag_discrepancies(
            evaluate_claims(manifest, execution, prepared.recorded, options.seed),
            options.discrepancy_method,
        )
    honesty, identical = ([], []) if options.smoke else bit_identity_findings(
        manifest, pinned_versions(manifest), execution, prepared.recorded
    )
    findings = (
        *state.findings,
        *runner.findings(),
        *honesty,
        *_foreign_code(execution),
        *_changed_during_run(deposit, state.digest),
        *version_findings(manifest, execution),
        *(() if options.smoke else determinism_findings(
            manifest, execution.notebooks if execution else ())),
        *seed_findings(claims, options.seed_policy),
    )
    not_run = [*prepared.not_run, *_failed_runs(execution)]
    if failure is not None:
        not_run.append(f"nothing ran: {failure.one_line()}")
    granted = _granted(manifest, validation, execution, claims, identical)
    badges = decide(findings, not_run, claims, granted)
    if options.smoke:
        badges = smoke_only(badges)
    if execution is not None:
        clock.timings["simulator"] = round(sum(r.wall_s for r in execution.circuits), 6)
        clock.timings["notebooks"] = round(sum(r.wall_s for r in execution.notebooks), 6)
    return Report(
        tool=_tool(),
        generated=_now(),
        status="complete" if failure is None else "error",
        error=_error_info(failure) if failure is not None else None,
        deposit=state.info,
        deposit_sha256=state.digest,
        badges=badges,
        claims=claims,
        findings=findings,
        circuits=_with_recorded(execution, prepared.recorded),
        notebooks=execution.notebooks if execution else (),
        environment=execution.environment.model_copy(
            update={"pinned": pinned_names(deposit.root, manifest)}) if execution else None,
        memory=state.memory,
        timings=clock.timings,
        mode="smoke" if options.smoke else "full",
    )


def _memory_plan(runner: Runner, prepared: PreparedJobs, deposit: Deposit, workdir: Path,
                 options: Options) -> MemoryPlan | None:
    """Each circuit's memory, held to the runner's limit, the machine's and the GPU's."""
    from harness.memory_plan import Limits, plan_jobs
    from runners.host import gpu_memory, host_available

    if not prepared.jobs:
        return None
    limit, where = runner.memory_limit()
    gpu = gpu_memory() if options.device == "GPU" else None
    limits = Limits(runner=limit, runner_source=where, host=host_available(), gpu=gpu)
    return plan_jobs(prepared.jobs, deposit.root, workdir, limits)


def _refuse_unfit(plan: MemoryPlan | None) -> None:
    from harness.memory_plan import refusal

    error = refusal(plan) if plan is not None else None
    if error is not None:
        raise error


def _execute(
    runner: Runner,
    prepared: PreparedJobs,
    plan: MemoryPlan | None,
    deposit: Deposit,
    workdir: Path,
    options: Options,
    clock: _Clock,
    warm: tuple[str, ...],
) -> Execution | None:
    if prepared.empty:
        return None
    with clock.phase("build", f"environment for runner {runner.name}"):
        runner.prepare(prepared.environment, deposit.root, workdir)
    with clock.phase("execute", f"{plural(len(prepared.jobs), 'circuit run')}, "
                     f"{plural(len(prepared.notebooks), 'notebook run')}"):
        spread = parallelism(options.jobs, runner.cpus(), len(prepared.jobs), plan,
                             options.device)
        job = JobSpec(
            device=options.device,
            circuits=prepared.jobs,
            notebooks=prepared.notebooks,
            jobs=options.jobs or 1,
            circuit_jobs=spread.circuit_jobs,
            aer_threads=spread.aer_threads,
        )
        listener = options.on_phase
        if listener is not None:  # the agent's "circuits 3/20" as it goes
            runner.on_progress = lambda what: listener("execute", what)
        agent_started = threading.Event()
        runner.on_started = agent_started.set
        warming = warm_imports(warm, after=agent_started)
        try:
            execution = runner.execute(job, deposit.root, workdir)
        finally:
            runner.on_progress = runner.on_started = None
            agent_started.set()
            warming.join()  # no import races the warm-up's: import locks are per module
    env = execution.environment
    how = (f"circuits simulated {env.circuit_jobs} at a time, "
           f"{plural(env.aer_threads or 1, 'Aer thread')} each" if env.circuit_jobs > 1
           else "circuits simulated one at a time")
    note = f"{how} ({spread.why})" if prepared.jobs else None
    return execution.model_copy(update={"environment": env.model_copy(
        update={"notes": (*env.notes, note)})}) if note else execution


#: what the compare phase imports (numpy, scipy): loaded while the deposit runs
COMPARE_MODULES = ("harness.stats.compare", "harness.stats.chisquare", "harness.stats.metrics",
                   "harness.stats.seed_robustness")


#: longest wait for the agent's start before the warm-up imports begin anyway
AGENT_START_WAIT_S = 2.0


def warm_imports(names: tuple[str, ...], after: threading.Event | None = None
                 ) -> threading.Thread:
    """Import ``names`` in a thread while the agent runs, so that the harness's own start-up
    cost (statistics, plotting: seconds) overlaps the agent's (Python, qiskit) instead of
    following it. With ``after``, the imports wait for it (the agent has started: importing
    while the runner stages the deposit and starts the agent delayed the start by 50-80 ms,
    the two threads taking turns at the GIL), at most AGENT_START_WAIT_S. A module that
    fails here fails again, with its error, where it is used."""
    def load() -> None:
        if after is not None:
            after.wait(AGENT_START_WAIT_S)
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # reported where the module is used
                continue

    thread = threading.Thread(target=load, name="qrepro-warm-imports", daemon=True)
    thread.start()
    return thread


def _changed_during_run(deposit: Deposit, digest: str | None) -> tuple[Finding, ...]:
    """The deposit's bytes once more, after everything it ran is gone."""
    try:
        now = tree_digest(deposit.root, deposit_files(deposit.root))
    except (OSError, DepositError) as exc:  # a planted link, fifo, unreadable file
        now = f"unreadable: {exc}"
    if digest is None or now == digest:
        return ()
    return (
        finding(
            "deposit-changed",
            "error",
            "the deposit's files changed while it was being evaluated (files added, removed "
            "or edited since they were checksummed); its checksums cannot be certified",
            blocks=("available",),
        ),
    )


def _foreign_code(execution: Execution | None) -> tuple[Finding, ...]:
    """Circuits during whose replay code from outside the verified stack was loaded (the
    agent reports them as failed runs, error_type foreign-code): not results."""
    runs = [r for r in execution.circuits if r.error_type == "foreign-code"] if execution \
        else []
    return tuple(finding(
        "foreign-code-in-replay", "error", f"circuit {r.id}: {r.error}",
        blocks=("functional", "reusable", "reproduced")) for r in runs)


def _with_recorded(execution: Execution | None, recorded: dict[str, dict[str, int]]
                   ) -> tuple[CircuitRun, ...]:
    """The runs, each recorded run beside the counts the deposit recorded for it."""
    if execution is None:
        return ()
    return tuple(r.model_copy(update={"recorded": recorded.get(r.circuit or r.id)})
                 if r.role == "recorded" else r for r in execution.circuits)


def _failed_runs(execution: Execution | None) -> list[str]:
    if execution is None:
        return []
    return [f"circuit {r.id} failed: {r.error}" for r in execution.circuits if not r.ok] + [
        f"notebook {r.id} (seed {r.seed}) failed: {r.error}"
        for r in execution.notebooks
        if not r.ok
    ]


def _granted(
    m: Manifest,
    v: Validation,
    execution: Execution | None,
    claims: tuple[ClaimResult, ...],
    identical: list[str],
) -> dict[BadgeKey, list[str]]:
    ident = m.identity.identifier
    embargo = m.license.embargo_until
    device = execution.environment.device if execution else None
    return {
        "available": [
            f"persistent identifier {ident.scheme}:{ident.value}" if ident else "",
            f"open license {m.license.spdx}",
            f"embargo ended {embargo.isoformat()}" if embargo else "no embargo",
            f"{len(v.verified_files)} inventoried files verified by size and sha256",
        ],
        "functional": [
            *([f"{plural(len(m.circuits), 'circuit')} ran on Aer ({device or 'no device'})"]
              if m.circuits else []),
            *([f"{plural(len(m.notebooks), 'notebook')} ran for every recorded seed"]
              if m.notebooks else []),
        ],
        "reusable": [
            "authors, affiliations and institution stated",
            f"{plural(len(m.environment.requirements), 'requirement')} pinned exactly"
            if m.environment.requirements
            else "lock file deposited",
            *([("every circuit records its seeds"
                + (f"; the recorded counts of {plural(len(identical), 'circuit')} reproduced "
                   "bit for bit with them" if identical else ""))] if m.circuits else []),
            *([f"{plural(len(m.noise_models), 'noise model')} deposited and valid"]
              if m.noise_models else []),
        ],
        "reproduced": ["the claim passes" if len(claims) == 1
                       else f"every claim passes ({plural(len(claims), 'claim')})"],
    }


def _error_info(exc: QreproError) -> ErrorInfo:
    return ErrorInfo(kind=exc.kind, message=exc.message, file=exc.file, field=exc.field)


def _error_report(
    exc: QreproError,
    state: _State,
    clock: _Clock,
    status: Literal["error", "interrupted"] = "error",
) -> Report:
    error = _error_info(exc)
    claims = tuple(
        result(c, "error", f"not evaluated: {exc.one_line()}")
        for c in (state.manifest.claims if state.manifest else ())
    )
    return Report(
        tool=_tool(),
        generated=_now(),
        status=status,
        error=error,
        deposit=state.info,
        deposit_sha256=state.digest,
        claims=claims,
        badges=none_awarded(f"evaluation failed: {exc.one_line()}"),
        findings=state.findings,
        memory=state.memory,
        timings=clock.timings,
    )


def check(source: Path, options: Options | None = None) -> ValidationReport:
    """Load and validate only (no execution): ``qrepro validate``."""
    options = options or Options()
    state = _State(info=DepositInfo(source=str(source)))
    today = options.today or dt.datetime.now(dt.UTC).date()
    try:
        with tempfile.TemporaryDirectory(prefix="qrepro-") as tmp:
            deposit, manifest = _load(source, Path(tmp), state)
            validation = validate(deposit, manifest, today)
            prepared = prepare_jobs(deposit, manifest, validation, Path(tmp) / WORK_DIR)
    except QreproError as exc:
        return ValidationReport(
            tool=_tool(),
            generated=_now(),
            status="error",
            error=_error_info(exc),
            deposit=state.info,
            deposit_sha256=state.digest,
        )
    return ValidationReport(
        tool=_tool(),
        generated=_now(),
        status="complete",
        deposit=state.info,
        deposit_sha256=state.digest,
        findings=(*validation.findings, *prepared.findings),
    )
