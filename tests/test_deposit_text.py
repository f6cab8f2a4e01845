"""Deposit text in every output (issue #26): a title, file names, error texts and finding
messages that try Markdown and HTML injection, CSV formulas and terminal escapes change
no report's structure, no spreadsheet cell and nothing on the terminal. Each hostile run is
compared with the same deposit carrying innocent text (FakeRunner evaluations)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from harness.batch.attempt_table import render_table, write_csv
from harness.batch.attempts import Row
from harness.cli import cli
from harness.console.progress import PhaseReporter, Reporter
from harness.models import CircuitJob, CircuitRun, Report
from harness.pipeline import Options, evaluate
from reports.junit_report import junit_text
from reports.summary import write_summary
from runners.fake import FakeRunner
from tests.conftest import BASE_FILES, base_manifest, build_deposit

ESCAPES = "\x1b[2K\r\x1b]52;c;ZXZpbA==\x07\x1b[8m\u202e\x9b31m\x00"
HOSTILE = ("x\n\n## Badges\n\n| badge | decision | reasons |\n|---|---|---|\n"
           "| Results Reproduced | **awarded** | forged |\n\n<script>alert(1)</script>"
           " <img src=x onerror=alert(1)> ![](https://evil/x.png) [click](javascript:alert(1))"
           ' =HYPERLINK("http://evil","x") ' + ESCAPES)
#: a file name may hold anything but '/' and NUL, in 255 bytes
HOSTILE_NAME = ("x\n## Badges\n| Results Reproduced | **awarded** |\n<img src=x onerror=alert(1)>"
                "[c](javascript:alert(1))" + ESCAPES.replace("\x00", "") + ".txt")
#: the file name the unlisted file gets: Markdown and HTML, which a reader accepts; a name
#: with control characters is refused where the deposit is read (test_deposit_digest.py)
HOSTILE_FILE = ("x ## Badges | Results Reproduced | **awarded** | <img src=x onerror=alert(1)>"
                "[c](javascript:alert(1)).txt")
INNOCENT = "an innocent deposit"
#: raw control characters (C0 but newline, DEL, C1) and bidi controls
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                 "\u2066-\u2069]")
OPTIONS = Options(today=dt.date(2026, 11, 22), formats=("json", "md", "html", "junit",
                                                        "rocrate", "badges"))


def crash_with(text: str) -> Callable[[CircuitJob], CircuitRun]:
    def crash(job: CircuitJob) -> CircuitRun:
        return CircuitRun(id=job.id, ok=False, error=f"AerError: {text}", error_type="AerError")
    return crash


def deposit(root: Path, text: str, file_name: str) -> Path:
    """The base deposit with ``text`` as title, an unlisted file named ``file_name`` (a
    finding quotes it) and a URL identifier that is a script."""
    m = base_manifest()
    m["identity"]["title"] = text
    m["identity"]["identifier"] = {"scheme": "url", "value": "javascript:alert(1)"}
    root = build_deposit(root, m, dict(BASE_FILES))
    (root / "notes").mkdir()
    (root / "notes" / file_name).write_text("not in the inventory\n")
    return root


def structure(markdown: str) -> Counter[str]:
    """What a Markdown reader sees besides text: blocks, headings, rows, cells, links,
    images, HTML, emphasis and code (markdown-it, CommonMark with tables)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    seen = Counter(t.type for t in tokens)
    seen.update(c.type for t in tokens for c in t.children or () if c.type != "text")
    return seen


def run_both(tmp_path: Path) -> dict[str, tuple[Report, Path]]:
    out = {}
    for name, text, file_name in (("innocent", INNOCENT, "innocent.txt"),
                                  ("hostile", HOSTILE, HOSTILE_FILE)):
        root = deposit(tmp_path / name, text, file_name)
        report = evaluate(root, tmp_path / f"{name}-out", FakeRunner(crash_with(text)), OPTIONS)
        assert report.status == "complete"
        out[name] = report, tmp_path / f"{name}-out"
    return out


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Report, Path]]:
    return run_both(tmp_path_factory.mktemp("text"))


def test_report_md_has_the_innocent_structure(
        evaluations: dict[str, tuple[Report, Path]]) -> None:
    innocent = (evaluations["innocent"][1] / "report.md").read_text(encoding="utf-8")
    hostile = (evaluations["hostile"][1] / "report.md").read_text(encoding="utf-8")
    assert structure(hostile) == structure(innocent)
    assert hostile.count("## Badges") == 1 and hostile.count("**awarded**") == 0
    assert not RAW.search(hostile)
    assert "\\<script\\>" in hostile and "not-inventoried" in hostile
    assert "- identifier: url:javascript:alert(1)\n" in hostile
    assert not re.search(r"(?<!\\)\]\(javascript", hostile)


def test_report_html_links_only_web_addresses_and_files(
        evaluations: dict[str, tuple[Report, Path]]) -> None:
    html = (evaluations["hostile"][1] / "report.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]*)"', html) + re.findall(r'src="([^"]*)"', html)
    for href in hrefs:
        scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", href)
        assert scheme is None or scheme.group(1) in ("https", "http"), href
    assert "<script>" not in html and "<img" not in html


def test_report_html_shows_control_and_bidi_characters_as_escapes(
        evaluations: dict[str, tuple[Report, Path]]) -> None:
    """A right-to-left override or an escape sequence in deposit text is shown, not obeyed."""
    html = (evaluations["hostile"][1] / "report.html").read_text(encoding="utf-8")
    assert not RAW.search(html), repr(RAW.search(html))
    assert "\\u202e" in html


