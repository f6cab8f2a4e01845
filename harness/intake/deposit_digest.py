"""A deposit's files as digests: the manifest's ``files`` block (``qrepro inventory``), the
deposit digest reports, attestations and the batch ledger name, and a snapshot that shows a
deposit unchanged."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterable
from pathlib import Path

from harness.intake.archive import deposit_files, open_deposit
from harness.intake.manifest import MANIFEST_NAME
from harness.intake.paths import walk
from harness.models import DEPOSIT_DIGEST_SCHEME
from harness.units import file_size_sha256

__all__ = ["DEPOSIT_DIGEST_SCHEME", "deposit_digest", "inventory", "snapshot", "tree_digest"]


def inventory(root: Path) -> list[dict[str, str | int]]:
    """The manifest's ``files`` block for the directory ``root``: path, sha256 and size of
    every regular file but ``qdata.yaml`` (``qrepro inventory``, ``qrepro init``)."""
    out: list[dict[str, str | int]] = []
    for rel in deposit_files(root):
        if rel != MANIFEST_NAME:
            size, sha256 = file_size_sha256(root / rel)
            out.append({"path": rel, "sha256": sha256, "size": size})
    return out


def tree_digest(root: Path, files: Iterable[str]) -> str:
    """The deposit digest (:data:`DEPOSIT_DIGEST_SCHEME`) of ``files`` under ``root``.

    The sha256 of the canonical JSON of the list of ``[path, size, sha256]`` of every file,
    sorted by path (code-point order: the byte order of UTF-8, ``LC_ALL=C sort``), written
    with no spaces (``separators=(",", ":")``) and every character past ASCII escaped
    (``ensure_ascii``, as ``jq -a``), so that no file name can pass for another entry::

        [["circuits/bell.qasm",48,"9f86d0..."],["qdata.yaml",9,"2c26b4..."]]

    docs/report.md#the-deposit-digest gives the recipe to recompute it without qrepro.
    """
    entries: list[list[str | int]] = []
    for rel in sorted(set(files)):
        size, sha256 = file_size_sha256(Path(root) / rel)
        entries.append([rel, size, sha256])
    text = json.dumps(entries, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def deposit_digest(source: Path, workdir: Path | None = None) -> str:
    """The deposit digest of a deposit as given, exactly as an evaluation computes
    ``deposit_sha256``: a folder read in place, an archive extracted (safely) into a
    temporary folder under ``workdir`` (the system's when None), digested and removed.

    Raises what :func:`~harness.intake.archive.open_deposit` raises (DepositError and its
    kinds) and OSError.
    """
    with tempfile.TemporaryDirectory(prefix="qrepro-digest-", dir=workdir) as tmp:
        deposit = open_deposit(Path(source), Path(tmp))
        return tree_digest(deposit.root, deposit.files)


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Relative POSIX path -> (size, sha256) of every regular file under root.

    Symlinks are neither followed nor recorded. Used by tests and by the "deposit
    unchanged" check: compare a snapshot taken before a run with one taken after.
    """
    root = Path(root)
    out: dict[str, tuple[int, str]] = {}
    for rel, entry in sorted(walk(root), key=lambda item: item[0]):
        if entry.is_file(follow_symlinks=False):
            out[rel] = file_size_sha256(Path(entry.path))
    return out
