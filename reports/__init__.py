"""Report writers: renderings of :class:`harness.models.Report`, never a second source of truth.

Each format is registered in :data:`WRITERS` under a name with the files it writes and a
renderer. A renderer gets the report and a :class:`Context` (the output folder and the
files written before it) and returns ``{file name: text}``; ``write_reports`` writes the
requested formats in order, each file whole or not at all, and returns the paths written.
Formats that describe the others (the RO-Crate) come last.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import OutputError, not_found

if TYPE_CHECKING:  # importing reports (e.g. for a command factory) loads no model
    from harness.models import Report


@dataclass(frozen=True)
class Context:
    out_dir: Path
    #: names (relative to out_dir) of the report files written before this format
    written: tuple[str, ...] = ()


Renderer = Callable[["Report", Context], dict[str, str]]


@dataclass(frozen=True)
class Writer:
    #: the files this format writes whatever the report says (checked before anything runs)
    files: tuple[str, ...]
    #: "module:function" of the renderer, imported when the format is written
    renderer: str
    #: modules the renderer imports when it runs (warmed while the deposit runs)
    imports: tuple[str, ...] = ()
    #: modules it imports only to draw matplotlib plots (warmed only when it may draw one)
    plot_imports: tuple[str, ...] = ()

    def render(self, report: Report, context: Context) -> dict[str, str]:
        module, _, name = self.renderer.partition(":")
        render: Renderer = getattr(importlib.import_module(module), name)
        return render(report, context)


WRITERS: dict[str, Writer] = {
    "json": Writer(("report.json",), "reports.json_report:render"),
    "md": Writer(("report.md",), "reports.markdown_report:render"),
    "badges": Writer((), "reports.svg_badges:render",
                     ("reports.templating", "reports.text_metrics", "matplotlib.font_manager")),
    "html": Writer(("report.html",), "reports.html_report:render", ("reports.counts_chart",),
                   ("matplotlib.figure", "matplotlib.backends.backend_svg",
                    "matplotlib.ticker", "matplotlib.lines")),
    "junit": Writer(("report.junit.xml",), "reports.junit_report:render", ("junit_xml",)),
    # last: it describes the files written before it
    "rocrate": Writer(("ro-crate-metadata.json",), "reports.rocrate_report:render",
                      ("rocrate.rocrate", "rocrate.model")),
}
#: what ``qrepro evaluate`` writes unless --format says otherwise
DEFAULT_FORMATS: tuple[str, ...] = ("json", "md", "badges", "html", "junit", "rocrate")


def modules(formats: Iterable[str], plots: bool = True) -> tuple[str, ...]:
    """Every module the writers of ``formats`` import (to load ahead of time); without
    ``plots``, not those that only draw matplotlib plots."""
    return tuple(name for fmt in formats if fmt in WRITERS
                 for name in (WRITERS[fmt].renderer.partition(":")[0], *WRITERS[fmt].imports,
                              *(WRITERS[fmt].plot_imports if plots else ())))


def may_plot(claim_kinds: Iterable[str | None], notebooks: bool) -> bool:
    """Whether report.html may draw a matplotlib plot for these claims: every kind but
    counts has a forest plot, and notebook runs per-seed and seed-check plots (the counts
    plots are drawn from a template)."""
    return notebooks or any(kind != "counts" for kind in claim_kinds)


def write_reports(report: Report, out_dir: Path, formats: Iterable[str] = DEFAULT_FORMATS
                  ) -> list[Path]:
    written: list[Path] = []
    for fmt in formats:
        if fmt not in WRITERS:
            raise not_found("report format", fmt, list(WRITERS))
        context = Context(out_dir, tuple(p.relative_to(out_dir).as_posix() for p in written))
        for name, text in WRITERS[fmt].render(report, context).items():
            path = out_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text)
            written.append(path)
    return written


def check_out_paths(out_dir: Path, formats: Iterable[str]) -> None:
    """Before anything runs: every report path is free (a link there is fine: replaced)."""
    for fmt in formats:
        for name in WRITERS[fmt].files if fmt in WRITERS else ():
            path = out_dir / name
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
