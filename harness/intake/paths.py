"""The relative paths a deposit gives (a manifest field, an archive member, a file name) and
walking a deposit's tree without following links: the one place either is judged.

A name qrepro cannot show on one line, or that reads other than it is, is refused wherever
it comes from (:func:`name_reason`): control characters (C0, DEL, C1), the Unicode line and
paragraph separators, the bidirectional controls that reorder what a terminal shows, and
bytes that are not UTF-8. Errors name such a path escaped (:func:`shown_name`):
``results/a\\nb.json``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PureWindowsPath

from harness.errors import DepositError


def path_parts(name: str) -> tuple[str, ...]:
    """The components of a POSIX relative path, without empty and ``.`` components."""
    return tuple(part for part in name.split("/") if part not in ("", "."))


#: characters a name may not hold besides the control characters (C0, DEL, C1): line and
#: paragraph separators (a line break to ``str.splitlines``), and the bidirectional controls
#: (embeddings, overrides, isolates, marks) that make a name read other than it is
_HIDDEN = {
    "\u2028": "line separator", "\u2029": "paragraph separator",
    "\u200e": "left-to-right mark", "\u200f": "right-to-left mark",
    "\u061c": "Arabic letter mark",
    "\u202a": "left-to-right embedding", "\u202b": "right-to-left embedding",
    "\u202c": "pop directional formatting", "\u202d": "left-to-right override",
    "\u202e": "right-to-left override", "\u2066": "left-to-right isolate",
    "\u2067": "right-to-left isolate", "\u2068": "first strong isolate",
    "\u2069": "pop directional isolate",
}
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _hidden(char: str) -> bool:
    """A character a name may not hold: control, separator, bidi control, or a surrogate
    (a byte that is not UTF-8, as the file system's names decode it)."""
    code = ord(char)
    return (code < 0x20 or 0x7F <= code <= 0x9F or char in _HIDDEN
            or 0xD800 <= code <= 0xDFFF)


def name_reason(name: str) -> str | None:
    """What in a name cannot be shown on one line, or makes it read other than it is
    (``control character U+000A``, ``right-to-left override U+202E``), or None."""
    for char in name:
        if _hidden(char):
            code = ord(char)
            if 0xD800 <= code <= 0xDFFF:
                return "bytes that are not UTF-8"
            return f"{_HIDDEN.get(char, 'control character')} U+{code:04X}"
    return None


def shown_name(name: str) -> str:
    """``name`` with every character :func:`name_reason` refuses escaped, the way Python
    writes it in a string (``\\n``, ``\\x1b``, ``\\u202e``): what errors name."""
    return "".join(_escape(c) if _hidden(c) else c for c in name)


def _escape(char: str) -> str:
    code = ord(char)
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def unsafe_reason(name: str) -> str | None:
    """Why a relative path given by a deposit cannot be trusted, or None."""
    if "\x00" in name:
        return "NUL byte in path"
    hidden = name_reason(name)
    if hidden is not None:
        return f"{hidden} in path"
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
        raise DepositError(f"cannot list directory: {exc.strerror}",
                           file=shown_name(rel)) from exc
