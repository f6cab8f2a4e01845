"""Whether the batch process that holds an attempt is still there (``Ledger.recover``)."""

from __future__ import annotations

import psutil


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host and is not a zombie."""
    if pid <= 0:
        return False
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # there, but another user's
        return True


def everyone_gone(owner: str) -> bool:
    """For ``recover`` at the start of a batch that is its ledger's only writer."""
    return False
