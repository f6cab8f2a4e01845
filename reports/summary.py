"""The batch summary: summary.csv, summary.json and summary.md (a results page in the style
venues publish: submission, title, badges requested and awarded, status, time, report)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.batch.ledger import Row
from harness.models import BADGE_KEYS, BADGE_NAMES
from harness.wording import plural
from reports import write_atomic

SHORT: dict[str, str] = {"available": "A", "functional": "F", "reusable": "R", "reproduced": "RR"}


def summary_rows(rows: Sequence[Row], out: Path) -> list[dict[str, Any]]:
    table = []
    for r in sorted(rows, key=lambda r: r.submission):
        awarded = {b: v for b, v in (r.badges_awarded or {}).items()
                   if b in r.badges_requested}  # a venue badges what was asked for
        report = Path(r.report_dir) / "report.md" if r.report_dir else None
        if report is not None and not report.is_file():
            report = None
        table.append({
            "submission": r.submission,
            "title": r.title or "",
            "status": r.state,
            "requested": list(r.badges_requested),
            "awarded": [b for b in BADGE_KEYS if awarded.get(b)],
            "missing": [b for b in r.badges_requested if not awarded.get(b)],
            "wall_s": None if r.wall_s is None else round(r.wall_s, 1),
            "reason": r.reason(),
            "report": (report.relative_to(out).as_posix()
                       if report is not None and report.is_relative_to(out) else
                       str(report or "")),
            "evaluation": r.id,
        })
    return table


def counts(table: Sequence[dict[str, Any]]) -> dict[str, dict[str, int]]:
    return {b: {"requested": sum(b in t["requested"] for t in table),
                "awarded": sum(b in t["awarded"] for t in table)} for b in BADGE_KEYS}


def render_md(table: Sequence[dict[str, Any]], smoke: bool = False) -> str:
    totals = counts(table)
    states: dict[str, int] = {}
    for t in table:
        states[t["status"]] = states.get(t["status"], 0) + 1
    lines = ["# Artifact evaluation results", ""]
    if smoke:
        lines += ["Kick-the-tires run (--smoke): Artifacts Evaluated - Reusable and Results "
                  "Reproduced were not attempted.", ""]
    lines += [f"{plural(len(table), 'submission')}: " + ", ".join(f"{n} {s}" for s, n in sorted(
        states.items())), ""]
    lines += ["| badge | requested | awarded |", "|---|---|---|"]
    lines += [f"| {BADGE_NAMES[b]} | {totals[b]['requested']} | {totals[b]['awarded']} |"
              for b in BADGE_KEYS]
    lines += ["", "| submission | title | requested | awarded | status | time | report |",
              "|---|---|---|---|---|---|---|"]
    for t in table:
        req = " ".join(SHORT[b] for b in t["requested"]) or "-"
        got = " ".join(SHORT[b] for b in t["awarded"]) or "none"
        status = t["status"] + (f": {t['reason']}" if t["reason"] else "")
        wall = "-" if t["wall_s"] is None else f"{t['wall_s']:.0f} s"
        link = f"[report]({t['report']})" if t["report"] else "-"
        lines.append(f"| {t['submission']} | {_cell(t['title'])} | {req} | {got} | "
                     f"{_cell(status)} | {wall} | {link} |")
    lines += ["", "A = Artifacts Available, F = Artifacts Evaluated - Functional, "
              "R = Artifacts Evaluated - Reusable, RR = Results Reproduced (ACM v1.1).", ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(str(text).replace("|", "\\|").split())[:160]


def render_csv(table: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    fields = ["submission", "title", "status", "requested", "awarded", "missing", "wall_s",
              "reason", "report", "evaluation"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for t in table:
        writer.writerow({**t, **{k: ";".join(t[k]) for k in ("requested", "awarded",
                                                               "missing")}})
    return buffer.getvalue()


def write_summary(rows: Sequence[Row], out: Path, smoke: bool = False) -> list[Path]:
    """summary.csv, summary.json and summary.md in ``out``, each written then renamed."""
    table = summary_rows(rows, out)
    data = {"submissions": table, "badges": counts(table), "smoke": smoke}
    files = {"summary.csv": render_csv(table),
             "summary.json": json.dumps(data, indent=2) + "\n",
             "summary.md": render_md(table, smoke)}
    for name, text in files.items():
        write_atomic(out / name, text)
    return [out / name for name in files]
