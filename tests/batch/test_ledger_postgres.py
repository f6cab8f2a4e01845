"""The batch ledger on PostgreSQL, for real: the shared committee ledger of ``--ledger URL``.

The module starts its own throwaway PostgreSQL cluster (initdb + pg_ctl from PATH or
/usr/lib/postgresql/*/bin; a unix socket in a temporary folder, no TCP port, no system
service) and gives each test a fresh database on it. As root, initdb refuses to run, so the
cluster's processes run as ``nobody``. Without PostgreSQL these tests skip on a developer
machine but FAIL in CI (CI=true): .ci/run installs it.

Rows are read back with psycopg where a test must not trust the code under test, as
tests/batch/small.py reads the SQLite ledger with sqlite3."""

from __future__ import annotations

import datetime as dt
import functools
import glob
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import create_engine

from harness.batch.attempts import State
from harness.batch.ledger import HEAD, MIGRATION_LOCK, VERSION_TABLE, Base, Ledger
from harness.batch.liveness import everyone_gone
from harness.errors import LedgerError
from tests.batch.small import EXPECTED, ROOT, honest, invalid, outcomes, run_batch, summary
from tests.batch.test_ledger import (
    AWARDED,
    BADGES,
    alembic_config,
    dead_pid,
    done_id,
    lifecycle,
    state_of,
    two_writers_and_a_reader,
)
from tests.conftest import unavailable

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


@pytest.fixture
def pg_url(postgres: Cluster) -> str:
    """The SQLAlchemy URL of a new, empty database of the module's cluster."""
    return postgres.create_database()


def database_of(url: str) -> str:
    return url.split("@/", 1)[1].split("?", 1)[0]


