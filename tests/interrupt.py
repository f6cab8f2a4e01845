"""Interrupting `qrepro evaluate` mid-run, as Ctrl-C or a scheduler's SIGTERM would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.conftest import BASE_FILES, base_manifest, build_deposit
from tests.snoop import qrepro_command

SLOW_QASM = "\n".join([
    "OPENQASM 2.0;", 'include "qelib1.inc";', "qreg q[3];", "creg c[3];",
    *["h q[0]; cx q[0],q[1]; cx q[1],q[2]; rz(0.1) q[2];" for _ in range(2000)],
    "measure q -> c;",
])


def slow_deposit(root: Path) -> Path:
    """A deposit whose one circuit runs for minutes (many gates, noise, many shots)."""
    manifest = base_manifest()
    manifest["circuits"][0]["shots"] = 10_000_000
    manifest["circuits"][0]["method"] = "statevector"
    files = {**BASE_FILES, "circuits/ghz3.qasm": SLOW_QASM}
    return build_deposit(root, manifest, files)


def interrupt_midrun(tmp: Path, args: list[str], ready: str = "agent.log",
                     wait_s: float = 900.0, pids: list[int] | None = None
                     ) -> tuple[int, dict[str, Any], str]:
    """Start an evaluation, SIGTERM it once the agent runs; (exit code, report, stderr).
    ``pids`` receives the qrepro process's pid."""
    deposit, out = slow_deposit(tmp / "deposit"), tmp / "out"
    proc = subprocess.Popen([*qrepro_command(), "evaluate", str(deposit), "--out", str(out),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if pids is not None:
        pids.append(proc.pid)
    deadline = time.monotonic() + wait_s
    while not (out / "work" / ready).exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the agent never started"
        time.sleep(0.2)
    time.sleep(3.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, json.loads((out / "report.json").read_text()), err


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line mentions ``text``."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                    if text.encode() in fh.read():
                        found.append(int(entry.name))
            except OSError:
                continue
    return found
