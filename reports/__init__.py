"""Report writers: renderings of :class:`harness.models.Report`, never a second source of truth.

Each writer is registered under a format name; ``write_reports`` writes the requested
formats into the output directory and returns the paths written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from harness.errors import not_found
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
        path.write_text(render(report), encoding="utf-8")
        written.append(path)
    return written
