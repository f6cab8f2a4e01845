"""qrepro's optional parts: what each extra of the package installs, and the one check a
command makes before it needs one, so that a missing extra is one line naming the extra and
the command that installs it (not an ImportError from deep inside)."""

from __future__ import annotations

import importlib.util
from typing import Final

from harness.errors import MissingExtra

#: extra -> the top-level modules it provides (pyproject.toml's optional-dependencies)
EXTRAS: Final[dict[str, tuple[str, ...]]] = {
    "batch": ("sqlalchemy", "alembic"),
    "cluster": ("distributed",),
    "sign": ("cryptography", "securesystemslib", "in_toto_attestation"),
    "postgres": ("psycopg",),
}


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` this interpreter cannot import (none: it is installed)."""
    return [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]


def require(extra: str, needed_for: str) -> None:
    """Raise MissingExtra when ``extra`` is not installed; ``needed_for`` names the command
    or option that needs it (``qrepro batch``, ``--sign``)."""
    absent = missing(extra)
    if absent:
        raise MissingExtra(
            f"{needed_for} needs qrepro's '{extra}' extra ({', '.join(absent)} not installed): "
            f"pip install 'qrepro[{extra}]'")
