"""Run one untrusted process tree with limits, and make sure all of it is gone afterwards.

Used by the runners that start the agent as a host process (``host``, ``local``, ``bwrap``):

* the process starts in a session and process group of its own, with resource limits set
  by ``setrlimit`` before it executes (address space, file size, CPU time; processes when
  the caller is not root, since ``RLIMIT_NPROC`` does not apply to uid 0);
* a watchdog enforces a wall-clock limit and a cap on the bytes in the writable work
  directory (``RLIMIT_FSIZE`` bounds one file; the watchdog bounds them all);
* when the process ends, times out or the harness is interrupted, the whole tree is
  killed: the process group first, then every descendant that escaped it (``setsid``,
  double forks). The harness makes itself a *child subreaper* (``PR_SET_CHILD_SUBREAPER``),
  so orphans of the run are re-parented to it instead of to init and can be found and
  killed; a bwrap PID namespace (``--die-with-parent``) or a container does the same for
  the other runners.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil

from harness.units import GiB
from runners.agent.exits import ExitWatch

PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
POLL_S = 0.25
_subreaper = False


@dataclass(frozen=True)
class ProcessLimits:
    """Limits of one confined run; None leaves a limit unset."""

    wall_s: float = 1800.0
    address_space: int | None = 8 * GiB
    file_size: int | None = 2 * GiB
    cpu_s: int | None = None  # None: wall_s x cores (it cannot use more anyway)
    processes: int | None = 512
    disk: int | None = 4 * GiB
    #: cores the run may keep busy (--cpus): how many circuits it simulates at once; a
    #: host process is not held to it (the container runner is, by its CPU quota)
    cpus: float | None = None

    def cpu_limit(self) -> int:
        return self.cpu_s if self.cpu_s is not None else int(self.wall_s * (os.cpu_count() or 1))

    def describe(self) -> dict[str, Any]:
        """What held, in the report's words."""
        root = os.geteuid() == 0
        return {
            "wall_clock_s": self.wall_s,
            "address_space_bytes": self.address_space,
            "file_size_bytes": self.file_size,
            "cpu_time_s": self.cpu_limit(),
            "processes": None if root else self.processes,
            "work_dir_bytes": self.disk,
            "notes": (
                ["processes: RLIMIT_NPROC does not bind uid 0 (the harness runs as root); "
                 "the PID namespace or container bounds the tree instead"] if root else []
            ),
        }


@dataclass(frozen=True)
class Outcome:
    """How a confined run ended."""

    status: int
    timed_out: bool = False
    disk_exceeded: bool = False
    leftovers_killed: int = 0


def make_subreaper() -> bool:
    """Adopt orphaned descendants (Linux); False where the call is not available."""
    global _subreaper
    if _subreaper:
        return True
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _subreaper = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        _subreaper = False
    return _subreaper


def descendants(pid: int, exclude: Iterable[int] = ()) -> list[int]:
    """Every live descendant of ``pid``, skipping the subtrees rooted at ``exclude`` (one
    pass over the process table: psutil's recursive ``children`` cannot skip a subtree)."""
    tree: dict[int, list[int]] = {}
    for proc in psutil.process_iter(["ppid"]):
        ppid = proc.info["ppid"]  # None for a process gone or not readable
        if ppid is not None:
            tree.setdefault(ppid, []).append(proc.pid)
    skip = set(exclude)
    found: list[int] = []
    stack = [c for c in tree.get(pid, []) if c not in skip]
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(tree.get(child, []))
    return found


def kill_tree(pgid: int, exclude: Iterable[int] = (), rounds: int = 20) -> int:
    """SIGKILL the group ``pgid`` and every descendant of this process not in ``exclude``.

    Returns how many stray processes (outside the group) were killed."""
    keep = set(exclude)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    strays = 0
    for _ in range(rounds):
        pids = descendants(os.getpid(), keep)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                strays += 1
            except ProcessLookupError:
                pass
        _reap(pids)
        time.sleep(0.02)
    return strays


def _reap(pids: Iterable[int]) -> None:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def dir_bytes(path: Path, stop_at: int | None = None) -> int:
    """Bytes allocated under ``path`` (links not followed); stops counting past ``stop_at``."""
    total = 0
    stack = [str(path)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            total += st.st_blocks * 512
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
        if stop_at is not None and total > stop_at:
            break
    return total


class Watchdog:
    """The wall clock and the work-directory cap of one run, checked at each poll; every
    runner (a host process tree or a container) asks the same question."""

    def __init__(self, wall_s: float, disk: int | None, watch_dir: Path | None) -> None:
        self.deadline = time.monotonic() + wall_s
        self.disk = disk
        self.watch_dir = watch_dir
        self.timed_out = False
        self.disk_exceeded = False

    def breached(self) -> bool:
        """True (and which limit, in the attributes) once the run must be killed."""
        if time.monotonic() > self.deadline:
            self.timed_out = True
        elif (
            self.watch_dir is not None
            and self.disk is not None
            and dir_bytes(self.watch_dir, self.disk) > self.disk
        ):
            self.disk_exceeded = True
        return self.timed_out or self.disk_exceeded


def _preexec(limits: ProcessLimits) -> Any:
    def apply() -> None:
        pairs = [
            (resource.RLIMIT_AS, limits.address_space),
            (resource.RLIMIT_FSIZE, limits.file_size),
            (resource.RLIMIT_CPU, limits.cpu_limit()),
            (resource.RLIMIT_CORE, 0),
        ]
        if os.geteuid() != 0:
            pairs.append((resource.RLIMIT_NPROC, limits.processes))
        for which, value in pairs:
            if value is not None:
                resource.setrlimit(which, (value, value))
        # the harness killed outright (SIGKILL): the agent goes with it
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return apply


def run_confined(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    log: IO[bytes] | IO[str],
    limits: ProcessLimits,
    watch_dir: Path | None = None,
    pass_fds: tuple[int, ...] = (),
    on_start: Callable[[], None] | None = None,
) -> Outcome:
    """Run ``argv`` under ``limits``; whatever it started is dead when this returns.
    ``on_start`` is called once the process runs."""
    make_subreaper()
    before = set(descendants(os.getpid()))
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        pass_fds=pass_fds,
        preexec_fn=_preexec(limits),
    )
    watchdog = Watchdog(limits.wall_s, limits.disk, watch_dir)
    exits = ExitWatch(proc)
    try:
        if on_start is not None:
            on_start()
        while True:
            if (status := exits.wait(POLL_S)) is not None:
                break
            if watchdog.breached():
                os.killpg(proc.pid, signal.SIGKILL)
                status = proc.wait()
                break
    finally:
        exits.close()
        strays = kill_tree(proc.pid, before)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Outcome(status=status, timed_out=watchdog.timed_out,
                   disk_exceeded=watchdog.disk_exceeded, leftovers_killed=strays)