def query(postgres: Cluster, url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` read with psycopg, not through the code under test."""
    with postgres.connect(database_of(url)) as db:
        cursor = db.execute(sql, params or None)
        return [] if cursor.description is None else list(cursor.fetchall())


def tables(postgres: Cluster, url: str) -> set[str]:
    return {r[0] for r in query(postgres, url, "SELECT tablename FROM pg_tables "
                                               "WHERE schemaname = 'public'")}


# -- schema -----------------------------------------------------------------------------------

def test_migrations_create_the_schema_from_nothing_and_again_is_a_no_op(
        postgres: Cluster, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert tables(postgres, pg_url) == set()
    with Ledger(pg_url) as ledger:
        kept = lifecycle(ledger)
    assert tables(postgres, pg_url) == {"evaluations", VERSION_TABLE}
    assert query(postgres, pg_url, f"SELECT version_num FROM {VERSION_TABLE}") == [(HEAD,)]
    types = dict(query(postgres, pg_url, "SELECT column_name, data_type FROM "
                                         "information_schema.columns WHERE table_name = %s",
                       "evaluations"))
    assert types["queued_at"] == "timestamp with time zone"
    assert types["badges_awarded"] == types["badges_requested"] == "json"
    assert (types["id"], types["wall_s"]) == ("integer", "double precision")

    # the migration and the ORM agree on PostgreSQL too, and the CHECK constraint holds
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()
    with pytest.raises(psycopg.errors.CheckViolation, match="ck_evaluations_state"):
        query(postgres, pg_url,
              "INSERT INTO evaluations (submission, source, options_digest, harness_version,"
              " state, badges_requested, queued_at, owner) VALUES ('s', 'p', 'o', 'v',"
              " 'bogus', '[]', now(), 'h:1')")

    # a ledger at head opens without Alembic; Alembic's own upgrade changes nothing
    def no_alembic(*args: object, **kwargs: object) -> None:
        raise AssertionError("the ledger ran Alembic on a database already at head")

    with monkeypatch.context() as patch:
        patch.setattr(command, "upgrade", no_alembic)
        with Ledger(pg_url) as again:
            assert [r.id for r in again.all()] == [kept]
    engine = create_engine(pg_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()
    assert query(postgres, pg_url, f"SELECT version_num FROM {VERSION_TABLE}") == [(HEAD,)]
    assert query(postgres, pg_url, "SELECT id, state FROM evaluations") == [(kept, "done")]


def test_downgrade_to_base_upgrade_again_and_a_newer_schema_is_refused(
        postgres: Cluster, pg_url: str) -> None:
    Ledger(pg_url).close()
    engine = create_engine(pg_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    engine.dispose()
    assert tables(postgres, pg_url) == {VERSION_TABLE}
    with Ledger(pg_url) as again:
        assert again.all() == []
    query(postgres, pg_url, f"UPDATE {VERSION_TABLE} SET version_num = '9999'")
    with pytest.raises(LedgerError, match="newer qrepro"):
        Ledger(pg_url)


OPEN = "import sys; from harness.batch.ledger import Ledger; Ledger(sys.argv[1]).close()"


def test_batches_opening_a_new_database_at_once_migrate_it_once(
        postgres: Cluster, pg_url: str) -> None:
    """Batches opening an empty database together queue on the advisory lock: the first
    migrates it, the others then find it at head (unserialised, they would run CREATE TABLE
    twice). The test holds the lock until both wait for it."""
    with postgres.connect(database_of(pg_url)) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        procs = [subprocess.Popen([sys.executable, "-c", OPEN, pg_url], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(2)]
        deadline = time.monotonic() + 120
        while query(postgres, pg_url, "SELECT count(*) FROM pg_locks WHERE "
                                      "locktype = 'advisory' AND NOT granted") != [(2,)]:
            made = tables(postgres, pg_url)
            assert all(p.poll() is None for p in procs), \
                f"a ledger opened without waiting for the migration lock, made {made}"
            assert time.monotonic() < deadline, "the ledgers never reached the migration lock"
            time.sleep(0.05)
        assert tables(postgres, pg_url) == set()
        holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    assert query(postgres, pg_url, f"SELECT version_num FROM {VERSION_TABLE}") == [(HEAD,)]
    assert tables(postgres, pg_url) == {"evaluations", VERSION_TABLE}


# -- the life of an attempt -------------------------------------------------------------------

def test_queue_mark_finish_round_trips(postgres: Cluster, pg_url: str) -> None:
    ledger = Ledger(pg_url)
    before = dt.datetime.now(dt.UTC)
    title = "Über GHZ-Zustände: ψ = (|000⟩ + |111⟩)/√2"
    eval_id = ledger.queue("s1", Path("deposits/s1"), "opts-1", "0.1.0", BADGES, title=title)
    row = ledger.get(eval_id)
    assert row is not None
    assert (row.state, row.source, row.badges_requested, row.title) == \
        ("queued", "deposits/s1", tuple(BADGES), title)
    assert row.queued_at.tzinfo is dt.UTC and row.queued_at >= before
    assert row.started_at is None and row.badges_awarded is None

    building = ledger.mark(eval_id, "building", deposit_digest="sha256:aa")
    assert building.started_at is not None and building.started_at.tzinfo is dt.UTC
    running = ledger.mark(eval_id, "running")
    assert running.started_at == building.started_at
    done = ledger.finish(eval_id, "done", badges_awarded=AWARDED, report_dir=Path("out/s1"))
    assert done == ledger.get(eval_id)  # microseconds, UTC and JSON survive the round trip
    assert done.badges_awarded == AWARDED and done.report_dir == "out/s1"
    assert done.finished_at is not None and done.started_at is not None
    assert done.wall_s == pytest.approx((done.finished_at - done.started_at).total_seconds())
    stored = query(postgres, pg_url, "SELECT finished_at, badges_awarded, title FROM "
                                     "evaluations WHERE id = %s", eval_id)
    assert stored == [(done.finished_at, AWARDED, title)]  # an aware instant, real JSON

    early = ledger.queue("unreadable", "x.zip", "o", "0.1.0", BADGES)
    err = ledger.finish(early, "error", error_kind="archive", error_message="path\nescape")
    assert (err.state, err.reason(), err.wall_s) == ("error", "archive: path escape", None)

    # done_for: only a done attempt with the same deposit and options
    assert ledger.done_for("s1", "sha256:aa", "opts-1") == done
    failed = lifecycle(ledger, "s2", final="error")
    assert ledger.done_for("s2", "sha256:aa", "opts-1") is None
    first, second = lifecycle(ledger, "s2"), lifecycle(ledger, "s2")
    assert done_id(ledger, "s2", "sha256:aa", "opts-1") == second
    assert ledger.done_for("s2", "sha256:bb", "opts-1") is None
    assert ledger.done_for("s2", "sha256:aa", "opts-2") is None
    assert failed < first < second
    assert [(r.submission, r.id) for r in ledger.latest()] == \
        [("s1", eval_id), ("s2", second), ("unreadable", early)]
    ledger.close()


def test_nul_in_text_is_stored_as_a_replacement_character(pg_url: str) -> None:
    """PostgreSQL's text cannot hold NUL; a deposit's title may (YAML "\\0"), and so may the
    output of a crashed evaluation. Refused, it failed the batch at every run."""
    with Ledger(pg_url) as ledger:
        eval_id = ledger.queue("s", "p", "o", "0.1.0", BADGES, title="GHZ\x00")
        ledger.mark(eval_id, "building", title="GHZ\x00 state")
        row = ledger.finish(eval_id, "error", error_kind="crash", error_message="out: \x00\x01")
        assert (row.title, row.error_message) == ("GHZ\ufffd state", "out: \ufffd\x01")
        assert ledger.get(eval_id) == row


@pytest.mark.parametrize(("path", "bad"), [
    (("building", "running", "done"), "running"), (("building", "running", "done"), "error"),
    ((), "done"), (("building", "running"), "building"), (("error",), "running"),
    (("interrupted",), "queued"), ((), "finished"),
])
def test_invalid_transitions_are_refused_and_change_nothing(
        pg_url: str, path: tuple[State, ...], bad: Any) -> None:
    with Ledger(pg_url) as ledger:
        eval_id = ledger.queue("s", "p", "o", "0.1.0", BADGES)
        for state in path:
            ledger.mark(eval_id, state, **({"badges_awarded": AWARDED} if state == "done"
                                           else {}))
        before = ledger.get(eval_id)
        with pytest.raises(LedgerError, match=r"not allowed|unknown state"):
            ledger.mark(eval_id, bad, **({"badges_awarded": AWARDED} if bad == "done" else {}))
        assert ledger.get(eval_id) == before
        with pytest.raises(LedgerError, match="no evaluation 999"):
            ledger.mark(999, "building")


def test_recover_marks_rows_of_gone_processes_interrupted(pg_url: str) -> None:
    host = socket.gethostname()
    dead, live = f"{host}:{dead_pid()}", f"{host}:{os.getppid()}"
    ids: dict[str, list[int]] = {}
    for owner in (dead, live):
        with Ledger(pg_url, owner=owner) as other:
            queued = other.queue(f"{owner}-q", "p", "o", "0.1.0", BADGES)
            running = other.queue(f"{owner}-r", "p", "o", "0.1.0", BADGES)
            other.mark(running, "building")
            other.mark(running, "running")
            ids[owner] = [queued, running, lifecycle(other, f"{owner}-done")]
    with Ledger(pg_url) as ledger:
        assert ledger.recover() == ids[dead][:2]
        for eval_id in ids[dead][:2]:
            row = ledger.get(eval_id)
            assert row is not None and row.state == "interrupted"
            assert "is gone" in (row.error_message or "") and row.finished_at is not None
        assert state_of(ledger, ids[dead][2]) == "done"
        assert ledger.recover() == []
        assert ledger.recover(everyone_gone) == ids[live][:2]
        assert {r.state for r in ledger.all()} == {"done", "interrupted"}


# -- a ledger shared by a committee -----------------------------------------------------------

def test_two_ledgers_on_one_database_see_each_others_writes(pg_url: str) -> None:
    alice, bob = Ledger(pg_url, owner="alice:1"), Ledger(pg_url, owner="bob:2")
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


def test_mark_waits_for_a_row_another_writer_holds_and_sees_its_change(
        postgres: Cluster, pg_url: str) -> None:
    """SELECT ... FOR UPDATE: a mark decides on the row as the other writer committed it (a
    plain read would see queued, then overwrite the other writer's building)."""
    with Ledger(pg_url) as ledger:
        eval_id = ledger.queue("s", "p", "o", "0.1.0", BADGES)
        outcome: list[BaseException | None] = []

        def mark() -> None:
            try:
                ledger.mark(eval_id, "building")
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        with postgres.connect(database_of(pg_url)) as other, other.transaction():
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


def test_two_writers_and_a_reader_at_once(pg_url: str) -> None:
    rows = two_writers_and_a_reader(functools.partial(Ledger, pg_url))
    assert [r.state for r in rows] == ["done"] * 50
    assert len({r.id for r in rows}) == 50


# -- qrepro ledger and qrepro batch -----------------------------------------------------------

def test_ledger_command_prints_the_table_of_a_url(pg_url: str, tmp_path: Path) -> None:
    from harness.batch.commands import ledger_cmd  # what harness.cli registers as "ledger"

    with Ledger(pg_url) as ledger:
        lifecycle(ledger, "s1")
        lifecycle(ledger, "s2", final="error")
        table = ledger.table()
    # OUT has no ledger.sqlite: the URL is the ledger
    result = CliRunner().invoke(ledger_cmd, [str(tmp_path / "out"), "--ledger", pg_url,
                                             "--csv", str(tmp_path / "l.csv")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(table)
    assert "ledger: 2 submissions, 2 evaluations" in result.output
    assert re.search(r"^  s2 +error +build: uv failed$", result.output, re.M)
    assert (tmp_path / "l.csv").read_text().count("\n") == 3
    assert not (tmp_path / "out").exists()


def test_a_batch_on_postgres_awards_the_badges_of_the_sqlite_default(
        postgres: Cluster, pg_url: str, tmp_path: Path) -> None:
    """One honest and one invalid deposit, --runner local, --ledger URL: the badges are those
    the default SQLite ledger gives them (tests.batch.small.EXPECTED, which test_batch.py
    holds the SQLite default to), and the rows are in PostgreSQL, not in OUT. The honest
    deposit's title holds a NUL, which SQLite stores and PostgreSQL's text refuses."""
    honest(tmp_path / "subs" / "honest", title="GHZ\x00 state")
    invalid(tmp_path / "subs" / "invalid")
    proc = run_batch("subs", "--out", "out", "--runner", "local", "--progress", "plain",
                     "--ledger", pg_url, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # invalid is an error
    assert "2 submissions" in proc.stdout and "1 done, 1 error" in proc.stdout
    out = tmp_path / "out"
    assert outcomes(out) == {k: EXPECTED[k] for k in ("honest", "invalid")}
    assert not (out / "ledger.sqlite").exists()

    rows = query(postgres, pg_url, "SELECT id, submission, state, error_kind, badges_awarded,"
                                   " finished_at, title FROM evaluations ORDER BY submission")
    assert [r[1:4] for r in rows] == [("honest", "done", None),
                                      ("invalid", "error", "manifest")]
    assert rows[0][4] == dict.fromkeys(EXPECTED["honest"][1], True)
    assert rows[0][6] == "GHZ\ufffd state"
    assert all(r[5].tzinfo is not None for r in rows)
    assert {s["submission"]: s["evaluation"] for s in summary(out)["submissions"]} == \
        {r[1]: r[0] for r in rows}
