"""qrepro's own cache directory: built environments (runners/venv.py), compiled report
templates and matplotlib's font cache (reports/). Nothing an evaluation writes outside --out
goes anywhere else."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "QREPRO_CACHE"


def cache_root() -> Path:
    """``$QREPRO_CACHE``, else ``~/.cache/qrepro``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "qrepro"
