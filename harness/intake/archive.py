"""Opening a deposit safely, and the file hashes everybody uses.

A deposit is a directory, or a ``.zip`` / ``.tar.gz`` / ``.tgz`` / ``.tar`` archive, that
holds ``qdata.yaml`` at its root; an archive may instead wrap everything in exactly one
top-level directory. The deposit is never modified: a directory is only read, in place;
an archive is extracted into a fresh directory under a caller-given work directory (the
caller owns that directory and removes it when done).

Directory deposits: symlinks are never followed out of the deposit. A symlink whose
target resolves outside the root raises :class:`~harness.errors.DepositError` naming it;
one that stays inside is tolerated but not listed (it is an alias of a listed file).
Device files, fifos and sockets are refused.

Archive extraction trusts nothing in the archive:

* member names must be relative, without ``..``, backslashes, NUL bytes or drive letters,
  and at most :attr:`ArchiveLimits.max_path_length` characters long;
* only regular files and directories are extracted: every link (symbolic or hard,
  wherever it points), device file and fifo is rejected; tar members also pass
  :func:`tarfile.data_filter`;
* the number of members, the declared total size and each zip member's compression ratio
  are checked before anything is written, and the bytes really written are counted again
  while extracting, so a lying header cannot get past :class:`ArchiveLimits`;
* files are created exclusively: a duplicate member is an error, never an overwrite.

Every violation raises :class:`~harness.errors.ArchiveError` with ``file`` = the archive's
name and ``field`` = the member's name, and the partial extraction is removed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import IO, Literal

from harness.errors import ArchiveError, DepositError, ManifestError
from harness.intake.manifest import MANIFEST_NAME
from harness.units import CHUNK_SIZE, file_sha256

__all__ = [
    "ARCHIVE_SUFFIXES",
    "DEFAULT_LIMITS",
    "RATIO_MIN_BYTES",
    "ArchiveLimits",
    "Deposit",
    "inventory",
    "open_deposit",
    "snapshot",
    "tree_digest",
]

#: zip members smaller than this are not ratio-checked: a small member cannot be a bomb,
#: and small files of repetitive text legitimately compress beyond any sensible ratio
RATIO_MIN_BYTES = 1 << 20
WHOLE_RATIO_MIN_BYTES = 64 << 20
#: the archive types a deposit may come as (matched case-insensitively)
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")

LINKS_MESSAGE = "links are not allowed in deposit archives"
SPECIAL_MESSAGE = "device files, fifos and sockets are not allowed in deposit archives"

# top-level entries ignored when looking for the single top-level directory of an archive
_IGNORED_TOP_LEVEL = frozenset({"__MACOSX", ".DS_Store"})

_ArchiveKind = Literal["zip", "tar", "tar.gz"]

# what reading a corrupt or unsupported archive raises; translated to ArchiveError
_READ_ERRORS = (
    tarfile.TarError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
)


@dataclass(frozen=True)
class ArchiveLimits:
    """Limits on an archive's contents, checked on its headers and again while extracting.

    ``max_ratio`` is uncompressed/compressed size of one zip member (bomb detection); it
    applies to members of at least :data:`RATIO_MIN_BYTES` bytes, and to the archive as a whole
    (declared total / archive size) once the total reaches :data:`WHOLE_RATIO_MIN_BYTES`.
    """

    max_total_bytes: int = 2 * 1024**3
    max_files: int = 20_000
    max_ratio: float = 200.0
    max_path_length: int = 1024


DEFAULT_LIMITS = ArchiveLimits()


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

        Rejects empty and absolute paths, ``..`` components, backslashes, and paths that
        resolve (through symlinks) outside the root, raising DepositError with
        ``file=rel`` and ``field=field``. Whether the file exists is the caller's check.
        """
        reason = unsafe_reason(rel) or (None if _parts(rel) else "empty path")
        if reason is not None:
            raise DepositError(f"unsafe path: {reason}", file=rel, field=field)
        root = self.root.resolve()
        candidate = root.joinpath(*_parts(rel))
        if not _resolves_inside(candidate, root):
            raise DepositError(
                "path resolves outside the deposit (through a symlink)", file=rel, field=field
            )
        return candidate


