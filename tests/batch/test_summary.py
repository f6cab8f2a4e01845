"""reports.summary over rows of a real ledger: what the results page links to and counts."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.batch.attempts import Row
from harness.batch.ledger import Ledger
from reports.summary import write_summary

ALL = ("available", "functional", "reusable", "reproduced")


def attempt(ledger: Ledger, sid: str, out: Path, requested: tuple[str, ...] = ALL,
            awarded: dict[str, bool] | None = None, error: str | None = None) -> Row:
    eval_id = ledger.queue(sid, f"subs/{sid}", "opts", "0.1.0", requested, title=f"Paper {sid}")
    ledger.mark(eval_id, "building", deposit_digest="d" * 64)
    ledger.mark(eval_id, "running")
    folder = out / sid
    folder.mkdir(parents=True)
    (folder / "evaluate.log").write_text("")
    if error is None:
        (folder / "report.md").write_text("# report\n")
        (folder / "report.json").write_text("{}\n")
        return ledger.finish(eval_id, "done", badges_awarded=awarded or dict.fromkeys(ALL, True),
                             report_dir=folder)
    return ledger.finish(eval_id, "error", report_dir=folder, error_kind=error,
                         error_message="the evaluation ran past its budget of 2 s")


def test_summary_files_are_written_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Ledger.for_dir(out) as ledger:
        attempt(ledger, "p1", out, awarded={"available": True, "functional": True,
                                            "reusable": False, "reproduced": False})
        files = write_summary(ledger.latest(), out)
    assert [f.name for f in files] == ["summary.csv", "summary.json", "summary.md"]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    data = json.loads((out / "summary.json").read_text())
    assert data["submissions"][0]["awarded"] == ["available", "functional"]
    assert data["submissions"][0]["missing"] == ["reusable", "reproduced"]
    assert "| p1 | Paper p1 | A F R RR | A F | - | done |" in (out / "summary.md").read_text()


def test_the_summary_counts_claims_by_who_computed_them(tmp_path: Path) -> None:
    from reports.summary import claims_by_provenance

    (tmp_path / "report.json").write_text(json.dumps({"claims": [
        {"id": "a", "computed_by": "replay"}, {"id": "b", "computed_by": "deposit-code"},
        {"id": "c", "computed_by": "replay"}]}))
    assert claims_by_provenance(tmp_path) == {"claims_replay": 2, "claims_deposit_code": 1}
    assert claims_by_provenance(tmp_path / "none") == {"claims_replay": None,
                                                       "claims_deposit_code": None}


def test_summary_links_only_reports_that_exist(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Ledger.for_dir(out) as ledger:
        attempt(ledger, "ok", out)
        attempt(ledger, "slow", out, error="timeout")
        write_summary(ledger.latest(), out)
    md = (out / "summary.md").read_text()
    for link in re.findall(r"\[report\]\(([^)]+)\)", md):
        assert (out / link).is_file(), f"summary.md links to a missing {link}"
    for row in json.loads((out / "summary.json").read_text())["submissions"]:
        assert not row["report"] or (out / row["report"]).is_file(), row


def test_summary_awards_only_requested_badges(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Ledger.for_dir(out) as ledger:
        attempt(ledger, "p1", out, requested=("available", "functional"))
        write_summary(ledger.latest(), out)
    data = json.loads((out / "summary.json").read_text())
    assert data["submissions"][0]["awarded"] == ["available", "functional"]
    for badge, n in data["badges"].items():
        assert n["awarded"] <= n["requested"], badge
