"""A batch: plan (skip what the ledger has done), dispatch within the machine's budget,
move each finished attempt into place atomically, record it, write the summary."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from harness import __version__
from harness.batch.attempts import Row
from harness.batch.ledger import Ledger
from harness.batch.liveness import everyone_gone
from harness.batch.submissions import Submission
from harness.batch.worker import (
    Result,
    RunningWatch,
    Task,
    log_path,
    run_task,
    stop_all,
)
from harness.errors import QreproError
from harness.units import parse_size
from runners.host import host_available

#: seconds between looks at the running evaluations' logs (building -> running)
POLL_S = 1.0

ATTEMPTS = ".attempts"


class Executor(Protocol):
    slots: int

    def submit(self, task: Task) -> Future[Result]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Evaluations as child processes of this one, ``slots`` at a time."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="qrepro-batch")

    def submit(self, task: Task) -> Future[Result]:
        return self._pool.submit(run_task, task)

    def close(self) -> None:
        stop_all()
        self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class BatchOptions:
    out: Path
    #: ``qrepro evaluate`` options every submission gets (runner, sandbox, seeds...)
    evaluate_args: tuple[str, ...] = ()
    #: what of them decides results (the options digest)
    decisive: dict[str, Any] = field(default_factory=dict)
    jobs: int = 1
    cpus: float = 2.0
    memory: str = "2g"
    budget_s: float | None = None
    retry_failed: bool = False


def slots_for(jobs: int, cpus: float, memory: str) -> tuple[int, str]:
    """Evaluations at once: --jobs, unless the host's CPUs or memory would be
    over-subscribed by that many sandboxes of --cpus and --memory each."""
    host_cpus = os.cpu_count() or 1
    by_cpu = max(1, int(host_cpus // max(cpus, 0.01)))
    by_mem = max(1, int(host_available() // max(parse_size(memory), 1)))
    slots = max(1, min(jobs, by_cpu, by_mem))
    why = "" if slots == jobs else (
        f"--jobs {jobs} lowered to {slots}: {host_cpus} CPUs and "
        f"{host_available() / 2**30:.1f} GiB available for sandboxes of {cpus:g} CPUs "
        f"and {memory} each")
    return slots, why


def _submission_args(s: Submission) -> tuple[str, ...]:
    out: list[str] = []
    for key in ("runner", "device", "fresh_seeds", "seed"):
        if key in s.options:
            out += [f"--{key.replace('_', '-')}", str(s.options[key])]
    return tuple(out)


def plan(ledger: Ledger, subs: Sequence[Submission], options: BatchOptions
         ) -> tuple[list[tuple[Submission, int]], dict[str, int]]:
    """(submissions to evaluate with their new attempt ids, {submission: the attempt id that
    answers for it in this batch}). A done attempt with the same deposit digest and options
    is kept while its report is still the one installed (the latest attempt); an erred one
    too, unless --retry failed. The deposit digest is the report's (an archive is extracted
    under the batch's .attempts to compute it); a deposit that cannot even be read is an
    error attempt."""
    rows = ledger.all()
    latest = {r.submission: r.id for r in rows}
    final: dict[tuple[str, str | None, str, str], Row] = {}
    for row in rows:
        if row.state in ("done", "error"):
            final[(row.submission, row.deposit_digest, row.options_digest,
                   row.harness_version)] = row
    todo, answer = [], {}
    for s in subs:
        opts = s.options_digest(options.decisive)
        try:
            digest = s.digest(options.out / ATTEMPTS)
        except (QreproError, OSError) as exc:
            eval_id = ledger.queue(s.id, s.source, opts, __version__, s.badges)
            kind, message = ((exc.kind, exc.one_line()) if isinstance(exc, QreproError)
                             else ("deposit", str(exc)))
            ledger.finish(eval_id, "error", error_kind=kind,
                          error_message=f"{s.id}: {message}")
            answer[s.id] = eval_id
            continue
        found = final.get((s.id, digest, opts, __version__))
        keep = found is not None and latest.get(s.id) == found.id and (
            found.state == "done" or not options.retry_failed)
        if keep:
            assert found is not None
            answer[s.id] = found.id
            continue
        eval_id = ledger.queue(s.id, s.source, opts, __version__, s.badges,
                               deposit_digest=digest)
        todo.append((s, eval_id))
        answer[s.id] = eval_id
    return todo, answer


def install(attempt: Path, final: Path) -> None:
    """Put a finished attempt folder at ``final`` by renames only: a reader sees the old
    folder or the new one, never a half-written one."""
    trash = final.parent / ATTEMPTS / f"old-{final.name}-{os.getpid()}-{id(attempt)}"
    if final.exists():
        os.replace(final, trash)
    os.replace(attempt, final)
    shutil.rmtree(trash, ignore_errors=True)


def run_batch(subs: Sequence[Submission], options: BatchOptions, ledger: Ledger,
              executor: Executor, on_done: Callable[[Result], None] | None = None) -> list[Row]:
    """Every submission evaluated (or kept from the ledger); the row that answers for each
    submission of ``subs``, in their order."""
    options.out.mkdir(parents=True, exist_ok=True)
    ledger.recover(everyone_gone)  # this batch is its ledger's only writer
    attempts = options.out / ATTEMPTS
    shutil.rmtree(attempts, ignore_errors=True)  # what a killed batch left half-done
    attempts.mkdir()
    todo, answer = plan(ledger, subs, options)
    pending: dict[Future[Result], tuple[Submission, int]] = {}
    #: attempts still building, with their logs (which tell when they run)
    building: dict[int, RunningWatch] = {}
    queue = list(todo)
    try:
        while queue or pending:
            while queue and len(pending) < executor.slots:
                s, eval_id = queue.pop(0)
                ledger.mark(eval_id, "building")
                task = Task(s.id, str(s.source), str(attempts / f"{s.id}-{eval_id}"),
                            (*options.evaluate_args, *_submission_args(s)),
                            s.options.get("budget", options.budget_s))
                pending[executor.submit(task)] = (s, eval_id)
                building[eval_id] = RunningWatch(task.out)
            finished, _ = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
            for eval_id, watch in list(building.items()):
                if watch.started():  # the evaluation left its build phase
                    ledger.mark(eval_id, "running")
                    del building[eval_id]
            for future in finished:
                s, eval_id = pending.pop(future)
                if building.pop(eval_id, None) is not None and future.exception() is None \
                        and future.result().state == "done":
                    ledger.mark(eval_id, "running")  # ran elsewhere (a Dask worker)
                _record(ledger, options.out, s, eval_id, future)
                if on_done is not None and future.exception() is None:
                    on_done(future.result())
    finally:
        for future, (_, eval_id) in pending.items():
            future.cancel()
            ledger.finish(eval_id, "interrupted", error_kind="interrupted",
                          error_message="the batch stopped before this evaluation ended")
    rows = {r.id: r for r in ledger.all()}
    return [rows[answer[s.id]] for s in subs]


def _record(ledger: Ledger, out: Path, s: Submission, eval_id: int,
            future: Future[Result]) -> None:
    exc = future.exception()
    if exc is not None:
        ledger.finish(eval_id, "error", error_kind="batch",
                      error_message=f"{type(exc).__name__}: {exc}")
        return
    result = future.result()
    final = out / s.id
    attempt = Path(result.out)
    log = log_path(attempt)
    if log.exists():
        os.replace(log, attempt / "evaluate.log")
    install(attempt, final)
    # the digest of what was evaluated (its report's), should the deposit have changed
    # since it was planned: the ledger, the report and the summary name one digest
    values = {"badges_awarded": result.badges, "report_dir": str(final), "title": result.title,
              "error_kind": result.error_kind, "error_message": result.error_message,
              "deposit_digest": result.deposit_sha256}
    ledger.mark(eval_id, result.state, **{k: v for k, v in values.items() if v is not None})
