"""The batch summary: summary.csv, summary.json and summary.md (a results page in the style
venues publish: submission, title, badges requested and awarded, status, time, report)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from harness.escaping import csv_cell, local_href
from harness.escaping import markdown_inline as md
from harness.policies import Policy, load_policy
from harness.wording import plural
from reports import write_atomic


def venue_badges(policy: Policy, requested: Sequence[str], decisions: Mapping[str, bool]
                 ) -> tuple[list[str], list[str]]:
    """The policy's badges (ids) a submission requested and was awarded: a badge is
    requested when every qrepro decision it needs was, and a venue badges only what was
    asked for; a badge no rerun can decide is neither."""
    asked = [b.id for b in policy.badges
             if b.undecided is None and all(k in requested for k in b.requires)]
    got = [b.id for b in policy.badges if b.id in asked and not b.missing(decisions)]
    return asked, got


class Attempt(Protocol):
    """What the summary reads of one evaluation attempt (the batch ledger's ``Row``): the
    reports layer renders it without knowing the ledger."""

    @property
    def id(self) -> int: ...
    @property
    def submission(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def state(self) -> str: ...
    @property
    def badges_requested(self) -> Sequence[str]: ...
    @property
    def badges_awarded(self) -> Mapping[str, bool] | None: ...
    @property
    def report_dir(self) -> str | None: ...
    @property
    def wall_s(self) -> float | None: ...
    @property
    def deposit_digest(self) -> str | None: ...
    def reason(self) -> str: ...


def summary_rows(rows: Sequence[Attempt], out: Path, policy: Policy | None = None
                 ) -> list[dict[str, Any]]:
    policy = policy or load_policy()
    table = []
    for r in sorted(rows, key=lambda r: r.submission):
        asked, got = venue_badges(policy, r.badges_requested, r.badges_awarded or {})
        report = Path(r.report_dir) / "report.md" if r.report_dir else None
        if report is not None and not report.is_file():
            report = None
        table.append({
            "submission": r.submission,
            "title": r.title or "",
            "status": r.state,
            "requested": asked,
            "awarded": got,
            "missing": [b for b in asked if b not in got],
            "wall_s": None if r.wall_s is None else round(r.wall_s, 1),
            "reason": r.reason(),
            "report": (report.relative_to(out).as_posix()
                       if report is not None and report.is_relative_to(out) else
                       str(report or "")),
            "evaluation": r.id,
            "deposit_sha256": r.deposit_digest,
            **claims_by_provenance(Path(r.report_dir) if r.report_dir else None),
        })
    return table


def claims_by_provenance(report_dir: Path | None) -> dict[str, int | None]:
    """How many claims qrepro's replay computed and how many the deposit's code did (from
    report.json; None when there is none to read)."""
    if report_dir is None:
        return {"claims_replay": None, "claims_deposit_code": None}
    try:
        claims = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))["claims"]
        by = [str(c.get("computed_by", "replay")) for c in claims]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {"claims_replay": None, "claims_deposit_code": None}
    return {"claims_replay": by.count("replay"), "claims_deposit_code": by.count("deposit-code")}


def counts(table: Sequence[dict[str, Any]], policy: Policy) -> dict[str, dict[str, int]]:
    return {b.id: {"requested": sum(b.id in t["requested"] for t in table),
                   "awarded": sum(b.id in t["awarded"] for t in table)}
            for b in policy.badges if b.undecided is None}


def render_md(table: Sequence[dict[str, Any]], policy: Policy, smoke: bool = False) -> str:
    totals = counts(table, policy)
    names = {b.id: b.name for b in policy.badges}
    short = {b.id: b.abbreviation for b in policy.badges}
    states: dict[str, int] = {}
    for t in table:
        states[t["status"]] = states.get(t["status"], 0) + 1
    lines = ["# Artifact evaluation results", ""]
    if smoke:
        lines += ["Kick-the-tires run (--smoke): only Available and Functional were "
                  "decided; badges that need more were not attempted.", ""]
    lines += [f"{plural(len(table), 'submission')}: " + ", ".join(f"{n} {s}" for s, n in sorted(
        states.items())), ""]
    lines += ["| badge | requested | awarded |", "|---|---|---|"]
    lines += [f"| {md(names[b])} | {n['requested']} | {n['awarded']} |"
              for b, n in totals.items()]
    lines += ["", "| submission | title | requested | awarded | claims (replay / deposit code) "
              "| status | time | report |", "|---|---|---|---|---|---|---|---|"]
    for t in table:
        req = md(" ".join(short[b] for b in t["requested"]) or "-")
        got = md(" ".join(short[b] for b in t["awarded"]) or "none")
        status = t["status"] + (f": {t['reason']}" if t["reason"] else "")
        wall = "-" if t["wall_s"] is None else f"{t['wall_s']:.0f} s"
        link = f"[report]({local_href(t['report'])})" if t["report"] else "-"
        claims = ("-" if t["claims_replay"] is None
                  else f"{t['claims_replay']} / {t['claims_deposit_code']}")
        lines.append(f"| {md(t['submission'])} | {_cell(t['title'])} | {req} | {got} | "
                     f"{claims} | {_cell(status)} | {wall} | {link} |")
    lines += ["", md(", ".join(f"{short[b]} = {names[b]}" for b in totals)
                     + f" ({policy.title})."), ""]
    return "\n".join(lines)


def _cell(text: str, width: int = 160) -> str:
    """Deposit text in a cell: at most ``width`` characters of it, escaped."""
    folded = " ".join(str(text).split())
    return md(folded if len(folded) <= width else folded[: width - 3].rstrip() + "...")


def render_csv(table: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    fields = ["submission", "title", "status", "requested", "awarded", "missing", "wall_s",
              "reason", "report", "evaluation", "deposit_sha256", "claims_replay",
              "claims_deposit_code"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for t in table:
        row = {**t, **{k: ";".join(t[k]) for k in ("requested", "awarded", "missing")}}
        writer.writerow({k: csv_cell(v) if isinstance(v, str) else v for k, v in row.items()})
    return buffer.getvalue()


def write_summary(rows: Sequence[Attempt], out: Path, smoke: bool = False,
                  policy: Policy | None = None) -> list[Path]:
    """summary.csv, summary.json and summary.md in ``out``, each written then renamed."""
    policy = policy or load_policy()
    table = summary_rows(rows, out, policy)
    data = {"policy": policy.name, "submissions": table, "badges": counts(table, policy),
            "smoke": smoke}
    files = {"summary.csv": render_csv(table),
             "summary.json": json.dumps(data, indent=2) + "\n",
             "summary.md": render_md(table, policy, smoke)}
    for name, text in files.items():
        write_atomic(out / name, text)
    return [out / name for name in files]
