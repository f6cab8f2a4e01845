"""The relative paths a deposit gives (a manifest field, an archive member, a file name) and
walking a deposit's tree without following links: the one place either is judged."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PureWindowsPath

from harness.errors import DepositError


def path_parts(name: str) -> tuple[str, ...]:
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


def resolves_inside(path: Path, root: Path) -> bool:
    """Whether path, with every symlink resolved, is root or lies under it (root resolved)."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError, ValueError):  # symlink loop, NUL byte, ...
        return False


def walk(root: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
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
