"""Run ``qrepro init`` / ``qrepro check`` as an author does: through the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def qrepro(*args: str, cwd: Path = ROOT) -> tuple[int, str]:
    """(exit code, stdout and stderr together)."""
    proc = subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, cwd=cwd, check=False)
    return proc.returncode, proc.stdout + proc.stderr
