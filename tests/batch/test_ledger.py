"""Tests of harness.batch.ledger: the schema (Alembic migration = ORM metadata), the state
machine of an evaluation attempt, idempotence, recovery, crash safety under SIGKILL,
the CSV and the table of ``qrepro ledger``, and the per-evaluation overhead."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from harness.batch.attempts import ACTIVE, COLUMNS, FINAL, STATES, Row
from harness.batch.ledger import HEAD, LEDGER_NAME, MIGRATIONS, VERSION_TABLE, Base, Ledger
from harness.batch.liveness import everyone_gone
from harness.errors import LedgerError, QreproError

ROOT = Path(__file__).resolve().parents[2]
BADGES = ["available", "functional", "reproduced"]
AWARDED = {"available": True, "functional": True, "reproduced": False}


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def sqlite_url(out: Path) -> str:
    return f"sqlite:///{out / LEDGER_NAME}"


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger.for_dir(tmp_path / "out")


def state_of(ledger: Ledger, eval_id: int) -> str | None:
    row = ledger.get(eval_id)
    return None if row is None else row.state


def lifecycle(ledger: Ledger, submission: str = "s1", digest: str = "sha256:aa",
              options: str = "opts-1", final: str = "done") -> int:
    eval_id = ledger.queue(submission, f"deposits/{submission}", options, "0.1.0", BADGES,
                           title=f"Paper {submission}")
    ledger.mark(eval_id, "building", deposit_digest=digest)
    ledger.mark(eval_id, "running")
    if final == "done":
        ledger.finish(eval_id, "done", badges_awarded=AWARDED, report_dir=f"out/{submission}")
    else:
        ledger.finish(eval_id, final, error_kind="build", error_message="uv failed")
    return eval_id


# -- schema -----------------------------------------------------------------------------------

def test_fresh_database_migrates_to_head(tmp_path: Path) -> None:
    out = tmp_path / "new" / "dir"
    Ledger.for_dir(out).close()
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD
    with sqlite3.connect(out / LEDGER_NAME) as db:
        assert db.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall() == [(HEAD,)]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == {"evaluations", VERSION_TABLE}
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    Ledger.for_dir(out).close()  # opening again is a no-op


def test_migration_and_orm_metadata_agree(tmp_path: Path) -> None:
    Ledger.for_dir(tmp_path).close()
    engine = create_engine(sqlite_url(tmp_path))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, Base.metadata) == []
        with pytest.raises(IntegrityError, match=r"ck_evaluations_state|CHECK"):
            connection.execute(text(
                "INSERT INTO evaluations (submission, source, options_digest, harness_version,"
                " state, badges_requested, queued_at, owner) VALUES ('s', 'p', 'o', 'v',"
                " 'bogus', '[]', '2026-01-01 00:00:00', 'h:1')"))
    engine.dispose()


def test_downgrade_to_base_and_upgrade_again(tmp_path: Path) -> None:
    Ledger.for_dir(tmp_path).close()
    config = alembic_config()
    engine = create_engine(sqlite_url(tmp_path))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    with sqlite3.connect(tmp_path / LEDGER_NAME) as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name='evaluations'").fetchall() \
            == []
    engine.dispose()
    with Ledger.for_dir(tmp_path) as again:
        assert again.all() == []


def test_in_memory_and_bad_urls() -> None:
    memory = Ledger("sqlite://")
    lifecycle(memory)
    assert [r.state for r in memory.all()] == ["done"]
    with pytest.raises(LedgerError, match="not a database URL"):
        Ledger("not a url")
    assert issubclass(LedgerError, QreproError)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    Ledger.for_dir(tmp_path).close()
    with sqlite3.connect(tmp_path / LEDGER_NAME) as db:
        db.execute(f"UPDATE {VERSION_TABLE} SET version_num = '9999'")
    with pytest.raises(LedgerError, match="newer qrepro"):
        Ledger.for_dir(tmp_path)


# -- the life of an attempt -------------------------------------------------------------------

def test_queue_mark_finish_lifecycle(ledger: Ledger) -> None:
    before = dt.datetime.now(dt.UTC)
    eval_id = ledger.queue("s1", Path("deposits/s1"), "opts-1", "0.1.0", BADGES, title="T")
    row = ledger.get(eval_id)
    assert row is not None
    assert (row.state, row.source, row.badges_requested, row.title) == \
        ("queued", "deposits/s1", tuple(BADGES), "T")
    assert row.queued_at.tzinfo is dt.UTC and row.queued_at >= before
    assert row.started_at is None and row.badges_awarded is None
    assert row.owner == f"{socket.gethostname()}:{os.getpid()}"

    building = ledger.mark(eval_id, "building", deposit_digest="sha256:aa")
    assert building.state == "building" and building.deposit_digest == "sha256:aa"
    assert building.started_at is not None and building.started_at.tzinfo is dt.UTC
    running = ledger.mark(eval_id, "running")
    assert running.started_at == building.started_at  # stamped once, when work began

    done = ledger.finish(eval_id, "done", badges_awarded=AWARDED, report_dir=Path("out/s1"))
    assert done == ledger.get(eval_id)
    assert done.state == "done" and done.final
    assert done.badges_awarded == AWARDED and done.report_dir == "out/s1"
    assert done.finished_at is not None and done.started_at is not None
    assert done.wall_s == pytest.approx((done.finished_at - done.started_at).total_seconds())


def test_error_from_any_active_state(ledger: Ledger) -> None:
    early = ledger.queue("unreadable", "x.zip", "o", "0.1.0", BADGES)
    row = ledger.finish(early, "error", error_kind="archive", error_message="path escape")
    assert (row.state, row.reason(), row.wall_s) == ("error", "archive: path escape", None)
    build = ledger.queue("build", "b", "o", "0.1.0", BADGES)
    ledger.mark(build, "building")
    assert ledger.finish(build, "error", error_kind="build").wall_s is not None


@pytest.mark.parametrize(("path", "bad"), [
    ((), "running"), ((), "done"), (("building",), "done"), (("building",), "queued"),
    (("building", "running"), "building"), (("building", "running", "done"), "interrupted"),
    (("error",), "running"), (("interrupted",), "queued"), ((), "finished"),
])
def test_invalid_transitions_raise_and_change_nothing(ledger: Ledger, path: tuple[str, ...],
                                                      bad: str) -> None:
    eval_id = ledger.queue("s", "p", "o", "0.1.0", BADGES)
    for state in path:
        ledger.mark(eval_id, state, **({"badges_awarded": AWARDED} if state == "done" else {}))
    before = ledger.get(eval_id)
    with pytest.raises(LedgerError, match=r"not allowed|unknown state"):
        ledger.mark(eval_id, bad, **({"badges_awarded": AWARDED} if bad == "done" else {}))
    assert ledger.get(eval_id) == before


def test_bad_calls_raise_ledger_errors(ledger: Ledger) -> None:
    eval_id = ledger.queue("s", "p", "o", "0.1.0", BADGES)
    with pytest.raises(LedgerError, match="cannot set started_at"):
        ledger.mark(eval_id, "building", started_at=dt.datetime.now(dt.UTC))
    with pytest.raises(LedgerError, match="no evaluation 999"):
        ledger.mark(999, "building")
    with pytest.raises(LedgerError, match="not a final state"):
        ledger.finish(eval_id, "running")
    ledger.mark(eval_id, "building")
    ledger.mark(eval_id, "running")
    with pytest.raises(LedgerError, match="done without badges_awarded"):
        ledger.finish(eval_id, "done")
    with pytest.raises(LedgerError, match="must map badge names"):
        ledger.finish(eval_id, "done", badges_awarded={"available": "yes"})  # type: ignore[dict-item]
    with pytest.raises(LedgerError, match="list of badge names"):
        ledger.queue("s", "p", "o", "0.1.0", "available")
    assert state_of(ledger, eval_id) == "running"


# -- idempotence ------------------------------------------------------------------------------

def done_id(ledger: Ledger, submission: str, digest: str, options: str) -> int | None:
    row = ledger.done_for(submission, digest, options)
    return None if row is None else row.id


def test_done_for_needs_a_done_row_with_the_same_inputs(ledger: Ledger) -> None:
    assert ledger.done_for("s1", "sha256:aa", "opts-1") is None
    failed = lifecycle(ledger, final="error")
    assert ledger.done_for("s1", "sha256:aa", "opts-1") is None  # errors are not skipped
    first = lifecycle(ledger)
    assert done_id(ledger, "s1", "sha256:aa", "opts-1") == first
    second = lifecycle(ledger)
    assert done_id(ledger, "s1", "sha256:aa", "opts-1") == second
    assert ledger.done_for("s1", "sha256:aa", "opts-2") is None
    assert ledger.done_for("s1", "sha256:bb", "opts-1") is None
    assert ledger.done_for("s2", "sha256:aa", "opts-1") is None
    assert failed < first < second


def test_a_changed_deposit_is_a_new_evaluation_and_both_stay(ledger: Ledger) -> None:
    old = lifecycle(ledger, "s1", digest="sha256:aa")
    lifecycle(ledger, "s2")
    assert ledger.done_for("s1", "sha256:bb", "opts-1") is None  # authors fixed it
    new = lifecycle(ledger, "s1", digest="sha256:bb")
    assert [r.id for r in ledger.all() if r.submission == "s1"] == [old, new]
    assert [(r.submission, r.id) for r in ledger.latest()] == [("s1", new), ("s2", 2)]
    assert done_id(ledger, "s1", "sha256:aa", "opts-1") == old


# -- recovery ---------------------------------------------------------------------------------

def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_recover_marks_rows_of_gone_processes_interrupted(tmp_path: Path) -> None:
    host = socket.gethostname()
    owners = {"dead": f"{host}:{dead_pid()}", "live": f"{host}:{os.getppid()}",
              "remote": "elsewhere.example:1234"}
    ids: dict[str, list[int]] = {}
    for name, owner in owners.items():
        with Ledger.for_dir(tmp_path, owner=owner) as other:
            queued = other.queue(f"{name}-q", "p", "o", "0.1.0", BADGES)
            running = other.queue(f"{name}-r", "p", "o", "0.1.0", BADGES)
            other.mark(running, "building")
            other.mark(running, "running")
            finished = lifecycle(other, f"{name}-done")
            ids[name] = [queued, running, finished]
    ledger = Ledger.for_dir(tmp_path)
    mine = ledger.queue("mine", "p", "o", "0.1.0", BADGES)

    assert ledger.recover() == ids["dead"][:2]
    for eval_id in ids["dead"][:2]:
        row = ledger.get(eval_id)
        assert row is not None and row.state == "interrupted"
        assert row.error_kind == "interrupted" and "is gone" in (row.error_message or "")
        assert owners["dead"] in (row.error_message or "") and row.finished_at is not None
    assert state_of(ledger, ids["dead"][2]) == "done"
    assert ledger.recover() == []

    # the start of a batch that is the ledger's only writer: every active row is stale
    assert ledger.recover(everyone_gone) == sorted([*ids["live"][:2], *ids["remote"][:2], mine])
    assert {r.state for r in ledger.all()} == {"done", "interrupted"}
    assert ledger.owner_alive(ledger.owner) and ledger.owner_alive("h:not-a-pid")


# -- crash safety -----------------------------------------------------------------------------

WORKER = """
import sys
from pathlib import Path
from harness.batch.ledger import Ledger
from harness.batch.liveness import everyone_gone

