"""``qrepro batch`` and ``qrepro ledger`` for real: child processes, the SQLite ledger, the
summary files, idempotence, a time budget, SIGKILL in the middle of a batch and a rerun, and
a Dask LocalCluster. Evaluations use --runner host and four GHZ-3 deposits (tests.batch.small)
so that each takes seconds.

The uninterrupted batch over the four (``reference``) runs once per test session, shared by
the xdist workers through a file lock; tests that change things work on copies of it."""

from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.intake.deposit_digest import deposit_digest
from tests.batch.small import (
    EXPECTED,
    HOST,
    batch_command,
    env,
    four,
    honest,
    ledger_rows,
    ledger_rows_now,
    outcomes,
    processes_in,
    run_batch,
    summary,
)
from tests.interrupt import slow_deposit

FINAL = ("done", "error")


@dataclass(frozen=True)
class Reference:
    """The uninterrupted ``--jobs 2`` batch over the four small submissions."""

    root: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def subs(self) -> Path:
        return self.root / "subs"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def copy_to(self, dest: Path) -> Path:
        """Submissions and output folder (ledger included) copied under ``dest``; run the
        batch there with ``cwd=dest`` (the reference ran with relative paths)."""
        shutil.copytree(self.subs, dest / "subs")
        shutil.copytree(self.out, dest / "out")
        return dest


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / "batch-reference"
    with (shared / "batch-reference.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker runs it, the other waits
        record = root / "run.json"
        if not record.exists():
            shutil.rmtree(root, ignore_errors=True)
            four(root / "subs")
            proc = run_batch("subs", "--out", "out", *HOST, "--jobs", "2", "--cpus", "1",
                             "--progress", "plain", cwd=root)
            record.write_text(json.dumps({"returncode": proc.returncode,
                                          "stdout": proc.stdout, "stderr": proc.stderr}))
    data = json.loads(record.read_text())
    return Reference(root, data["returncode"], data["stdout"], data["stderr"])


def attempts_by_submission(out: Path) -> dict[str, list[dict[str, Any]]]:
    by: dict[str, list[dict[str, Any]]] = {}
    for row in ledger_rows(out):
        by.setdefault(row["submission"], []).append(row)
    return by


def assert_reports_whole(out: Path, ids: list[str]) -> None:
    for sid in ids:
        report = json.loads((out / sid / "report.json").read_text(encoding="utf-8"))
        assert report["status"] in ("complete", "error"), (sid, report["status"])
        assert (out / sid / "report.md").is_file(), sid
    assert list((out / ".attempts").iterdir()) == [], "an attempt folder was left behind"


# -- time budget ----------------------------------------------------------------------------


def test_budget_ends_a_runaway_evaluation_with_a_timeout_and_the_batch_goes_on(
        tmp_path: Path) -> None:
    slow_deposit(tmp_path / "subs" / "slow-a")
    slow_deposit(tmp_path / "subs" / "slow-b")
    out = tmp_path / "out"
    start = time.monotonic()
    proc = run_batch(tmp_path / "subs", "--out", out, *HOST, "--budget", "2s", "--jobs", "1",
                     timeout=120)
    took = time.monotonic() - start
    assert proc.returncode == 1, proc.stderr
    rows = ledger_rows(out)
    assert [(r["submission"], r["state"], r["error_kind"]) for r in rows] == [
        ("slow-a", "error", "timeout"), ("slow-b", "error", "timeout")]
    assert all("budget of 2 s" in r["error_message"] for r in rows)
    assert all(r["wall_s"] < 30 for r in rows)
    assert took < 100
    assert processes_in(out) == [], "an evaluation outlived its budget"
    assert outcomes(out) == {"slow-a": ("error", ()), "slow-b": ("error", ())}
    assert "timeout: the evaluation ran past its budget" in (out / "summary.md").read_text()


# -- a deposit that cannot be read -----------------------------------------------------


def test_a_deposit_with_a_symlink_out_is_one_error_and_the_batch_goes_on(tmp_path: Path
                                                                         ) -> None:
    honest(tmp_path / "subs" / "a-fine")
    leaky = honest(tmp_path / "subs" / "b-leaky")
    (leaky / "results" / "leak.json").symlink_to("/etc/passwd")
    out = tmp_path / "out"
    proc = run_batch(tmp_path / "subs", "--out", out, *HOST, "--jobs", "2", "--cpus", "1")
    assert proc.returncode == 1, proc.stderr
    got = {r["submission"]: (r["state"], r["error_kind"]) for r in ledger_rows(out)}
    assert got["a-fine"] == ("done", None)
    assert got["b-leaky"][0] == "error" and got["b-leaky"][1] in ("deposit", "archive")


# -- one batch: summary, reports, ledger, exit code -----------------------------------------


def test_summary_of_a_folder_has_the_badges_of_each_kind_of_deposit(reference: Reference
                                                                    ) -> None:
    out = reference.out
    # exit 1: not every submission is done (invalid ended in error); badges denied to a done
    # submission do not change the exit code
    assert reference.returncode == 1, reference.stderr
    assert "4 submissions in" in reference.stdout
    assert "3 done, 1 error" in reference.stdout
    assert f"summary: {Path('out') / 'summary.md'}" in reference.stdout
    assert outcomes(out) == EXPECTED

    data = summary(out)
    assert data["smoke"] is False
    assert data["badges"] == {"available": {"requested": 4, "awarded": 2},
                              "functional": {"requested": 4, "awarded": 3},
                              "reusable": {"requested": 4, "awarded": 2},
                              "reproduced": {"requested": 4, "awarded": 1}}
    by_id = {s["submission"]: s for s in data["submissions"]}
    assert by_id["honest"]["title"] == "test deposit" and by_id["honest"]["missing"] == []
    assert by_id["tampered"]["missing"] == ["available", "reusable", "reproduced"]
    assert by_id["invalid"]["reason"].startswith("manifest: qdata.yaml: license.spdx")
    assert all(s["report"] == f"{s['submission']}/report.md" for s in data["submissions"])
    assert all(isinstance(s["wall_s"], float) and s["wall_s"] > 0 for s in data["submissions"])

    with (out / "summary.csv").open(newline="", encoding="utf-8") as fh:
        table = {r["submission"]: r for r in csv.DictReader(fh)}
    assert sorted(table) == sorted(EXPECTED)
    for sid, (state, awarded) in EXPECTED.items():
        assert table[sid]["status"] == state
        assert table[sid]["awarded"] == ";".join(awarded)
        assert table[sid]["requested"] == "available;functional;reusable;reproduced"

    md = (out / "summary.md").read_text(encoding="utf-8")
    assert "4 submissions: 3 done, 1 error" in md
    for line in ("| Artifacts Available | 4 | 2 |", "| Artifacts Evaluated - Functional | 4 | 3 |",
                 "| Artifacts Evaluated - Reusable | 4 | 2 |", "| Results Reproduced | 4 | 1 |",
                 "| honest | test deposit | A F R RR | A F R RR | 2 / 0 | done |",
                 "| overclaimed | test deposit | A F R RR | A F R | 2 / 0 | done |",
                 "| tampered | test deposit | A F R RR | F | 2 / 0 | done |",
                 "| invalid |  | A F R RR | none | 0 / 0 | error: manifest: "):
        assert line in md, line
    for link in re.findall(r"\[report\]\(([^)]+)\)", md):
        assert (out / link).is_file(), link

    assert_reports_whole(out, list(EXPECTED))
    assert (out / "honest" / "evaluate.log").is_file()
    rows = ledger_rows(out)
    assert len(rows) == 4 and {r["state"] for r in rows} == {"done", "error"}
    assert len({r["options_digest"] for r in rows}) == 1
    assert all(r["deposit_digest"] and r["harness_version"] for r in rows)
    # one digest of each deposit: the ledger's, its report's and the summary's
    listed = {e["submission"]: e["deposit_sha256"] for e in summary(out)["submissions"]}
    for r in rows:
        report = json.loads((out / r["submission"] / "report.json").read_text())
        assert r["deposit_digest"] == report["deposit_sha256"] == listed[r["submission"]]


def test_an_archive_has_one_digest_in_the_ledger_its_report_and_the_summary(tmp_path: Path
                                                                           ) -> None:
    """The ledger names an archive by the files it holds, as its report does (never by the
    archive's bytes), and a second run finds it answered."""
    deposit = honest(tmp_path / "paper")
    (tmp_path / "subs").mkdir()
    archive = Path(shutil.make_archive(str(tmp_path / "subs" / "paper"), "zip", deposit))
    proc = run_batch("subs", "--out", "out", *HOST, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = tmp_path / "out"
    [row] = ledger_rows(out)
    report = json.loads((out / "paper" / "report.json").read_text())
    [entry] = summary(out)["submissions"]
    assert row["deposit_digest"] == report["deposit_sha256"] == entry["deposit_sha256"] \
        == deposit_digest(deposit)
    assert row["deposit_digest"] != hashlib.sha256(archive.read_bytes()).hexdigest()
    assert run_batch("subs", "--out", "out", *HOST, cwd=tmp_path).returncode == 0
    assert ledger_rows(out) == [row], "the archive was evaluated again"


def test_plain_progress_is_one_line_per_submission_on_stderr(reference: Reference) -> None:
    lines = [ln for ln in reference.stderr.splitlines() if re.match(r"^\[\d+\] ", ln)]
    assert sorted(re.match(r"^\[\d+\] ([\w.-]+): (\w+)", ln).groups()  # type: ignore[union-attr]
                  for ln in lines) == sorted((k, v[0]) for k, v in EXPECTED.items())
    assert [ln.split("]")[0] for ln in lines] == ["[1", "[2", "[3", "[4"]
    assert "[1]" not in reference.stdout
    for sid in EXPECTED:
        assert "elapsed" not in (reference.out / sid / "report.md").read_text()


# -- idempotence, a changed deposit, --retry failed -----------------------------------------


def test_a_second_run_evaluates_nothing_and_a_changed_deposit_is_evaluated_again(
        reference: Reference, tmp_path: Path) -> None:
    root = reference.copy_to(tmp_path)
    out = root / "out"
    args = ("subs", "--out", "out", *HOST, "--jobs", "2", "--cpus", "1")
    before = ledger_rows(out)

    again = run_batch(*args, cwd=root)
    assert again.returncode == 1, again.stderr
    assert ledger_rows(out) == before, "a second run evaluated something"
    assert outcomes(out) == EXPECTED

    # --retry failed: the errored submission (and only it) is evaluated again
    retry = run_batch(*args, "--retry", "failed", cwd=root)
    assert retry.returncode == 1, retry.stderr
    rows = ledger_rows(out)
    assert rows[: len(before)] == before
    assert [(r["submission"], r["state"], r["error_kind"]) for r in rows[len(before):]] == [
        ("invalid", "error", "manifest")]

    # the authors fix the tampered deposit: evaluated again, the old attempt stays
    shutil.rmtree(root / "subs" / "tampered")
    honest(root / "subs" / "tampered")
    fixed = run_batch(*args, cwd=root)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr  # invalid is still in error
    assert "3 done, 1 error" in fixed.stdout
    by = attempts_by_submission(out)
    assert [r["state"] for r in by["tampered"]] == ["done", "done"]
    assert by["tampered"][0]["deposit_digest"] != by["tampered"][1]["deposit_digest"]
    assert [r["state"] for r in by["invalid"]] == ["error", "error"]
    assert len(by["honest"]) == len(by["overclaimed"]) == 1
    assert outcomes(out) == {**EXPECTED, "tampered": EXPECTED["honest"]}
    latest = {r["submission"]: r["evaluation"] for r in summary(out)["submissions"]}
    assert latest == {sid: rows[-1]["id"] for sid, rows in by.items()}
    assert json.loads((out / "tampered" / "report.json").read_text())["badges"]["available"]
    assert_reports_whole(out, list(EXPECTED))


def test_a_deposit_reverted_to_an_evaluated_version_is_summarised_as_it_is_now(
        reference: Reference, tmp_path: Path) -> None:
    root = reference.copy_to(tmp_path)
    out = root / "out"
    args = ("subs", "--out", "out", *HOST, "--jobs", "2", "--cpus", "1")
    shutil.rmtree(root / "subs" / "honest")
    honest(root / "subs" / "honest", title="second version")
    assert run_batch(*args, cwd=root).returncode == 1
    assert outcomes(out)["honest"] == EXPECTED["honest"]
    shutil.rmtree(root / "subs" / "honest")
    honest(root / "subs" / "honest")  # back to the version of the reference
    assert run_batch(*args, cwd=root).returncode == 1
    rows = [r for r in summary(out)["submissions"] if r["submission"] == "honest"]
    assert rows[0]["title"] == "test deposit"
    report = json.loads((out / "honest" / "report.json").read_text())
    assert report["deposit"]["title"] == "test deposit"


def test_the_summary_covers_the_submissions_of_this_list(reference: Reference, tmp_path: Path
                                                         ) -> None:
    root = reference.copy_to(tmp_path)
    (root / "list.yaml").write_text("- {id: honest, path: subs/honest}\n")
    proc = run_batch("list.yaml", "--out", "out", *HOST, cwd=root)
    assert list(outcomes(root / "out")) == ["honest"]
    assert proc.returncode == 0, proc.stdout


# -- kick the tires -------------------------------------------------------------------------


def test_smoke_decides_available_and_functional_only(tmp_path: Path) -> None:
    honest(tmp_path / "subs" / "honest")
    out = tmp_path / "out"
    proc = run_batch(tmp_path / "subs", "--out", out, *HOST, "--smoke")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # every submission done
    assert outcomes(out) == {"honest": ("done", ("available", "functional"))}
    data = summary(out)
    assert data["smoke"] is True
    assert data["badges"]["reproduced"]["awarded"] == data["badges"]["reusable"]["awarded"] == 0
    assert "Kick-the-tires run (--smoke)" in (out / "summary.md").read_text()
    assert json.loads((out / "honest" / "report.json").read_text())["mode"] == "smoke"


# -- crash safety ---------------------------------------------------------------------------


def test_sigkill_in_the_middle_then_the_same_command_completes_each_submission_once(
        reference: Reference, tmp_path: Path) -> None:
    shutil.copytree(reference.subs, tmp_path / "subs")
    out = tmp_path / "out"
    command = batch_command("subs", "--out", "out", *HOST, "--jobs", "1")
    log = (tmp_path / "first.log").open("w")
    proc = subprocess.Popen(command, cwd=tmp_path, env=env(), stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        # wait for: the first submission finished, the second one's evaluation running
        # and still far from writing its report
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline, "the first submission never finished"
            rows = ledger_rows_now(out)
            states = Counter(r["state"] for r in rows)
            running = [r for r in rows if r["state"] == "running"]
            if states["done"] + states["error"] >= 1 and len(running) == 1:
                attempt = out / ".attempts" / f"{running[0]['submission']}-{running[0]['id']}"
                if processes_in(attempt) and not (attempt / "report.json").exists():
                    break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        log.close()
    at_kill = ledger_rows(out)
    first = [r for r in at_kill if r["state"] in FINAL]
    killed = [r for r in at_kill if r["state"] == "running"]
    # an evaluation is "running" once it left its build phase; those that ended quicker
    # (an unreadable deposit errs before it runs) are final
    assert len(first) >= 1 and len(killed) == 1

    # the evaluation running at the kill got SIGTERM from the kernel (PR_SET_PDEATHSIG)
    deadline = time.monotonic() + 45
    while processes_in(out) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_in(out) == [], "an evaluation outlived the batch process"

    again = run_batch(*command[4:], cwd=tmp_path)
    assert again.returncode == 1, again.stdout + again.stderr
    by = attempts_by_submission(out)
    assert sorted(by) == sorted(EXPECTED)
    for sid, rows in by.items():
        assert sum(r["state"] in FINAL for r in rows) == 1, (sid, rows)
        assert all(r["state"] in (*FINAL, "interrupted") for r in rows), (sid, rows)
    # the finished ones were kept, the killed one recorded as interrupted and run again
    for row in first:
        assert by[row["submission"]] == [row]
    again_killed = next(r for r in ledger_rows(out) if r["id"] == killed[0]["id"])
    assert (again_killed["state"], again_killed["error_kind"]) == ("interrupted", "interrupted")
    assert_reports_whole(out, list(EXPECTED))
    assert outcomes(out) == outcomes(reference.out) == EXPECTED
    assert processes_in(out) == []


def test_sigterm_stops_the_batch_like_ctrl_c(tmp_path: Path) -> None:
    honest(tmp_path / "subs" / "honest")
    out = tmp_path / "out"
    proc = subprocess.Popen(batch_command(tmp_path / "subs", "--out", out, *HOST), env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (any(r["state"] == "running" for r in ledger_rows_now(out))
                   and processes_in(out / ".attempts")):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert processes_in(out) == []
    assert [(r["state"], r["error_kind"]) for r in ledger_rows(out)] == [
        ("interrupted", "interrupted")]
    assert proc.returncode == 130


# -- Dask -----------------------------------------------------------------------------------


@pytest.mark.slow  # a LocalCluster of two workers: run by make test-slow (keeps make test < 20 min)
@pytest.mark.timeout(1800)  # above pyproject's per-test ceiling
def test_a_local_dask_cluster_gives_the_badges_of_jobs(reference: Reference, tmp_path: Path
                                                       ) -> None:
    shutil.copytree(reference.subs, tmp_path / "subs")
    out = tmp_path / "out"
    proc = run_batch("subs", "--out", "out", *HOST, "--cluster", "local:2", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert outcomes(out) == outcomes(reference.out) == EXPECTED
    assert_reports_whole(out, list(EXPECTED))
    # the deposit was shipped to a worker and evaluated there, the report shipped back
    report = json.loads((out / "honest" / "report.json").read_text())
    assert "qrepro-worker-" in report["deposit"]["source"]
    assert (out / "honest" / "evaluate.log").is_file()
    rows = ledger_rows(out)
    assert len(rows) == 4 and all(r["state"] in FINAL for r in rows)
    assert processes_in(out) == []


# -- qrepro ledger --------------------------------------------------------------------------


def test_ledger_command_prints_the_table_and_exports_csv(reference: Reference, tmp_path: Path
                                                         ) -> None:
    from harness.batch.commands import ledger_cmd  # what harness.cli registers as "ledger"

    out = reference.copy_to(tmp_path) / "out"
    result = CliRunner().invoke(ledger_cmd, [str(out), "--csv", str(tmp_path / "l.csv")])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "ledger: 4 submissions, 4 evaluations" in text
    assert re.search(r"^  done +3$", text, re.M) and re.search(r"^  error +1$", text, re.M)
    assert "slowest" in text
    failed = text.split("\nfailed\n")[1]
    assert re.search(r"invalid +error +manifest: qdata.yaml: license.spdx", failed)
    assert "honest" not in failed
    with (tmp_path / "l.csv").open(newline="") as fh:
        exported = list(csv.DictReader(fh))
    assert sorted((r["submission"], r["state"]) for r in exported) == sorted(
        (k, v[0]) for k, v in EXPECTED.items())
    honest_row = next(r for r in exported if r["submission"] == "honest")
    assert json.loads(honest_row["badges_awarded"]) == dict.fromkeys(
        ("available", "functional", "reusable", "reproduced"), True)

    missing = CliRunner().invoke(ledger_cmd, [str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "no ledger at" in missing.output
