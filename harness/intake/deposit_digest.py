"""A deposit's files as digests: the manifest's ``files`` block (``qrepro inventory``), the
deposit digest reports and attestations name, and a snapshot that shows a deposit unchanged."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from harness.intake.archive import deposit_files
from harness.intake.manifest import MANIFEST_NAME
from harness.intake.paths import walk
from harness.units import file_sha256


def inventory(root: Path) -> list[dict[str, str | int]]:
    """The manifest's ``files`` block for the directory ``root``: path, sha256 and size of
    every regular file but ``qdata.yaml`` (``qrepro inventory``, ``qrepro init``)."""
    return [
        {"path": rel, "sha256": file_sha256(root / rel), "size": (root / rel).stat().st_size}
        for rel in deposit_files(root)
        if rel != MANIFEST_NAME
    ]


def tree_digest(root: Path, files: Iterable[str]) -> str:
    """The deposit digest: sha256 of the ``sha256sum`` listing of ``files``, sorted.

    For each relative path in sorted order (code-point order, the same as ``LC_ALL=C``
    byte order for UTF-8) one line ``"<sha256 of the file>  <relative path>\\n"`` is
    hashed, exactly what ``sha256sum`` prints. For a deposit's ``files`` (every regular
    file, symlinks excluded) it can be recomputed with::

        cd ROOT && find . -type f | sed 's|^\\./||' | LC_ALL=C sort \\
            | xargs -d '\\n' sha256sum | sha256sum

    (Paths containing a newline or backslash are escaped by ``sha256sum``; they differ.)
    """
    digest = hashlib.sha256()
    for rel in sorted(set(files)):
        line = file_sha256(Path(root) / rel).encode("ascii") + b"  " + os.fsencode(rel)
        digest.update(line + b"\n")
    return digest.hexdigest()


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Relative POSIX path -> (size, sha256) of every regular file under root.

    Symlinks are neither followed nor recorded. Used by tests and by the "deposit
    unchanged" check: compare a snapshot taken before a run with one taken after.
    """
    root = Path(root)
    out: dict[str, tuple[int, str]] = {}
    for rel, entry in sorted(walk(root), key=lambda item: item[0]):
        if entry.is_file(follow_symlinks=False):
            out[rel] = (entry.stat(follow_symlinks=False).st_size, file_sha256(Path(entry.path)))
    return out
