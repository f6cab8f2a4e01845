"""Report writers: renderings of :class:`harness.models.Report`, never a second source of truth.

Each writer is registered under a format name; ``write_reports`` writes the requested
formats into the output directory and returns the paths written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from harness.errors import OutputError, not_found
from harness.models import Report
from reports.json_report import render_json
from reports.markdown_report import render_markdown

WRITERS: dict[str, tuple[str, Callable[[Report], str]]] = {
    "json": ("report.json", render_json),
    "md": ("report.md", render_markdown),
}


def write_reports(report: Report, out_dir: Path, formats: Iterable[str] = ("json", "md")
                  ) -> list[Path]:
    written = []
    for fmt in formats:
        if fmt not in WRITERS:
            raise not_found("report format", fmt, list(WRITERS))
        name, render = WRITERS[fmt]
        path = out_dir / name
        write_atomic(path, render(report))
        written.append(path)
    return written


def check_out_paths(out_dir: Path, formats: Iterable[str]) -> None:
    """Before anything runs: every report path is free (a link there is fine: replaced)."""
    for fmt in formats:
        if fmt in WRITERS:
            path = out_dir / WRITERS[fmt][0]
            if path.is_dir() and not path.is_symlink():
                raise OutputError("a directory stands where the report goes; remove it or "
                                  "choose another --out", file=str(path))


def write_atomic(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all: a temporary file beside it, then a rename.

    The rename replaces whatever is at ``path`` (a planted symlink included) instead of
    writing through it, and a reader never sees a half-written report."""
    if path.is_dir() and not path.is_symlink():
        raise OutputError("a directory stands where the report goes; remove it or choose "
                          "another --out", file=str(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