out, ready = Path(sys.argv[1]), Path(sys.argv[2])
ledger = Ledger.for_dir(out)
ledger.recover(everyone_gone)
n = 0
while True:
    sub = f"sub-{n % 7}"
    i = ledger.queue(sub, f"deposits/{sub}", "opts", "0.1.0", ["available", "functional"])
    ledger.mark(i, "building", deposit_digest=f"sha256:{n % 3}")
    ledger.mark(i, "running")
    if n % 4 == 3:
        ledger.finish(i, "error", error_kind="build", error_message="boom\\nsecond line")
    else:
        ledger.finish(i, "done", badges_awarded={"available": True, "functional": n % 2 == 0},
                      report_dir=f"out/{sub}/{n}")
    n += 1
    if n == 5:
        ready.touch()
"""

DIE_IN_MIGRATION = """
import os, signal, sys
from pathlib import Path
from alembic.operations import Operations
from harness.batch.ledger import Ledger

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

Operations.create_index = die  # between CREATE TABLE and CREATE INDEX of revision 0001
Ledger.for_dir(Path(sys.argv[1]))
"""


def python(code: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_sigkill_inside_the_first_migration_leaves_nothing_half_made(tmp_path: Path) -> None:
    proc = python(DIE_IN_MIGRATION, str(tmp_path))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    with sqlite3.connect(tmp_path / LEDGER_NAME) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == []
    test_migration_and_orm_metadata_agree(tmp_path)  # opens, migrates, compares


def test_sigkill_at_random_moments_leaves_a_consistent_ledger(tmp_path: Path) -> None:
    rng = random.Random(14)
    out = tmp_path / "out"
    kills = 5
    for run in range(kills):
        ready = tmp_path / f"ready-{run}"
        proc = python(WORKER, str(out), str(ready))
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert proc.poll() is None, proc.communicate()[1].decode()
            assert time.monotonic() < deadline, "the worker never got going"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        assert proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL

    with sqlite3.connect(out / LEDGER_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    ledger = Ledger.for_dir(out)
    rows = ledger.all()
    assert len(rows) > 5 * kills
    for row in rows:
        assert row.state in STATES
        if row.state in FINAL:
            assert row.finished_at is not None
        if row.state != "queued" and "while queued" not in (row.error_message or ""):
            assert row.started_at is not None, row
        if row.state == "done":
            assert row.badges_awarded is not None and row.report_dir and row.deposit_digest
        if row.state == "error":
            assert row.reason() == "build: boom second line"
        if row.state == "interrupted":
            assert "is gone" in (row.error_message or "")
    # each worker recovered its predecessor's rows; only the last one's may still be active
    assert sum(r.state in ACTIVE for r in rows) <= 1
    stale = [r.id for r in rows if r.state in ACTIVE]
    assert ledger.recover() == stale  # the last worker is dead: its pid says so
    assert not any(r.state in ACTIVE for r in ledger.all())


def two_writers_and_a_reader(open_ledger: Callable[..., Ledger]) -> list[Row]:
    """Two threads each take 25 attempts through their lifecycle while a third reads the
    table; ``open_ledger(owner=...)`` opens the ledger under test. Every row, at the end."""
    errors: list[BaseException] = []
    stop = threading.Event()

    def write(name: str) -> None:
        try:
            with open_ledger(owner=f"{name}:1") as own:
                for n in range(25):
                    lifecycle(own, f"{name}-{n}")
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        try:
            with open_ledger() as own:
                while not stop.is_set():
                    own.table()
        except BaseException as exc:
            errors.append(exc)

    open_ledger().close()
    writers = [threading.Thread(target=write, args=(n,)) for n in ("a", "b")]
    reader = threading.Thread(target=read)
    for t in [*writers, reader]:
        t.start()
    for t in writers:
        t.join(timeout=120)
    stop.set()
    reader.join(timeout=30)
    assert errors == []
    with open_ledger() as ledger:
        return ledger.all()


def test_two_writers_and_a_reader_at_once(tmp_path: Path) -> None:
    rows = two_writers_and_a_reader(functools.partial(Ledger.for_dir, tmp_path))
    assert [r.state for r in rows] == ["done"] * 50


# -- output -----------------------------------------------------------------------------------

def test_to_csv(ledger: Ledger, tmp_path: Path) -> None:
    lifecycle(ledger, "s1")
    lifecycle(ledger, "s2", final="error")
    path = ledger.to_csv(tmp_path / "ledger.csv")
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMNS
    assert [(r["submission"], r["state"]) for r in rows] == [("s1", "done"), ("s2", "error")]
    assert json.loads(rows[0]["badges_awarded"]) == AWARDED
    assert json.loads(rows[0]["badges_requested"]) == BADGES
    assert rows[1]["badges_awarded"] == "" and rows[1]["error_kind"] == "build"
    assert dt.datetime.fromisoformat(rows[0]["finished_at"]).tzinfo == dt.UTC
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_table(ledger: Ledger) -> None:
    assert ledger.table() == "ledger: no evaluations\n"
    for n in range(7):
        lifecycle(ledger, f"sub-{n}")
    lifecycle(ledger, "sub-0", final="error")  # the latest attempt of sub-0 failed
    stuck = ledger.queue("sub-7", "p", "o", "0.1.0", BADGES)
    long = "x" * 300
    ledger.finish(stuck, "error", error_kind="notebook", error_message=f"cell 3\n{long}")
    out = ledger.table()
    assert out.startswith("ledger: 8 submissions, 9 evaluations")
    lines = out.splitlines()
    counts = lines[lines.index("  state  count") + 1:lines.index("slowest") - 1]
    assert counts == ["  done   6", "  error  2"]
    slowest = lines[lines.index("slowest") + 2:lines.index("failed") - 1]
    assert len(slowest) == 5
    failed = lines[lines.index("failed") + 2:]
    assert [line.split()[:2] for line in failed] == [["sub-0", "error"], ["sub-7", "error"]]
    assert "build: uv failed" in failed[0]
    assert "notebook: cell 3 xxx" in failed[1] and failed[1].endswith("...")
    assert len(failed[1]) < 160


# -- overhead ---------------------------------------------------------------------------------
