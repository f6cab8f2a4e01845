"""Sandbox settings for running untrusted deposits in a container.

Defaults are safe: no network, read-only root with a tmpfs for scratch, every capability
dropped, no privilege escalation, a non-root user, memory / CPU / process limits and a
wall-clock timeout. The deposit is mounted read-only; the work directory (inside the
output directory) is the only writable mount. Each setting can be changed, and the
report records the settings used.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.units import GiB, parse_size
from runners.confine import ProcessLimits

DEPOSIT_MOUNT = "/deposit"
WORK_MOUNT = "/work"
NOBODY = "65534:65534"
@dataclass(frozen=True)
class Sandbox:
    network: str = "none"
    read_only_root: bool = True
    tmpfs_size: str = "256m"
    memory: str = "2g"
    cpus: float = 2.0
    pids_limit: int = 256
    timeout_s: float = 1800.0
    disk: str = "4g"  # bytes the run may write into its work directory (watched)
    file_size: str = "2g"  # largest single file (RLIMIT_FSIZE / ulimit fsize)
    user: str | None = None  # None: nobody when the harness runs as root, else the caller
    cap_drop: tuple[str, ...] = ("ALL",)
    no_new_privileges: bool = True

    def resolved_user(self) -> str:
        if self.user is not None:
            return self.user
        if os.geteuid() == 0:
            return NOBODY
        return f"{os.geteuid()}:{os.getegid()}"

    def process_limits(self) -> ProcessLimits:
        """The same limits for the runners that start host processes."""
        return ProcessLimits(
            wall_s=self.timeout_s,
            address_space=max(parse_size(self.memory) * 4, 8 * GiB),
            file_size=parse_size(self.file_size),
            disk=parse_size(self.disk),
            cpus=self.cpus,
        )

    def describe(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "user": self.resolved_user(),
            "deposit_mount": f"{DEPOSIT_MOUNT} (read-only)",
            "writable_mount": WORK_MOUNT,
        }

    def run_kwargs(self, deposit_root: Path, workdir: Path) -> dict[str, Any]:
        """Keyword arguments for docker SDK ``containers.run``."""
        kwargs: dict[str, Any] = {
            "network_mode": self.network,
            "read_only": self.read_only_root,
            "tmpfs": {"/tmp": f"rw,noexec,nosuid,size={self.tmpfs_size}"},
            "cap_drop": list(self.cap_drop),
            "security_opt": ["no-new-privileges"] if self.no_new_privileges else [],
            "user": self.resolved_user(),
            "mem_limit": self.memory,
            "memswap_limit": self.memory,
            "nano_cpus": int(self.cpus * 1e9),
            "pids_limit": self.pids_limit,
            "ulimits": [
                {"Name": "fsize", "Soft": parse_size(self.file_size),
                 "Hard": parse_size(self.file_size)},
                {"Name": "core", "Soft": 0, "Hard": 0},
            ],
            "volumes": {
                str(deposit_root): {"bind": DEPOSIT_MOUNT, "mode": "ro"},
                str(workdir): {"bind": WORK_MOUNT, "mode": "rw"},
            },
            "working_dir": WORK_MOUNT,
            "environment": {"HOME": "/tmp", "PYTHONHASHSEED": "0"},
            # bounded logs: a deposit printing in a loop cannot fill the host's disk
            "log_config": {"type": "json-file", "config": {"max-size": "64m", "max-file": "1"}},
        }
        return kwargs

    def grant_work_dir(self, workdir: Path) -> None:
        """Let the container's user write the work directory (and nothing else)."""
        uid, gid = (int(x) for x in self.resolved_user().split(":"))
        if os.geteuid() != 0:
            return
        for path in (workdir, *workdir.rglob("*")):
            os.chown(path, uid, gid, follow_symlinks=False)
