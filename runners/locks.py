"""Host-wide named locks, so that two evaluations never build the same thing twice at once.

A lock is an ``flock`` on a file in the user's cache directory (``~/.cache/qrepro/locks``,
or under ``$XDG_CACHE_HOME``), deliberately not under ``$QREPRO_CACHE``: what it guards
(images of the one Docker engine) is shared by every evaluation of the user, whatever
cache each uses. The kernel releases a lock when its holder dies, so a killed evaluation
never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def named_lock(name: str) -> Iterator[None]:
    """Hold the host-wide lock ``name`` (waits while another process holds it)."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    locks = (Path(xdg) if xdg else Path.home() / ".cache") / "qrepro" / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", name)
    with open(locks / f"{safe}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
