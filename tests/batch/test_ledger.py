"""Tests of harness.batch.ledger on both of its backends: the schema (Alembic migration = ORM
metadata), the state machine of an evaluation attempt, idempotence, recovery, a ledger shared
by a committee, the CSV and the table of ``qrepro ledger``; on SQLite (the default,
OUT/ledger.sqlite) crash safety under SIGKILL, on PostgreSQL (``--ledger URL``) its locks.

Tests taking the ``backend`` fixture run on SQLite and on PostgreSQL. For PostgreSQL the module
starts its own throwaway cluster (initdb + pg_ctl from PATH or /usr/lib/postgresql/*/bin; a
unix socket in a temporary folder, no TCP port, no system service) and gives each test a
fresh database on it. As root, initdb refuses to run, so the cluster's processes run as
``nobody``. Without PostgreSQL those cases skip on a developer machine but FAIL in CI
(CI=true): .ci/run installs it.

Rows are read back with sqlite3 or psycopg where a test must not trust the code under test,
as tests/batch/small.py reads the SQLite ledger with sqlite3."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import glob
import itertools
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from harness.batch.attempts import ACTIVE, COLUMNS, FINAL, STATES, Row, State
from harness.batch.ledger import (
    HEAD,
    LEDGER_NAME,
    MIGRATION_LOCK,
    MIGRATIONS,
    VERSION_TABLE,
    Base,
    Ledger,
)
from harness.batch.liveness import everyone_gone
from harness.errors import LedgerError, QreproError
from tests.batch.small import EXPECTED, honest, invalid, outcomes, run_batch, summary
from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
BADGES = ["available", "functional", "reproduced"]
AWARDED = {"available": True, "functional": True, "reproduced": False}


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(url: str, to: str) -> None:
    """Alembic's own upgrade (``head``) or downgrade (``base``), not the ledger's."""
    engine = create_engine(url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.upgrade if to == "head" else command.downgrade)(config, to)
    engine.dispose()


def sqlite_url(out: Path) -> str:
    return f"sqlite:///{out / LEDGER_NAME}"


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


try:
    import psycopg  # the [postgres] extra; .[dev] has it
except ImportError:
    psycopg = None  # type: ignore[assignment]

USER = "qrepro"
#: with listen_addresses='' the port only names the socket file (SOCKDIR/.s.PGSQL.PORT)
PORT = 54329


def _unavailable(why: str) -> NoReturn:
    unavailable("PostgreSQL ledger", why)


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH first, else the newest Debian version."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).parent] if on_path else []
    candidates += sorted((Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
                         key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)],
                         reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _as_cluster_owner() -> dict[str, Any]:
    """subprocess arguments that run a server command as a user initdb accepts."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


