"""Opening a deposit safely: a directory in place, an archive extracted.

A deposit is a directory, or a ``.zip`` / ``.tar.gz`` / ``.tgz`` / ``.tar`` archive, that
holds ``qdata.yaml`` at its root; an archive may instead wrap everything in exactly one
top-level directory. The deposit is never modified: a directory is only read, in place;
an archive is extracted into a fresh directory under a caller-given work directory (the
caller owns that directory and removes it when done).

Directory deposits: symlinks are never followed out of the deposit. A symlink whose
target resolves outside the root raises :class:`~harness.errors.DepositError` naming it;
one that stays inside is tolerated but not listed (it is an alias of a listed file).
Device files, fifos and sockets are refused, and so is a name that cannot be shown on one
line as it is (a control character, a bidirectional control, bytes that are not UTF-8:
:func:`~harness.intake.paths.name_reason`), named escaped.

Archives are extracted by :mod:`harness.intake.extraction`, which trusts nothing in them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.errors import DepositError, ManifestError
from harness.intake.extraction import (
    DEFAULT_LIMITS,
    ArchiveKind,
    ArchiveLimits,
    archive_kind,
    extract_archive,
)
from harness.intake.manifest import MANIFEST_NAME
from harness.intake.paths import (
    name_reason,
    path_parts,
    resolves_inside,
    shown_name,
    unsafe_reason,
    walk,
)

# top-level entries ignored when looking for the single top-level directory of an archive
_IGNORED_TOP_LEVEL = frozenset({"__MACOSX", ".DS_Store"})


@dataclass(frozen=True)
class Deposit:
    """An opened deposit: where to read it from, and the files it holds."""

    #: what the user gave: a directory or an archive
    source: Path
    #: the directory to read from: the source directory itself, or the extraction
    root: Path
    #: ``root / qdata.yaml``
    manifest_path: Path
    #: every regular file under root, as sorted POSIX relative paths, manifest included
    files: tuple[str, ...]
    #: whether root is an extraction of an archive
    extracted: bool

    def path(self, rel: str, *, field: str | None = None) -> Path:
        """``root / rel`` for a manifest-relative POSIX path, checked to stay in the deposit.

        Rejects empty and absolute paths, ``..`` components, backslashes, control
        characters, and paths that resolve (through symlinks) outside the root, raising
        DepositError with ``file=rel`` (escaped) and ``field=field``. Whether the file
        exists is the caller's check.
        """
        reason = unsafe_reason(rel) or (None if path_parts(rel) else "empty path")
        if reason is not None:
            raise DepositError(f"unsafe path: {reason}", file=shown_name(rel), field=field)
        root = self.root.resolve()
        candidate = root.joinpath(*path_parts(rel))
        if not resolves_inside(candidate, root):
            raise DepositError(
                "path resolves outside the deposit (through a symlink)", file=rel, field=field
            )
        return candidate


def open_deposit(source: Path, workdir: Path, limits: ArchiveLimits = DEFAULT_LIMITS) -> Deposit:
    """Open a deposit: a directory in place, or an archive extracted safely under workdir.

    Raises DepositError (missing source, unknown type, outside symlink), ArchiveError
    (unsafe, corrupt or oversized archive) or ManifestError (no ``qdata.yaml``). The
    manifest is located, not parsed: use :func:`harness.intake.manifest.load_manifest` on
    ``deposit.manifest_path``.
    """
    source = Path(source)
    if source.is_dir():
        return _deposit_at(source, source.resolve(), extracted=False)
    kind = archive_kind(source)
    return _open_archive(source, kind, Path(workdir), limits)


def _deposit_at(source: Path, root: Path, *, extracted: bool) -> Deposit:
    """The Deposit rooted at an existing (resolved) directory."""
    files = deposit_files(root)
    if MANIFEST_NAME not in files:
        what = "is not a regular file" if os.path.lexists(root / MANIFEST_NAME) else "is missing"
        raise ManifestError(f"{MANIFEST_NAME} at the deposit root {what}", file=str(source))
    return Deposit(source, root, root / MANIFEST_NAME, files, extracted)


def deposit_files(root: Path) -> tuple[str, ...]:
    """Sorted regular files under root; outside symlinks, special files and names that
    cannot be shown as they are (:func:`~harness.intake.paths.name_reason`) are errors."""
    files: list[str] = []
    for rel, entry in walk(root):
        reason = name_reason(rel)
        if reason is not None:
            raise DepositError(f"unsafe file name: {reason} (qrepro refuses a name it cannot "
                               "show on one line as it is)", file=shown_name(rel))
        if entry.is_symlink():
            _check_symlink(root, rel, Path(entry.path))
        elif entry.is_file(follow_symlinks=False):
            files.append(rel)
        else:
            raise DepositError("device files, fifos and sockets are not allowed", file=rel)
    return tuple(sorted(files))


def _check_symlink(root: Path, rel: str, link: Path) -> None:
    if not resolves_inside(link, root):
        raise DepositError(
            "symlink points outside the deposit (or cannot be resolved); "
            "symlinks are never followed out of a deposit",
            file=rel,
        )


def _open_archive(
    source: Path, kind: ArchiveKind, workdir: Path, limits: ArchiveLimits
) -> Deposit:
    """Extract into a fresh directory under workdir; remove it again on any failure."""
    dest = _fresh_directory(workdir)
    try:
        extract_archive(source, kind, dest, limits)
        return _deposit_at(source, _archive_root(dest, source.name), extracted=True)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _fresh_directory(workdir: Path) -> Path:
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="deposit-", dir=workdir)).resolve()
    except OSError as exc:
        raise DepositError(
            f"cannot create an extraction directory: {exc.strerror}", file=str(workdir)
        ) from exc


def _archive_root(dest: Path, archive: str) -> Path:
    """The extraction itself, or its single top-level directory: where qdata.yaml is."""
    if (dest / MANIFEST_NAME).is_file():
        return dest
    top = [p for p in dest.iterdir() if p.name not in _IGNORED_TOP_LEVEL]
    if len(top) == 1 and top[0].is_dir() and (top[0] / MANIFEST_NAME).is_file():
        return top[0]
    raise ManifestError(
        f"no {MANIFEST_NAME} at the archive root or inside its single top-level directory",
        file=archive,
    )
