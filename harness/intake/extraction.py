"""Extracting a deposit archive (``.zip``, ``.tar.gz``, ``.tgz``, ``.tar``) safely.

Archive extraction trusts nothing in the archive:

* member names must be relative, without ``..``, backslashes, NUL bytes, control or
  bidirectional control characters or drive letters, and at most
  :attr:`ArchiveLimits.max_path_length` characters long (a refused name is shown escaped);
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

import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from harness.errors import ArchiveError, DepositError
from harness.intake.paths import path_parts, resolves_inside, shown_name, unsafe_reason
from harness.units import CHUNK_SIZE

#: zip members smaller than this are not ratio-checked: a small member cannot be a bomb,
#: and small files of repetitive text legitimately compress beyond any sensible ratio
RATIO_MIN_BYTES = 1 << 20
WHOLE_RATIO_MIN_BYTES = 64 << 20
#: the archive types a deposit may come as (matched case-insensitively)
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")

LINKS_MESSAGE = "links are not allowed in deposit archives"
SPECIAL_MESSAGE = "device files, fifos and sockets are not allowed in deposit archives"

# top-level entries ignored when looking for the single top-level directory of an archive
ArchiveKind = Literal["zip", "tar", "tar.gz"]

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


def archive_kind(source: Path) -> ArchiveKind:
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


def extract_archive(source: Path, kind: ArchiveKind, dest: Path, limits: ArchiveLimits) -> None:
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
            field=shown_name(name),
        )
    reason = unsafe_reason(name)
    if reason is not None:
        raise ArchiveError(f"unsafe member name: {reason}", file=archive, field=shown_name(name))
    return path_parts(name)


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
    if not resolves_inside(target.parent, dest):
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
