"""ExitWatch wakes when a child ends (on its pidfd), times out while it runs, and falls back
to Popen's polling where pidfds are missing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from runners.agent.exits import ExitWatch


def _child(seconds: float, status: int = 0) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c",
                             f"import time, sys; time.sleep({seconds}); sys.exit({status})"])


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "polling"])
def test_exit_watch_returns_the_status_or_none_while_running(
        pidfd: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not pidfd:
        def missing(pid: int) -> int:
            raise OSError("no pidfd here")
        monkeypatch.setattr(os, "pidfd_open", missing)
    proc = _child(0.5, status=7)
    with ExitWatch(proc) as watch:
        assert watch.wait(0.05) is None
        assert proc.poll() is None
        assert watch.wait(30) == 7
    assert proc.returncode == 7


def test_exit_watch_waits_without_a_timeout() -> None:
    proc = _child(0.1, status=3)
    with ExitWatch(proc) as watch:
        assert watch.wait(None) == 3