@dataclass
class Cluster:
    """A running throwaway cluster: its socket folder, and fresh databases on it."""

    sockets: Path
    names: Iterator[int] = field(default_factory=itertools.count)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@/{database}?host={self.sockets}&port={PORT}"

    def connect(self, database: str = "postgres") -> Any:
        return psycopg.connect(host=str(self.sockets), port=PORT, user=USER, dbname=database,
                               autocommit=True)

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = f"ledger_{next(self.names)}"
        with self.connect() as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Cluster]:
    """initdb + pg_ctl start on a unix socket in a temporary folder; stopped at the end."""
    if psycopg is None:
        _unavailable("psycopg is not installed: pip install 'qrepro[postgres]'")
    folder = postgres_bin()
    if folder is None:
        _unavailable("no PostgreSQL server binaries (initdb, pg_ctl) on PATH or under "
                     "/usr/lib/postgresql/*/bin; apt-get install postgresql")
    owner = _as_cluster_owner()
    # not pytest's tmp_path: as root that is under a 0700 folder that nobody cannot enter,
    # and a short path keeps the socket under the 107-byte limit of a unix socket address
    root = Path(tempfile.mkdtemp(prefix="qrepro-pg-"))
    root.chmod(0o755)
    if owner:
        os.chown(root, owner["user"], owner["group"])
    data, log = root / "data", root / "server.log"

    def server(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(folder / args[0]), *args[1:]], cwd=root, capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL, **owner)

    def failed(what: str, proc: subprocess.CompletedProcess[str]) -> str:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        return f"{what} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}{tail}"

    started = False
    try:
        init = server("initdb", "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
                      "--locale=C", "--no-sync")
        assert init.returncode == 0, failed("initdb", init)
        # fsync off: a throwaway cluster needs no durability, and tests go faster
        start = server("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o",
                       f"-k {root} -c listen_addresses='' -p {PORT} -c fsync=off", "start")
        assert start.returncode == 0, failed("pg_ctl start", start)
        started = True
        yield Cluster(root)
    finally:
        if started:
            stop = server("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
            assert stop.returncode == 0, failed("pg_ctl stop", stop)
        shutil.rmtree(root, ignore_errors=True)


def database_of(url: str) -> str:
    return url.split("@/", 1)[1].split("?", 1)[0]


@dataclass
class Backend:
    """A new, empty ledger database of one backend: its URL, and raw reads that do not go
    through the code under test (``%s`` placeholders on both)."""

    name: str
    url: str
    connect: Callable[[], Any]

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self.name == "sqlite":
            sql = sql.replace("%s", "?")
        with contextlib.closing(self.connect()) as db:
            cursor = db.execute(sql, params if self.name == "sqlite" else params or None)
            rows = [] if cursor.description is None else list(cursor.fetchall())
            if self.name == "sqlite":
                db.commit()
            return rows

    def tables(self) -> set[str]:
        sql = ("SELECT name FROM sqlite_master WHERE type = 'table'" if self.name == "sqlite"
               else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r[0] for r in self.query(sql)}

    def instant(self, stored: Any) -> dt.datetime:
        """A stored time as an aware datetime (SQLite keeps naive UTC text)."""
        if self.name == "sqlite":
            return dt.datetime.fromisoformat(stored).replace(tzinfo=dt.UTC)
        assert isinstance(stored, dt.datetime) and stored.tzinfo is not None, stored
        return stored

    def json(self, stored: Any) -> Any:
        """A stored JSON column as Python (PostgreSQL's json comes back parsed)."""
        return json.loads(stored) if self.name == "sqlite" else stored


@pytest.fixture
def pg(postgres: Cluster) -> Backend:
    """A new, empty database of the module's PostgreSQL cluster (the PostgreSQL-only tests)."""
    url = postgres.create_database()
    return Backend("postgresql", url, lambda: postgres.connect(database_of(url)))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """The same test on a SQLite file and on a database of the module's PostgreSQL cluster."""
    if request.param == "sqlite":
        path = tmp_path / "db" / LEDGER_NAME
        path.parent.mkdir()
        return Backend("sqlite", f"sqlite:///{path}", lambda: sqlite3.connect(path))
    pg: Backend = request.getfixturevalue("pg")
    return pg


@pytest.fixture
def ledger(backend: Backend) -> Iterator[Ledger]:
    with Ledger(backend.url) as opened:
        yield opened


# -- schema -----------------------------------------------------------------------------------

def test_fresh_database_migrates_to_head_and_opening_again_is_a_no_op(
        backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    assert backend.tables() == set()
    with Ledger(backend.url) as ledger:
        kept = lifecycle(ledger)
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD
    assert backend.tables() == {"evaluations", VERSION_TABLE}
    assert backend.query(f"SELECT version_num FROM {VERSION_TABLE}") == [(HEAD,)]

    # a ledger at head opens without Alembic; Alembic's own upgrade changes nothing
    def no_alembic(*args: object, **kwargs: object) -> None:
        raise AssertionError("the ledger ran Alembic on a database already at head")

    with monkeypatch.context() as patch:
        patch.setattr(command, "upgrade", no_alembic)
        with Ledger(backend.url) as again:
            assert [r.id for r in again.all()] == [kept]
    migrate(backend.url, "head")
    assert backend.query(f"SELECT version_num FROM {VERSION_TABLE}") == [(HEAD,)]
    assert backend.query("SELECT id, state FROM evaluations") == [(kept, "done")]


def test_the_default_ledger_is_a_wal_sqlite_file_in_a_new_folder(tmp_path: Path) -> None:
    out = tmp_path / "new" / "dir"
    Ledger.for_dir(out).close()
    with contextlib.closing(sqlite3.connect(out / LEDGER_NAME)) as db:
        assert db.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall() == [(HEAD,)]
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    Ledger.for_dir(out).close()  # opening again is a no-op


def test_migration_and_orm_metadata_agree(backend: Backend) -> None:
    """The migration and the ORM agree, and the CHECK constraint on the state holds."""
    Ledger(backend.url).close()
    migration_and_orm_metadata_agree(backend.url)


def migration_and_orm_metadata_agree(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, Base.metadata) == []
        with pytest.raises(IntegrityError, match=r"ck_evaluations_state|CHECK"):
            connection.execute(text(
                "INSERT INTO evaluations (submission, source, options_digest, harness_version,"
                " state, badges_requested, queued_at, owner) VALUES ('s', 'p', 'o', 'v',"
                " 'bogus', '[]', '2026-01-01 00:00:00', 'h:1')"))
    engine.dispose()


def test_postgres_column_types(pg: Backend) -> None:
    """Times are timestamptz and badges real JSON (SQLite has text for both)."""
    Ledger(pg.url).close()
    types = dict(pg.query("SELECT column_name, data_type FROM information_schema.columns "
                          "WHERE table_name = %s", "evaluations"))
    assert types["queued_at"] == "timestamp with time zone"
    assert types["badges_awarded"] == types["badges_requested"] == "json"
    assert (types["id"], types["wall_s"]) == ("integer", "double precision")


def test_downgrade_to_base_upgrade_again_and_a_newer_schema_is_refused(
        backend: Backend) -> None:
    Ledger(backend.url).close()
    migrate(backend.url, "base")
    assert backend.tables() == {VERSION_TABLE}
    with Ledger(backend.url) as again:
        assert again.all() == []
    backend.query(f"UPDATE {VERSION_TABLE} SET version_num = '9999'")
    with pytest.raises(LedgerError, match="newer qrepro"):
        Ledger(backend.url)


def test_in_memory_and_bad_urls() -> None:
    memory = Ledger("sqlite://")
    lifecycle(memory)
    assert [r.state for r in memory.all()] == ["done"]
    with pytest.raises(LedgerError, match="not a database URL"):
        Ledger("not a url")
    assert issubclass(LedgerError, QreproError)


OPEN = "import sys; from harness.batch.ledger import Ledger; Ledger(sys.argv[1]).close()"


def test_batches_opening_a_new_database_at_once_migrate_it_once(
        pg: Backend) -> None:
    """Batches opening an empty database together queue on the advisory lock: the first
    migrates it, the others then find it at head (unserialised, they would run CREATE TABLE
    twice). The test holds the lock until both wait for it."""
    with pg.connect() as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        procs = [subprocess.Popen([sys.executable, "-c", OPEN, pg.url], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(2)]
        deadline = time.monotonic() + 120
        while pg.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                       "AND NOT granted") != [(2,)]:
            made = pg.tables()
            assert all(p.poll() is None for p in procs), \
                f"a ledger opened without waiting for the migration lock, made {made}"
            assert time.monotonic() < deadline, "the ledgers never reached the migration lock"
            time.sleep(0.05)
        assert pg.tables() == set()
        holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    assert pg.query(f"SELECT version_num FROM {VERSION_TABLE}") == [(HEAD,)]
    assert pg.tables() == {"evaluations", VERSION_TABLE}


# -- the life of an attempt -------------------------------------------------------------------

def test_queue_mark_finish_lifecycle(backend: Backend, ledger: Ledger) -> None:
    before = dt.datetime.now(dt.UTC)
    title = "Über GHZ-Zustände: ψ = (|000⟩ + |111⟩)/√2"
    eval_id = ledger.queue("s1", Path("deposits/s1"), "opts-1", "0.1.0", BADGES, title=title)
    row = ledger.get(eval_id)
    assert row is not None
    assert (row.state, row.source, row.badges_requested, row.title) == \
        ("queued", "deposits/s1", tuple(BADGES), title)
    assert row.queued_at.tzinfo is dt.UTC and row.queued_at >= before
    assert row.started_at is None and row.badges_awarded is None
    assert row.owner == f"{socket.gethostname()}:{os.getpid()}"

    building = ledger.mark(eval_id, "building", deposit_digest="sha256:aa")
    assert building.state == "building" and building.deposit_digest == "sha256:aa"
    assert building.started_at is not None and building.started_at.tzinfo is dt.UTC
    running = ledger.mark(eval_id, "running")
    assert running.started_at == building.started_at  # stamped once, when work began

    done = ledger.finish(eval_id, "done", badges_awarded=AWARDED, report_dir=Path("out/s1"))
    assert done == ledger.get(eval_id)  # microseconds, UTC and JSON survive the round trip
    assert done.state == "done" and done.final
    assert done.badges_awarded == AWARDED and done.report_dir == "out/s1"
    assert done.finished_at is not None and done.started_at is not None
    assert done.wall_s == pytest.approx((done.finished_at - done.started_at).total_seconds())
    [(finished, badges, stored_title)] = backend.query(
        "SELECT finished_at, badges_awarded, title FROM evaluations WHERE id = %s", eval_id)
    assert (backend.instant(finished), backend.json(badges), stored_title) == \
        (done.finished_at, AWARDED, title)  # an instant in UTC, real JSON


def test_error_from_any_active_state(ledger: Ledger) -> None:
    early = ledger.queue("unreadable", "x.zip", "o", "0.1.0", BADGES)
    row = ledger.finish(early, "error", error_kind="archive", error_message="path\nescape")
    assert (row.state, row.reason(), row.wall_s) == ("error", "archive: path escape", None)
    build = ledger.queue("build", "b", "o", "0.1.0", BADGES)
    ledger.mark(build, "building")
    assert ledger.finish(build, "error", error_kind="build").wall_s is not None


def test_nul_in_text_is_stored_as_a_replacement_character(ledger: Ledger) -> None:
    """PostgreSQL's text cannot hold NUL; a deposit's title may (YAML "\\0"), and so may the
    output of a crashed evaluation. Refused, it failed the batch at every run. Every backend
    stores U+FFFD in its place (docs/batch.md)."""
    eval_id = ledger.queue("s", "p", "o", "0.1.0", BADGES, title="GHZ\x00")
    ledger.mark(eval_id, "building", title="GHZ\x00 state")
    row = ledger.finish(eval_id, "error", error_kind="crash", error_message="out: \x00\x01")
    assert (row.title, row.error_message) == ("GHZ\ufffd state", "out: \ufffd\x01")
    assert ledger.get(eval_id) == row


@pytest.mark.parametrize(("path", "bad"), [
    ((), "running"), ((), "done"), (("building",), "done"), (("building",), "queued"),
    (("building", "running"), "building"), (("building", "running", "done"), "interrupted"),
    (("building", "running", "done"), "running"), (("building", "running", "done"), "error"),
    (("error",), "running"), (("interrupted",), "queued"), ((), "finished"),
])
def test_invalid_transitions_raise_and_change_nothing(ledger: Ledger, path: tuple[State, ...],
                                                      bad: Any) -> None:
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


def test_recover_marks_rows_of_gone_processes_interrupted(backend: Backend) -> None:
    host = socket.gethostname()
    owners = {"dead": f"{host}:{dead_pid()}", "live": f"{host}:{os.getppid()}",
              "remote": "elsewhere.example:1234"}
    ids: dict[str, list[int]] = {}
    for name, owner in owners.items():
        with Ledger(backend.url, owner=owner) as other:
            queued = other.queue(f"{name}-q", "p", "o", "0.1.0", BADGES)
            running = other.queue(f"{name}-r", "p", "o", "0.1.0", BADGES)
            other.mark(running, "building")
            other.mark(running, "running")
            finished = lifecycle(other, f"{name}-done")
            ids[name] = [queued, running, finished]
    ledger = Ledger(backend.url)
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
    ledger.close()


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
    with contextlib.closing(sqlite3.connect(tmp_path / LEDGER_NAME)) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == []
    Ledger.for_dir(tmp_path).close()  # opens and migrates
    migration_and_orm_metadata_agree(sqlite_url(tmp_path))


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

    with contextlib.closing(sqlite3.connect(out / LEDGER_NAME)) as db:
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


def test_two_writers_and_a_reader_at_once(backend: Backend) -> None:
    rows = two_writers_and_a_reader(functools.partial(Ledger, backend.url))
    assert [r.state for r in rows] == ["done"] * 50
    assert len({r.id for r in rows}) == 50


# -- a ledger shared by a committee -----------------------------------------------------------

def test_two_ledgers_on_one_database_see_each_others_writes(backend: Backend) -> None:
    alice, bob = Ledger(backend.url, owner="alice:1"), Ledger(backend.url, owner="bob:2")
    eval_id = alice.queue("s1", "deposits/s1", "opts-1", "0.1.0", BADGES)
    seen = bob.get(eval_id)
    assert seen is not None and (seen.state, seen.owner) == ("queued", "alice:1")
    bob.mark(eval_id, "building", deposit_digest="sha256:aa")
    row = alice.get(eval_id)
    assert row is not None and (row.state, row.owner) == ("building", "bob:2")
    alice.mark(eval_id, "running")
    bob.finish(eval_id, "done", badges_awarded=AWARDED, report_dir="out/s1")
    assert alice.done_for("s1", "sha256:aa", "opts-1") == bob.get(eval_id)
    with pytest.raises(LedgerError, match="done -> running is not allowed"):
        alice.mark(eval_id, "running")  # bob finished it: final for alice too
    lifecycle(bob, "s2", final="error")
    assert alice.all() == bob.all() and alice.table() == bob.table()
    alice.close()
    bob.close()


def test_mark_waits_for_a_row_another_writer_holds_and_sees_its_change(pg: Backend) -> None:
    """SELECT ... FOR UPDATE on PostgreSQL: a mark decides on the row as the other writer
    committed it (a plain read would see queued, then overwrite the other writer's
    building)."""
    with Ledger(pg.url) as ledger:
        eval_id = ledger.queue("s", "p", "o", "0.1.0", BADGES)
        outcome: list[BaseException | None] = []

        def mark() -> None:
            try:
                ledger.mark(eval_id, "building")
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        with pg.connect() as other, other.transaction():
            other.execute("SELECT state FROM evaluations WHERE id = %s FOR UPDATE", (eval_id,))
            waiting = threading.Thread(target=mark)
            waiting.start()
            waiting.join(timeout=1.0)
            assert waiting.is_alive(), "mark did not wait for the row lock"
            other.execute("UPDATE evaluations SET state = 'building', owner = 'other:1' "
                          "WHERE id = %s", (eval_id,))
        waiting.join(timeout=30)
        assert len(outcome) == 1 and isinstance(outcome[0], LedgerError), outcome
        assert "building -> building is not allowed" in str(outcome[0])
        row = ledger.get(eval_id)
        assert row is not None and (row.state, row.owner) == ("building", "other:1")


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


# -- qrepro ledger and qrepro batch -----------------------------------------------------------

def test_ledger_command_prints_the_table_of_a_url(backend: Backend, tmp_path: Path) -> None:
    from harness.batch.commands import ledger_cmd  # what harness.cli registers as "ledger"

    with Ledger(backend.url) as ledger:
        lifecycle(ledger, "s1")
        lifecycle(ledger, "s2", final="error")
        table = ledger.table()
    # OUT has no ledger.sqlite: the URL is the ledger
    result = CliRunner().invoke(ledger_cmd, [str(tmp_path / "out"), "--ledger", backend.url,
                                             "--csv", str(tmp_path / "l.csv")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(table)
    assert "ledger: 2 submissions, 2 evaluations" in result.output
    assert re.search(r"^  s2 +error +build: uv failed$", result.output, re.M)
    assert (tmp_path / "l.csv").read_text().count("\n") == 3
    assert not (tmp_path / "out").exists()


def test_a_batch_on_postgres_awards_the_badges_of_the_sqlite_default(
        pg: Backend, tmp_path: Path) -> None:
    """One honest and one invalid deposit, --runner local, --ledger URL: the badges are those
    the default SQLite ledger gives them (tests.batch.small.EXPECTED, which test_batch.py
    holds the SQLite default to), and the rows are in PostgreSQL, not in OUT. The honest
    deposit's title holds a NUL, which SQLite stores and PostgreSQL's text refuses."""
    honest(tmp_path / "subs" / "honest", title="GHZ\x00 state")
    invalid(tmp_path / "subs" / "invalid")
    proc = run_batch("subs", "--out", "out", "--runner", "local", "--progress", "plain",
                     "--ledger", pg.url, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # invalid is an error
    assert "2 submissions" in proc.stdout and "1 done, 1 error" in proc.stdout
    out = tmp_path / "out"
    assert outcomes(out) == {k: EXPECTED[k] for k in ("honest", "invalid")}
    assert not (out / "ledger.sqlite").exists()

    rows = pg.query("SELECT id, submission, state, error_kind, badges_awarded, finished_at, "
                    "title FROM evaluations ORDER BY submission")
    assert [r[1:4] for r in rows] == [("honest", "done", None),
                                      ("invalid", "error", "manifest")]
    assert rows[0][4] == dict.fromkeys(EXPECTED["honest"][1], True)
    assert rows[0][6] == "GHZ\ufffd state"
    assert all(r[5].tzinfo is not None for r in rows)
    assert {s["submission"]: s["evaluation"] for s in summary(out)["submissions"]} == \
        {r[1]: r[0] for r in rows}
