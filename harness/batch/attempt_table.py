"""What ``qrepro ledger`` shows: the latest attempt of each submission as a table on the
terminal, and every attempt as CSV. A submission's name, title and error come from the
deposit: escaped for the terminal and for a spreadsheet (harness.escaping)."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.batch.attempts import COLUMNS, STATES, Row
from harness.errors import OutputError
from harness.escaping import csv_cell, terminal
from harness.wording import plural


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value)
    return csv_cell(value) if isinstance(value, str) else str(value)


def write_csv(rows: Sequence[Row], path: Path) -> Path:
    """``rows`` as CSV at ``path``: a temporary name first, then a rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for row in rows:
                data = row.as_dict()
                writer.writerow([_cell(data[name]) for name in COLUMNS])
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror}") from exc
    return path


def _wall(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(seconds, 60)
    return f"{secs:.1f} s" if minutes == 0 else f"{int(minutes)} min {secs:02.0f} s"


def _columns(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    rows = [[terminal(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))).rstrip()
            for r in rows]


def render_table(latest: Sequence[Row], attempts: int, *, slowest: int = 5,
                 reason_width: int = 100) -> str:
    """State counts, the slowest and the failed, over the latest attempt per submission."""
    if not latest:
        return "ledger: no evaluations\n"
    lines = [f"ledger: {plural(len(latest), 'submission')}, {attempts} evaluations "
             "(latest evaluation of each submission below)", ""]
    counts = {s: sum(r.state == s for r in latest) for s in STATES}
    lines += _columns([("state", "count"), *((s, str(n)) for s, n in counts.items() if n)])
    timed = sorted((r for r in latest if r.wall_s is not None),
                   key=lambda r: r.wall_s or 0.0, reverse=True)[:slowest]
    if timed:
        lines += ["", "slowest"]
        lines += _columns([("submission", "wall", "state"),
                           *((r.submission, _wall(r.wall_s), r.state) for r in timed)])
    failed = [r for r in latest if r.state in ("error", "interrupted")]
    if failed:
        lines += ["", "failed"]
        lines += _columns([
            ("submission", "state", "reason"),
            *((r.submission, r.state, _clip(r.reason() or "(no reason recorded)", reason_width))
              for r in failed),
        ])
    return "\n".join(lines) + "\n"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."
