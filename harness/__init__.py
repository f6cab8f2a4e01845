"""qrepro's core. Two package-wide facts live here: the version, and qrepro's own cache
directory (built environments in runners/venv.py, compiled report templates and matplotlib's
font cache in reports/): nothing an evaluation writes outside --out goes anywhere else."""

from __future__ import annotations

import os
from pathlib import Path

__version__ = "0.1.0"

CACHE_ENV = "QREPRO_CACHE"


def cache_root() -> Path:
    """``$QREPRO_CACHE``, else ``~/.cache/qrepro``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "qrepro"