# --- public functions -------------------------------------------------------------------


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
    kind = _archive_kind(source)
    return _open_archive(source, kind, Path(workdir), limits)


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
    for rel, entry in sorted(_walk(root), key=lambda item: item[0]):
        if entry.is_file(follow_symlinks=False):
            out[rel] = (entry.stat(follow_symlinks=False).st_size, file_sha256(Path(entry.path)))
    return out


# --- paths ------------------------------------------------------------------------------


def _parts(name: str) -> tuple[str, ...]:
    """The components of a POSIX relative path, without empty and ``.`` components."""
    return tuple(part for part in name.split("/") if part not in ("", "."))


def unsafe_reason(name: str) -> str | None:
    """Why a relative path given by a deposit cannot be trusted, or None."""
    if "\x00" in name:
        return "NUL byte in path"
    if "\\" in name:
        return "backslash in path (use '/')"
    if name.startswith("/") or PureWindowsPath(name).drive:
        return "absolute path"
    if ".." in name.split("/"):
        return "'..' escapes the root"
    return None


def _resolves_inside(path: Path, root: Path) -> bool:
    """Whether path, with every symlink resolved, is root or lies under it (root resolved)."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError, ValueError):  # symlink loop, NUL byte, ...
        return False


# --- directory deposits -----------------------------------------------------------------


def _deposit_at(source: Path, root: Path, *, extracted: bool) -> Deposit:
    """The Deposit rooted at an existing (resolved) directory."""
    files = deposit_files(root)
    if MANIFEST_NAME not in files:
        what = "is not a regular file" if os.path.lexists(root / MANIFEST_NAME) else "is missing"
        raise ManifestError(f"{MANIFEST_NAME} at the deposit root {what}", file=str(source))
    return Deposit(source, root, root / MANIFEST_NAME, files, extracted)


def deposit_files(root: Path) -> tuple[str, ...]:
    """Sorted regular files under root; outside symlinks and special files are errors."""
    files: list[str] = []
    for rel, entry in _walk(root):
        if entry.is_symlink():
            _check_symlink(root, rel, Path(entry.path))
        elif entry.is_file(follow_symlinks=False):
            files.append(rel)
        else:
            raise DepositError("device files, fifos and sockets are not allowed", file=rel)
    return tuple(sorted(files))


def _check_symlink(root: Path, rel: str, link: Path) -> None:
    if not _resolves_inside(link, root):
        raise DepositError(
            "symlink points outside the deposit (or cannot be resolved); "
            "symlinks are never followed out of a deposit",
            file=rel,
        )


def _walk(root: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Every non-directory entry under root, never descending through a symlink."""
    pending = [root]
    while pending:
        for entry in _scandir(pending.pop(), root):
            if entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
            else:
                yield Path(entry.path).relative_to(root).as_posix(), entry


