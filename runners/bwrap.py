"""Run the agent of the ``local`` runner's uv venv inside a bubblewrap sandbox.

No image to build, starts in milliseconds. The sandbox sees a new root assembled from
read-only binds of only what the run needs:

* the system's programs and libraries (``/usr`` and its links, a short list of ``/etc``
  files: dynamic linker, certificates, name service, time zone; never ``/etc/shadow``,
  ``/root``, ``/home``, ``/run`` or the Docker socket),
* the venv and the Python installation it was made from, the agent,
* the deposit at ``/deposit`` (read-only) and the work directory at ``/work``, the one
  writable place; ``/tmp`` and the home directory (``/work/home``) are private.

Network, IPC, PID, UTS and cgroup namespaces are unshared (a network namespace with no
interface: even 127.0.0.1 refuses), every capability is dropped, ``--new-session``
stops terminal injection, ``--die-with-parent`` and the PID namespace end every process
of the run when the agent ends or the harness dies, and the environment is cleared to the
same short list as the ``local`` runner. Resource limits and the wall clock are those of
:mod:`runners.confine`.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, ClassVar

from harness.errors import RunnerUnavailable
from runners.base import AGENT_DIR, AGENT_ENTRY, JOB_FILE, AgentCall
from runners.local import AGENT_FLAGS, HOME_DIR, TMP_DIR, result_channel, scrubbed_env
from runners.untrusted import fresh_dir
from runners.venv import VenvRunner

DEPOSIT_MOUNT = "/deposit"
WORK_MOUNT = "/work"
AGENT_MOUNT = "/opt/qrepro/agent"
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "/etc/alternatives",
    "/etc/ca-certificates",
    "/etc/ssl",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/mime.types",
    "/etc/fonts",
)
PASSWD = "root:x:0:0:root:/work/home:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"
TMPFS_BYTES = 256 * 1024 * 1024
PROBE = [
    "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
    "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev",
    "--unshare-all", "--cap-drop", "ALL", "--die-with-parent", "--new-session", "true",
]


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def bwrap_problem() -> str | None:
    """None when bubblewrap is installed and can build a sandbox here, else why not."""
    path = bwrap_path()
    if path is None:
        return "bubblewrap is not installed (apt-get install -y bubblewrap)"
    try:
        proc = subprocess.run([path, *PROBE], capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap cannot run: {exc}"
    if proc.returncode != 0:
        return f"bwrap cannot create a sandbox here: {proc.stderr.strip() or proc.returncode}"
    return None


def _system_binds() -> list[str]:
    args: list[str] = []
    for path in SYSTEM_DIRS:
        p = Path(path)
        if p.is_symlink():
            args += ["--symlink", str(p.readlink()), path]
        elif p.is_dir():
            args += ["--ro-bind", path, path]
    for path in ETC_FILES:
        if Path(path).exists():
            args += ["--ro-bind", path, path]
    return args


def _outside_system_dirs(path: Path) -> bool:
    """Whether ``path`` needs a bind of its own (it is not under /usr, /lib, ...)."""
    return not any(path == Path(d) or Path(d) in path.parents for d in SYSTEM_DIRS)


class BwrapRunner(VenvRunner):
    """The ``local`` runner's venv, run under bubblewrap."""

    name: ClassVar[str] = "bwrap"
    sandboxed: ClassVar[bool] = True

    def prepare(self, environment: Any, deposit_root: Path, workdir: Path) -> None:
        problem = bwrap_problem()
        if problem is not None:
            raise RunnerUnavailable(f"runner bwrap: {problem}")
        super().prepare(environment, deposit_root, workdir)

    def stage_deposit(self, deposit_root: Path, workdir: Path) -> Path:
        return deposit_root  # bound read-only; no copy needed

    def agent_paths(self, deposit_root: Path, workdir: Path) -> tuple[str, str]:
        return DEPOSIT_MOUNT, WORK_MOUNT

    def bwrap_argv(
        self, deposit_root: Path, workdir: Path, passwd_fd: int, group_fd: int, result_fd: int
    ) -> list[str]:
        if self.record is None:
            raise RunnerUnavailable("the bwrap runner has no venv yet: call prepare() first")
        venv = Path(self.record.path)
        binds = ["--ro-bind", str(venv), str(venv)]
        home = Path(self.record.base_python).resolve().parent.parent  # the venv's base install
        if _outside_system_dirs(home):
            binds += ["--ro-bind", str(home), str(home)]
        env = scrubbed_env(self.python, f"{WORK_MOUNT}/{HOME_DIR}", f"{WORK_MOUNT}/{TMP_DIR}")
        env["TMPDIR"] = "/tmp"
        env["MPLCONFIGDIR"] = "/tmp/matplotlib"
        setenv = [a for k, v in sorted(env.items()) for a in ("--setenv", k, v)]
        return [
            str(bwrap_path()),
            *_system_binds(),
            "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp",  # first: binds below may lie in /tmp
            "--perms", "0644", "--file", str(passwd_fd), "/etc/passwd",
            "--perms", "0644", "--file", str(group_fd), "/etc/group",
            *binds,
            "--ro-bind", str(AGENT_DIR), AGENT_MOUNT,
            "--ro-bind", str(deposit_root), DEPOSIT_MOUNT,
            "--bind", str(workdir), WORK_MOUNT,
            "--proc", "/proc",
            "--dev", "/dev",
            "--unshare-all",
            "--cap-drop", "ALL",
            "--die-with-parent",
            "--new-session",
            "--clearenv", *setenv,
            "--chdir", WORK_MOUNT,
            "--",
            str(venv / "bin" / "python"),
            *AGENT_FLAGS,
            f"{AGENT_MOUNT}/{AGENT_ENTRY}",
            f"{WORK_MOUNT}/{JOB_FILE}",
            f"fd:{result_fd}",
        ]

    def invoke_agent(self, deposit_root: Path, workdir: Path) -> AgentCall:
        fresh_dir(workdir / HOME_DIR)
        passwd, group = _pipe_with(PASSWD), _pipe_with(GROUP)
        try:
            with result_channel(workdir) as channel:
                argv = self.bwrap_argv(deposit_root, workdir, passwd, group, channel.fileno())
                return self._confined(argv, {"PATH": "/usr/bin:/bin"}, workdir, channel,
                                      (passwd, group))
        finally:
            os.close(passwd)
            os.close(group)

    def notes(self) -> tuple[str, ...]:
        base = super().notes()
        return (*base, "bwrap runner: ran under bubblewrap (read-only host view, no network)")

    def confinement(self) -> dict[str, Any]:
        facts = super().confinement()
        facts.update({
            "sandbox": "bubblewrap: new mount, network, IPC, PID, UTS and cgroup namespaces; "
                       "all capabilities dropped; no network interface",
            "deposit": f"{DEPOSIT_MOUNT} (read-only bind)",
            "writable": f"{WORK_MOUNT} (the work directory) and a private /tmp "
                        f"({TMPFS_BYTES} bytes)",
            "host_paths_visible": [*SYSTEM_DIRS, *ETC_FILES, "the venv", "its base Python"],
        })
        return facts


def _pipe_with(text: str) -> int:
    """The read end of a pipe that holds ``text`` (small: it fits the pipe's buffer)."""
    read, write = os.pipe()
    try:
        os.write(write, text.encode())
    finally:
        os.close(write)
    return read