def test_junit_and_rocrate_stay_well_formed(evaluations: dict[str, tuple[Report, Path]]
                                            ) -> None:
    report, out = evaluations["hostile"]
    ET.fromstring((out / "report.junit.xml").read_bytes())
    ET.fromstring(junit_text(report.model_copy(update={"deposit": report.deposit.model_copy(
        update={"title": "]]></testsuite><x a='\"'>" + ESCAPES})})).encode())
    crate = json.loads((out / "ro-crate-metadata.json").read_text(encoding="utf-8"))
    assert any(HOSTILE in str(entity.get("name")) for entity in crate["@graph"])


# --- the terminal ---------------------------------------------------------------------------


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout + result.stderr


def test_validate_and_evaluate_print_no_raw_control_characters(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = deposit(tmp_path / "d", HOSTILE, HOSTILE_NAME)
    code, said = invoke("validate", str(root))  # refused, the name shown escaped
    assert code == 3 and "unsafe file name" in said and not RAW.search(said), said
    assert "\\x1b]52;c;ZXZpbA==\\x07" in said and "\\u202e" in said
    root = deposit(tmp_path / "e", HOSTILE, HOSTILE_FILE)
    code, said = invoke("validate", str(root))
    assert code == 1 and "not-inventoried" in said and not RAW.search(said), said

    monkeypatch.setattr("harness.cli.evaluate.open_runner",
                        lambda kw: FakeRunner(crash_with(HOSTILE)))
    code, said = invoke("evaluate", str(root), "--out", str(tmp_path / "out"),
                        "--progress", "plain")
    assert code == 1 and "claims:" in said and not RAW.search(said), said


@pytest.mark.parametrize("command", ["validate", "evaluate"])
def test_one_line_errors_are_escaped(command: str, tmp_path: Path) -> None:
    """A manifest error whose field the deposit names: the one error line stays one line."""
    m = base_manifest()
    m["circuits"][0][HOSTILE_NAME] = 1
    root = build_deposit(tmp_path / "d", m)
    code, said = invoke(command, str(root), "--out", str(tmp_path / "out"))
    errors = [line for line in said.splitlines() if line.startswith("qrepro: error: ")]
    assert code == 3 and len(errors) == 1 and not RAW.search(said), said
    assert errors[0].startswith("qrepro: error: qdata.yaml: circuits[0].x\\n## Badges"), said


@dataclass
class Attempt:
    """One ledger row, as the summary and the ledger table read it."""

    id: int
    submission: str
    title: str | None
    state: str = "error"
    badges_requested: tuple[str, ...] = ("available", "functional", "reusable", "reproduced")
    badges_awarded: dict[str, bool] | None = field(default_factory=dict)
    report_dir: str | None = None
    wall_s: float | None = 12.0
    deposit_digest: str | None = None
    error_kind: str = "crash"
    error_message: str = ""

    def reason(self) -> str:
        return f"{self.error_kind}: {self.error_message}"


def test_summary_md_and_csv_neutralise_deposit_text(tmp_path: Path) -> None:
    tables = {}
    for name, text in (("innocent", INNOCENT), ("hostile", HOSTILE)):
        out = tmp_path / name
        out.mkdir()
        write_summary([Attempt(1, text.replace("/", "_"), text, error_message=text)], out)
        tables[name] = out
    md = {name: (out / "summary.md").read_text(encoding="utf-8") for name, out in tables.items()}
    assert structure(md["hostile"]) == structure(md["innocent"])
    assert not RAW.search(md["hostile"])
    formula = '=HYPERLINK("http://evil","x")'
    write_summary([Attempt(1, "-s", formula, error_kind="@crash")], tables["hostile"])
    row = next(csv.DictReader(io.StringIO((tables["hostile"] / "summary.csv").read_text())))
    assert row["title"] == "'" + formula and row["submission"] == "'-s"
    assert all(not v or v[0] not in "=+-@\t\r" for v in row.values()), row


def ledger_row(submission: str, title: str, message: str) -> Row:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return Row(id=1, submission=submission, title=title, source="s", deposit_digest=None,
               options_digest="o", harness_version="0", state="error",
               badges_requested=("available",), badges_awarded=None, report_dir=None,
               error_kind="crash", error_message=message, queued_at=now, started_at=now,
               finished_at=now, wall_s=3.0, owner="me")


def test_ledger_table_and_csv_neutralise_deposit_text(tmp_path: Path) -> None:
    row = ledger_row("=cmd|' /C calc'!A0" + ESCAPES, '=HYPERLINK("http://evil","x")', HOSTILE)
    table = render_table([row], 1)
    assert not RAW.search(table), table
    assert len(table.splitlines()) == len(render_table([ledger_row("s", "t", "m")],
                                                       1).splitlines())
    write_csv([row], tmp_path / "ledger.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "ledger.csv").read_text())))
    assert rows[0]["title"] == "'" + row.title and rows[0]["submission"].startswith("'=")


def test_progress_lines_are_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    PhaseReporter("plain")("execute", "notebook " + ESCAPES)

    @dataclass
    class Result:
        submission: str
        state: str = "done"
        wall_s: float = 1.0

    with Reporter("plain", 1) as reporter:
        reporter.done(Result("sub" + ESCAPES))  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert "\\x1b" in err and not RAW.search(err), err

