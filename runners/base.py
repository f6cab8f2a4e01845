"""The one base class every execution backend derives from.

A :class:`Runner` prepares an environment for a deposit, then executes a job in it by
handing the in-environment agent (``runners/agent/``) a ``job.json`` and reading back the
``result.json`` it writes. ``execute`` is a template method: subclasses only say how the
agent is invoked (:meth:`Runner.invoke_agent`) and where the deposit and work directory
appear to it (:meth:`Runner.agent_paths`). The pipeline receives a runner; it never
constructs one (``harness.cli`` resolves names through :mod:`runners.registry`).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

from pydantic import ValidationError

from harness.errors import AgentError, RunnerUnavailable
from harness.intake.manifest import Environment
from harness.models import (
    CircuitRun,
    Execution,
    Finding,
    JobSpec,
    NotebookRun,
    RunEnvironment,
)
from runners.untrusted import read_text, write_text

AGENT_DIR = Path(__file__).parent / "agent"
AGENT_ENTRY = "replay.py"
JOB_FILE = "job.json"
RESULT_FILE = "result.json"
LOG_FILE = "agent.log"
FATAL_STATUS = 3


@dataclass(frozen=True)
class AgentCall:
    """How one agent invocation ended."""

    status: int
    log_tail: str
    #: what the agent sent through its private result channel; None: read result.json
    #: (the fake runner writes it; real runners always pass the channel's text)
    result: str | None = None


class Runner(ABC):
    """Prepare an environment, execute jobs in it, close."""

    name: ClassVar[str] = "base"
    #: False: the deposit's code runs with the caller's rights (the report says so)
    sandboxed: ClassVar[bool] = False
    #: extra sentences for the report (e.g. why runner auto chose this runner)
    remarks: tuple[str, ...] = ()
    #: told the agent's progress while it runs ("circuits 3/20"); never in a report
    on_progress: Callable[[str], None] | None = None
    #: called once the agent's process has started (each backend calls :meth:`started`):
    #: the harness then loads what it needs afterwards, on the cores the agent's start-up
    #: leaves idle, instead of slowing the agent's launch
    on_started: Callable[[], None] | None = None

    def started(self) -> None:
        """The agent is running: tell ``on_started``."""
        if self.on_started is not None:
            self.on_started()

    def prepare(  # noqa: B027
        self, environment: Environment, deposit_root: Path, workdir: Path
    ) -> None:
        """Build or check the environment. The default has nothing to build."""

    def agent_paths(self, deposit_root: Path, workdir: Path) -> tuple[str, str]:
        """Where the deposit and the work directory appear to the agent."""
        return str(deposit_root), str(workdir)

    @abstractmethod
    def invoke_agent(self, deposit_root: Path, workdir: Path) -> AgentCall:
        """Run the agent on ``workdir/job.json``; it writes ``workdir/result.json``."""

    def notes(self) -> tuple[str, ...]:
        """Facts about this runner the report should state."""
        return ()

    def details(self) -> dict[str, Any]:
        """Structured facts for the report (image, sandbox settings, ...)."""
        return {}

    def stack_index(self) -> dict[str, tuple[str, str]]:
        """Replay-stack distribution (canonical name) -> (file name, sha256) as the package
        index gave them when the environment was resolved; empty when nothing was resolved."""
        return {}

    def findings(self) -> tuple[Finding, ...]:
        """What the report should flag about how this runner built and ran the deposit."""
        return ()

    def cpus(self) -> int:
        """Cores the run may keep busy (harness.jobs.parallelism spreads circuits on them)."""
        return available_cpus()

    def memory_limit(self) -> tuple[int | None, str]:
        """The memory the run may use, in bytes, and where that limit comes from, in words
        (harness.memory_plan compares each circuit's estimate with it before anything runs).
        None: this runner sets none (the machine's free memory still bounds the run)."""
        return None, f"runner {self.name} sets no memory limit"

    def agent_log_tail(self, workdir: Path) -> str:
        """The end of the agent's log so far (its progress lines are read from it)."""
        try:
            with (workdir / LOG_FILE).open("rb") as fh:
                fh.seek(0, 2)
                fh.seek(max(0, fh.tell() - 4096))
                return fh.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def execute(self, job: JobSpec, deposit_root: Path, workdir: Path) -> Execution:
        workdir.mkdir(parents=True, exist_ok=True)
        deposit_root, workdir = deposit_root.resolve(), workdir.resolve()
        (workdir / RESULT_FILE).unlink(missing_ok=True)
        seen_root, seen_work = self.agent_paths(deposit_root, workdir)
        payload = job.model_dump(mode="json") | {"deposit_root": seen_root, "work_dir": seen_work}
        write_text(workdir / JOB_FILE, json.dumps(payload, indent=1))
        start = time.perf_counter()
        with follow_progress(self, workdir):
            call = self.invoke_agent(deposit_root, workdir)
        wall = time.perf_counter() - start
        return self._read_result(workdir, call, wall)

    def close(self) -> None:  # noqa: B027
        """Release what prepare() acquired. The default holds nothing."""

    def __enter__(self) -> Runner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _read_result(self, workdir: Path, call: AgentCall, wall: float) -> Execution:
        path = workdir / RESULT_FILE
        if call.result is not None:  # evidence for the committee; never read back
            write_text(path, call.result)
        if call.result == "" or (
            call.result is None and not path.exists() and not path.is_symlink()
        ):
            raise AgentError(
                f"the agent exited with status {call.status} and wrote no result; "
                f"last lines: {call.log_tail or '(none)'}",
                file=str(workdir / LOG_FILE),
            )
        if call.status not in (0, FATAL_STATUS):
            raise AgentError(
                f"the agent ended with status {call.status} (killed by a signal or crashed), "
                "so the result file it left is not trusted; last lines: "
                f"{call.log_tail or '(none)'}",
                file=str(workdir / LOG_FILE),
            )
        try:
            data: Any = json.loads(call.result if call.result is not None else read_text(path))
        except ValueError as exc:  # ValueError: JSONDecodeError, UnicodeDecodeError
            raise AgentError(f"unreadable agent result: {exc}", file=str(path)) from exc
        if not isinstance(data, dict):
            raise AgentError(
                f"malformed agent result: expected a JSON object, got {type(data).__name__}",
                file=str(path),
            )
        if data.get("fatal") and data.get("fatal_kind") == "stack":
            raise AgentError(str(data["fatal"]), file=str(path))
        if data.get("fatal"):
            raise RunnerUnavailable(str(data["fatal"]), file=str(path))
        try:
            env = RunEnvironment(runner=self.name, **_with_index(data["environment"],
                                                                 self.stack_index()))
            env = env.model_copy(
                update={
                    "notes": (*self.remarks, *self.notes(), *env.notes),
                    "details": self.details(),
                }
            )
            runs = tuple(CircuitRun.model_validate(c) for c in data["circuits"])
            notebooks = tuple(NotebookRun.model_validate(n) for n in data.get("notebooks", []))
        except (KeyError, TypeError, ValidationError) as exc:
            raise AgentError(f"malformed agent result: {exc}", file=str(path)) from exc
        return Execution(environment=env, circuits=runs, notebooks=notebooks, wall_s=wall)


def _with_index(environment: Any, index: dict[str, tuple[str, str]]) -> Any:
    """The agent's environment, each stack entry given the wheel and sha256 the index gave."""
    if not index or not isinstance(environment, dict) or \
            not isinstance(environment.get("stack"), list):
        return environment
    stack = []
    for entry in environment["stack"]:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            hit = index.get(re.sub(r"[-_.]+", "-", entry["name"]).lower())
            if hit is not None:
                entry = {**entry, "wheel": hit[0], "index_sha256": hit[1]}
        stack.append(entry)
    return {**environment, "stack": stack}


#: how the agent marks a progress line in its log (runners/agent/replay.py)
PROGRESS_MARK = "qrepro-progress:"
#: seconds between looks at the agent's log
PROGRESS_POLL_S = 0.5


def last_progress(log: str) -> str | None:
    """The agent's latest progress line in ``log`` ("circuits 3/20"), if any."""
    for line in reversed(log.splitlines()):
        if line.startswith(PROGRESS_MARK):
            return line[len(PROGRESS_MARK):].strip()[:80]
    return None


@contextmanager
def follow_progress(runner: Runner, workdir: Path) -> Iterator[None]:
    """While the agent runs, tell ``runner.on_progress`` each new progress line."""
    listener = runner.on_progress
    if listener is None:
        yield
        return
    stop = threading.Event()

    def follow() -> None:
        seen: str | None = None
        while not stop.wait(PROGRESS_POLL_S):
            now = last_progress(runner.agent_log_tail(workdir))
            if now is not None and now != seen:
                seen = now
                listener(now)

    thread = threading.Thread(target=follow, name="qrepro-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def available_cpus(limit: float | None = None) -> int:
    """The cores this process may run on, at most ``limit`` (a CPU quota such as --cpus)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, int(limit))) if limit is not None else max(1, cores)
