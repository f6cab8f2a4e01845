"""File access in a work directory that untrusted code could write to.

After the agent has run (in a container or a venv), anything in the work directory may be
a symlink planted by the deposit's code. The harness, possibly running as root, must not
follow one: it reads and writes there only through these helpers, which refuse links.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness.errors import AgentError

MAX_READ = 64 * 1024 * 1024


def fresh_dir(path: Path) -> Path:
    """An empty directory at ``path``: whatever was there (a link included) is removed."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)  # rmtree never follows symlinks inside the tree
    path.mkdir(parents=True)
    return path


def write_text(path: Path, text: str) -> None:
    """Create ``path`` anew (an existing file or link is removed first, never followed)."""
    path.unlink(missing_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with os.fdopen(os.open(path, flags, 0o644), "w", encoding="utf-8") as fh:
        fh.write(text)


def read_text(path: Path, limit: int = MAX_READ) -> str:
    """Read a regular file, refusing links and anything over ``limit`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise AgentError(f"cannot open the agent's file safely: {exc}", file=str(path)) from exc
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise AgentError(f"the agent's file is larger than {limit} bytes", file=str(path))
    return data.decode("utf-8", errors="replace")
