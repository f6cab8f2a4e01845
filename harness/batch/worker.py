"""One evaluation of one submission, in its own process: ``qrepro evaluate`` with the batch's
options, into a fresh attempt folder, within a time budget. The same function runs on this
machine (--jobs) and on a Dask worker (--cluster)."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from runners.agent.exits import ExitWatch

PR_SET_PDEATHSIG = 1
#: evaluations running now (stop_all ends them when the batch is interrupted)
_LIVE: set[subprocess.Popen[bytes]] = set()
_LIVE_LOCK = threading.Lock()
#: seconds an evaluation gets to clean up (containers, processes) after SIGTERM
GRACE_S = 30.0
LOG_NAME = "evaluate.log"


@dataclass(frozen=True)
class Task:
    submission: str
    source: str
    out: str
    args: tuple[str, ...] = ()
    budget_s: float | None = None


@dataclass(frozen=True)
class Result:
    submission: str
    state: Literal["done", "error", "interrupted"]
    out: str
    wall_s: float
    badges: dict[str, bool] | None = None
    title: str | None = None
    deposit_sha256: str | None = None
    error_kind: str | None = None
    error_message: str | None = None


#: resolved here, not in the forked child (dlopen after fork with threads can deadlock)
_PRCTL = ctypes.CDLL(None).prctl
_PARENT = os.getpid()


def _dies_with_parent() -> None:
    """In the child: SIGTERM when the batch process dies (even by SIGKILL), so that the
    evaluation stops, cleans up and is re-run when the batch is started again."""
    _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != _PARENT:  # the batch died before prctl took effect
        os._exit(1)


def command(task: Task) -> list[str]:
    """``qrepro evaluate`` with plain progress: its log says which phase it is in."""
    return [sys.executable, "-m", "harness", "evaluate", task.source, "--out", task.out,
            *task.args, "--progress", "plain"]


def log_path(out: str | Path) -> Path:
    """Where an attempt's output goes while it runs (beside the attempt folder)."""
    out = Path(out)
    return out.parent / f"{out.name}.{LOG_NAME}"


class RunningWatch:
    """Whether the evaluation writing into ``out`` has left its build phase: its plain
    progress log shows the execute phase, or a later one. Each look reads only what the log
    gained since the last (a build can log a great deal, and the batch looks every second)."""

    PHASES = ("] execute", "] compare")
    #: kept from the last read, so that a phase mark split across two reads is still found
    KEEP = 32

    def __init__(self, out: str | Path) -> None:
        self.path = log_path(out)
        self.offset = 0
        self.tail = ""

    def started(self) -> bool:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                new = fh.read()
        except OSError:
            return False
        self.offset += len(new)
        text = self.tail + new.decode("utf-8", errors="replace")
        if any(phase in text for phase in self.PHASES):
            return True
        self.tail = text[-self.KEEP:]
        return False


def run_task(task: Task) -> Result:
    """Evaluate; never raises for a failed evaluation (its Result says what happened)."""
    out = Path(task.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log_path(out).open("wb") as log:
        proc = subprocess.Popen(command(task), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True,
                                preexec_fn=_dies_with_parent)
        with _LIVE_LOCK:
            _LIVE.add(proc)
        try:
            with ExitWatch(proc) as exits:
                ended = exits.wait(task.budget_s) is not None
            if not ended:
                _stop(proc)
                return Result(task.submission, "error", task.out, time.monotonic() - start,
                              error_kind="timeout",
                              error_message=f"the evaluation ran past its budget of "
                              f"{task.budget_s:g} s and was stopped")
        except BaseException:
            _stop(proc)
            raise
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(proc)
    return read_result(task, proc.returncode, time.monotonic() - start)


def stop_all() -> None:
    """Stop every evaluation this process started (Ctrl-C or SIGTERM of the batch); each
    cleans up its containers and processes and reports status interrupted."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    threads = [threading.Thread(target=_stop, args=(p,)) for p in live]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the evaluation removes its containers and processes), then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            if sig == signal.SIGTERM:  # its process group may still hold stragglers
                os.killpg(proc.pid, signal.SIGKILL)
            return
        except (subprocess.TimeoutExpired, ProcessLookupError):
            continue


def read_result(task: Task, returncode: int, wall_s: float) -> Result:
    report = Path(task.out) / "report.json"
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log = log_path(task.out)
        tail = _tail(log)
        return Result(task.submission, "error", task.out, wall_s, error_kind="crash",
                      error_message=f"qrepro evaluate exited {returncode} without a report"
                      + (f": {tail}" if tail else ""))
    status = data.get("status")
    error = data.get("error") or {}
    state: Literal["done", "error", "interrupted"] = (
        "done" if status == "complete" else "interrupted" if status == "interrupted"
        else "error")
    badges = data.get("badges") or {}
    return Result(
        task.submission, state, task.out, wall_s,
        badges={k: bool(badges.get(k)) for k in ("available", "functional", "reusable",
                                                  "reproduced")} if state == "done" else None,
        title=(data.get("deposit") or {}).get("title"),
        deposit_sha256=data.get("deposit_sha256"),
        error_kind=error.get("kind"),
        error_message=_one_line(error),
    )


def _one_line(error: dict[str, Any]) -> str | None:
    if not error:
        return None
    where = ": ".join(str(p) for p in (error.get("file"), error.get("field")) if p)
    return f"{where}: {error.get('message')}" if where else str(error.get("message"))


def _tail(log: Path, lines: int = 3) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])
