"""Run the agent as a confined subprocess of a local Python interpreter.

By default that is the harness's own interpreter (runner ``host``): fast, but the deposit's
pins are not installed (the report says so and lists the versions that did run). Pass
another interpreter (``python=``) to use a prepared venv (runner ``local``).

Even unsandboxed, the deposit sees as little as a host process can be made to see:

* a **copy** of the deposit under the work directory, read-only, never the deposit itself;
* a **scrubbed environment**: PATH, LANG, a HOME and TMPDIR inside the work directory and
  PYTHONHASHSEED (plus CUDA/NVIDIA device selection for GPU runs); nothing else of the
  caller's environment (credentials in variables stay behind);
* its own session and process group, resource limits and a wall-clock limit, and the whole
  process tree killed when it ends (:mod:`runners.confine`).

What it cannot stop: the code runs with the caller's user id, so it can read what the
caller can read and write where the caller can write. The report says so
(``not-sandboxed``); use the ``bwrap`` or ``docker`` runner for a stranger's deposit.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, ClassVar

from harness.errors import AgentError, RunnerUnavailable
from harness.models import Finding, finding
from runners.base import (
    AGENT_DIR,
    AGENT_ENTRY,
    JOB_FILE,
    LOG_FILE,
    AgentCall,
    Runner,
    available_cpus,
)
from runners.confine import Outcome, ProcessLimits, run_confined
from runners.untrusted import fresh_dir, read_text

TAIL_LINES = 20
#: -E: no PYTHON* variables; -s: no user site; -S: no site module, so no .pth file of the
#: environment runs inside the agent (it adds site-packages to its path itself)
AGENT_FLAGS = ("-E", "-s", "-S")
MAX_RESULT = 64 * 1024 * 1024
DEPOSIT_COPY = "deposit"
HOME_DIR = "home"
TMP_DIR = "tmp"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
#: variables passed through when set: device selection only, never credentials
PASS_THROUGH = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return " | ".join(line for line in text.strip().splitlines()[-lines:] if line.strip())


@contextmanager
def result_channel(workdir: Path) -> Iterator[IO[bytes]]:
    """An unlinked file outside the work directory, reachable only through its descriptor:
    the agent writes its result there, where no file of the run can be planted over it."""
    with tempfile.TemporaryFile(dir=workdir.parent, prefix=".qrepro-result-") as fh:
        yield fh


def read_channel(channel: IO[bytes]) -> str:
    channel.seek(0)
    data = channel.read(MAX_RESULT + 1)
    if len(data) > MAX_RESULT:
        raise AgentError(f"the agent's result is larger than {MAX_RESULT} bytes")
    return data.decode("utf-8", errors="replace")


def scrubbed_env(python: str, home: str, tmp: str) -> dict[str, str]:
    """The whole environment the agent gets."""
    env = {
        "PATH": f"{Path(python).parent}:{SYSTEM_PATH}",
        "LANG": "C.UTF-8",
        "HOME": home,
        "TMPDIR": tmp,
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "MPLCONFIGDIR": f"{tmp}/matplotlib",
    }
    env.update({k: os.environ[k] for k in PASS_THROUGH if k in os.environ})
    return env


def copy_read_only(source: Path, dest: Path) -> Path:
    """A copy of the deposit tree (links copied as links), every entry read-only."""
    fresh_dir(dest).rmdir()
    shutil.copytree(source, dest, symlinks=True)
    for root, dirs, files in os.walk(dest):
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        for name in dirs:
            (Path(root) / name).chmod(0o555)
    dest.chmod(0o555)
    return dest


def make_writable(path: Path) -> None:
    """Undo :func:`copy_read_only` so the copy can be removed."""
    if not path.exists() or path.is_symlink():
        return
    path.chmod(0o755)
    for root, dirs, _files in os.walk(path):
        for name in dirs:
            p = Path(root) / name
            if not p.is_symlink():
                p.chmod(0o755)


class LocalRunner(Runner):
    name: ClassVar[str] = "host"
    sandboxed: ClassVar[bool] = False

    def __init__(
        self,
        python: str | None = None,
        timeout_s: float = 1800.0,
        remarks: tuple[str, ...] = (),
        limits: ProcessLimits | None = None,
    ) -> None:
        self.python = python or sys.executable
        self.limits = limits or ProcessLimits(wall_s=timeout_s)
        self.timeout_s = self.limits.wall_s
        self.remarks = remarks
        self.outcome: Outcome | None = None

    def notes(self) -> tuple[str, ...]:
        if self.python == sys.executable:
            return (
                "host runner: ran in the harness's own Python environment; the deposit's "
                "pinned requirements were not installed",
            )
        return (f"local runner: ran with {self.python}",)

    def details(self) -> dict[str, Any]:
        return {"confinement": self.confinement()}

    def findings(self) -> tuple[Finding, ...]:
        """``not-sandboxed`` once the deposit's code has run with the caller's rights."""
        if self.sandboxed or self.outcome is None:
            return ()
        return (finding(
            "not-sandboxed", "warning",
            f"runner {self.name}: the deposit's code ran with the caller's rights, not "
            "sandboxed (scrubbed environment, a copy of the deposit and resource limits "
            "only); evaluate with --runner docker or --runner bwrap for a deposit you did "
            "not write",
        ),)

    def cpus(self) -> int:
        return available_cpus(self.limits.cpus)

    def memory_limit(self) -> tuple[int | None, str]:
        """The agent's address-space limit (RLIMIT_AS: 4 x --memory, at least 8 GiB): an
        allocation past it fails inside the run, so it bounds what a simulation may hold."""
        limit = self.limits.address_space
        if limit is None:
            return None, f"runner {self.name} sets no address-space limit"
        return limit, "its address-space limit: 4 x --memory, at least 8 GiB"

    def confinement(self) -> dict[str, Any]:
        """What the agent was given and what held, for the report."""
        env = scrubbed_env(self.python, "<work>/home", "<work>/tmp")
        facts: dict[str, Any] = {
            "sandbox": "none: the deposit's code ran with the caller's user id",
            "deposit": "a read-only copy under the work directory",
            "environment_passed": sorted(env),
            "process_group": "own session; the whole tree killed at the end",
            "limits": self.limits.describe(),
        }
        if self.outcome is not None:
            facts["stray_processes_killed"] = self.outcome.leftovers_killed
        return facts

    # --- execution ----------------------------------------------------------------------

    def stage_deposit(self, deposit_root: Path, workdir: Path) -> Path:
        return copy_read_only(deposit_root, workdir / DEPOSIT_COPY)

    def agent_paths(self, deposit_root: Path, workdir: Path) -> tuple[str, str]:
        return str(workdir / DEPOSIT_COPY), str(workdir)

    def agent_command(self, workdir: Path, result_fd: int) -> list[str]:
        return [
            self.python,
            *AGENT_FLAGS,
            str(AGENT_DIR / AGENT_ENTRY),
            str(workdir / JOB_FILE),
            f"fd:{result_fd}",
        ]

    def agent_env(self, workdir: Path) -> dict[str, str]:
        home, tmp = fresh_dir(workdir / HOME_DIR), fresh_dir(workdir / TMP_DIR)
        return scrubbed_env(self.python, str(home), str(tmp))

    def invoke_agent(self, deposit_root: Path, workdir: Path) -> AgentCall:
        self.stage_deposit(deposit_root, workdir)
        try:
            with result_channel(workdir) as channel:
                argv = self.agent_command(workdir, channel.fileno())
                return self._confined(argv, self.agent_env(workdir), workdir, channel)
        finally:
            make_writable(workdir / DEPOSIT_COPY)

    def _confined(
        self,
        argv: list[str],
        env: dict[str, str],
        workdir: Path,
        channel: IO[bytes],
        pass_fds: tuple[int, ...] = (),
    ) -> AgentCall:
        log = workdir / LOG_FILE
        try:
            log.unlink(missing_ok=True)
            with log.open("xb") as fh:
                outcome = run_confined(
                    argv, cwd=workdir, env=env, log=fh, limits=self.limits, watch_dir=workdir,
                    pass_fds=(*pass_fds, channel.fileno()), on_start=self.started,
                )
        except FileNotFoundError as exc:
            raise RunnerUnavailable(f"cannot start {argv[0]}: not found") from exc
        except OSError as exc:  # not executable, a directory, ...
            raise RunnerUnavailable(f"cannot start {argv[0]}: {exc.strerror or exc}") from exc
        self.outcome = outcome
        if outcome.timed_out:
            raise AgentError(
                f"the agent ran past the {self.limits.wall_s:g} s wall-clock limit and was "
                "killed (raise it with --timeout)",
                file=str(log),
            )
        if outcome.disk_exceeded:
            raise AgentError(
                f"the run wrote more than {self.limits.disk} bytes into its work directory "
                "and was killed (raise it with --disk)",
                file=str(log),
            )
        return AgentCall(status=outcome.status, log_tail=tail(read_text(log)),
                         result=read_channel(channel))