def _scandir(directory: Path, root: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return list(entries)
    except OSError as exc:
        rel = directory.relative_to(root).as_posix()
        raise DepositError(f"cannot list directory: {exc.strerror}", file=rel) from exc


# --- archives: opening ------------------------------------------------------------------


def _archive_kind(source: Path) -> _ArchiveKind:
    """Which archive type source is, from its name; DepositError when it is none."""
    if not source.exists():
        raise DepositError("no such file or directory", file=str(source))
    name = source.name.lower()
    if not source.is_file() or not name.endswith(ARCHIVE_SUFFIXES):
        supported = ", ".join(ARCHIVE_SUFFIXES)
        raise DepositError(
            f"not a directory or a supported archive ({supported})", file=str(source)
        )
    if name.endswith(".zip"):
        return "zip"
    return "tar" if name.endswith(".tar") else "tar.gz"


def _open_archive(
    source: Path, kind: _ArchiveKind, workdir: Path, limits: ArchiveLimits
) -> Deposit:
    """Extract into a fresh directory under workdir; remove it again on any failure."""
    dest = _fresh_directory(workdir)
    try:
        _extract(source, kind, dest, limits)
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


def _extract(source: Path, kind: _ArchiveKind, dest: Path, limits: ArchiveLimits) -> None:
    """Check and extract every member; reading errors become ArchiveError."""
    archive = source.name
    try:
        if kind == "zip":
            with zipfile.ZipFile(source) as zf:
                _unpack(_zip_members(zf, archive, limits), dest, archive, limits,
                        source.stat().st_size)
        else:
            with tarfile.open(source, "r:gz" if kind == "tar.gz" else "r:") as tar:
                _unpack(_tar_members(tar, archive, dest, limits), dest, archive, limits,
                        source.stat().st_size)
    except _READ_ERRORS as exc:
        raise ArchiveError(f"cannot extract the archive: {exc}", file=archive) from exc


# --- archives: members ------------------------------------------------------------------


@dataclass(frozen=True)
class _Member:
    """One archive member, format-independent, after its name and type were checked."""

    name: str  # as in the archive, for messages
    parts: tuple[str, ...]  # safe relative path components
    is_dir: bool
    size: int  # declared uncompressed size
    compressed: int | None  # declared compressed size (zip only)
    opener: Callable[[], IO[bytes]]


def _member_parts(name: str, archive: str, limits: ArchiveLimits) -> tuple[str, ...]:
    """The safe relative path of a member name; ArchiveError naming it when unsafe."""
    if len(name) > limits.max_path_length:
        raise ArchiveError(
            f"member name longer than {limits.max_path_length} characters",
            file=archive,
            field=name,
        )
    reason = unsafe_reason(name)
    if reason is not None:
        raise ArchiveError(f"unsafe member name: {reason}", file=archive, field=name)
    return _parts(name)


def _tar_members(
    tar: tarfile.TarFile, archive: str, dest: Path, limits: ArchiveLimits
) -> Iterator[_Member]:
    """The members of a tar, read lazily (so limits stop a huge archive early)."""
    for info in tar:
        parts = _member_parts(info.name, archive, limits)
        _check_tar_type(info, archive)
        _tar_data_filter(info, dest, archive)
        if parts or not info.isdir():  # skip the "./" entry of the root itself
            size = info.size if info.isreg() else 0
            yield _Member(info.name, parts, info.isdir(), size, None, _tar_opener(tar, info))


def _check_tar_type(info: tarfile.TarInfo, archive: str) -> None:
    if info.issym() or info.islnk():
        raise ArchiveError(LINKS_MESSAGE, file=archive, field=info.name)
    if info.ischr() or info.isblk() or info.isfifo():
        raise ArchiveError(SPECIAL_MESSAGE, file=archive, field=info.name)
    if not (info.isreg() or info.isdir()):
        raise ArchiveError(
            f"unsupported tar member type {info.type!r}", file=archive, field=info.name
        )


def _tar_data_filter(info: tarfile.TarInfo, dest: Path, archive: str) -> None:
    """The standard library's 'data' filter, as a second opinion on our own checks."""
    try:
        tarfile.data_filter(info, str(dest))
    except tarfile.FilterError as exc:
        raise ArchiveError(
            f"rejected by the tar data filter: {exc}", file=archive, field=info.name
        ) from exc


def _tar_opener(tar: tarfile.TarFile, info: tarfile.TarInfo) -> Callable[[], IO[bytes]]:
    def opener() -> IO[bytes]:
        stream = tar.extractfile(info)
        if stream is None:
            raise tarfile.ReadError(f"no data for member {info.name!r}")
        return stream

    return opener


def _zip_members(zf: zipfile.ZipFile, archive: str, limits: ArchiveLimits) -> Iterator[_Member]:
    """The members of a zip, from its central directory."""
    for info in zf.infolist():
        parts = _member_parts(info.filename, archive, limits)
        _check_zip_type(info, archive)
        if parts or not info.is_dir():
            yield _Member(
                info.filename,
                parts,
                info.is_dir(),
                info.file_size,
                info.compress_size,
                _zip_opener(zf, info),
            )


def _check_zip_type(info: zipfile.ZipInfo, archive: str) -> None:
    mode = info.external_attr >> 16  # unix st_mode, when the archiver recorded one
    if stat.S_ISLNK(mode):
        raise ArchiveError(LINKS_MESSAGE, file=archive, field=info.filename)
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise ArchiveError(SPECIAL_MESSAGE, file=archive, field=info.filename)
    if info.flag_bits & 0x1:
        raise ArchiveError("encrypted members are not supported", file=archive, field=info.filename)


def _zip_opener(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
    def opener() -> IO[bytes]:
        return zf.open(info)

    return opener


# --- archives: checking and writing -----------------------------------------------------


def _unpack(
    members: Iterable[_Member], dest: Path, archive: str, limits: ArchiveLimits, archive_bytes: int
) -> None:
    """Check all declared metadata first, then write, counting the real bytes."""
    planned = _plan(members, archive, limits)
    _check_whole_ratio(sum(m.size for m in planned), archive_bytes, archive, limits)
    meter = _Meter(archive, limits)
    for member in planned:
        _write_member(member, dest, meter)


def _plan(members: Iterable[_Member], archive: str, limits: ArchiveLimits) -> list[_Member]:
    """Members list after the count, declared total size and compression ratio checks."""
    planned: list[_Member] = []
    declared = 0
    for member in members:
        if len(planned) >= limits.max_files:
            raise ArchiveError(
                f"more than {limits.max_files} members", file=archive, field=member.name
            )
        declared += member.size
        if declared > limits.max_total_bytes:
            raise ArchiveError(
                f"declared uncompressed size exceeds {limits.max_total_bytes} bytes",
                file=archive,
                field=member.name,
            )
        _check_ratio(member, archive, limits)
        planned.append(member)
    return planned


def _check_whole_ratio(total: int, archive_bytes: int, archive: str, limits: ArchiveLimits) -> None:
    """Many small members can make a bomb that no single member's ratio shows."""
    if total < WHOLE_RATIO_MIN_BYTES:
        return
    ratio = total / max(archive_bytes, 1)
    if ratio > limits.max_ratio:
        raise ArchiveError(
            f"compression ratio {ratio:.0f}:1 of the whole archive ({total} bytes from "
            f"{archive_bytes}) exceeds {limits.max_ratio:g}:1 (an archive bomb?)",
            file=archive,
            field="(archive)",
        )


def _check_ratio(member: _Member, archive: str, limits: ArchiveLimits) -> None:
    if member.compressed is None or member.size < RATIO_MIN_BYTES:
        return
    ratio = member.size / max(member.compressed, 1)
    if ratio > limits.max_ratio:
        raise ArchiveError(
            f"compression ratio {ratio:.0f}:1 exceeds {limits.max_ratio:g}:1 (zip bomb?)",
            file=archive,
            field=member.name,
        )


def _write_member(member: _Member, dest: Path, meter: _Meter) -> None:
    """Create one directory or (exclusively) one file under dest."""
    target = dest.joinpath(*member.parts)
    if not _resolves_inside(target.parent, dest):
        raise ArchiveError(
            "member would land outside the extraction", file=meter.archive, field=member.name
        )
    try:
        if member.is_dir:
            target.mkdir(parents=True, exist_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        with member.opener() as src, target.open("xb") as dst:
            meter.copy(src, dst, member)
    except (FileExistsError, NotADirectoryError) as exc:
        raise ArchiveError(
            "member collides with an earlier member (duplicate name?)",
            file=meter.archive,
            field=member.name,
        ) from exc


class _Meter:
    """Counts the bytes really written, so a lying header cannot get past the limits."""

    def __init__(self, archive: str, limits: ArchiveLimits) -> None:
        self.archive = archive
        self.limits = limits
        self.total = 0

    def copy(self, src: IO[bytes], dst: IO[bytes], member: _Member) -> int:
        """Copy src to dst in chunks, checking each chunk before it is written."""
        written = 0
        while chunk := src.read(CHUNK_SIZE):
            written += len(chunk)
            self.total += len(chunk)
            self._check(member, written)
            dst.write(chunk)
        return written

    def _check(self, member: _Member, written: int) -> None:
        if written > member.size:
            raise ArchiveError(
                f"member holds more than the {member.size} bytes its header declares",
                file=self.archive,
                field=member.name,
            )
        if self.total > self.limits.max_total_bytes:
            raise ArchiveError(
                f"archive expands beyond {self.limits.max_total_bytes} bytes",
                file=self.archive,
                field=member.name,
            )
