"""The batch ledger: one row per evaluation attempt of a submission, in a SQL database.

The ledger is the one source of truth of ``qrepro batch``. Only the batch process writes it;
every state change is one short transaction, committed before the call returns, so a
SIGKILL at any moment leaves a consistent database that the next batch reads back. Callers
get :class:`Row` (frozen data), never an ORM object or a session.

An attempt only moves forward through the states of :mod:`harness.batch.attempts`.

Evaluating a submission again (a fixed deposit, ``--retry failed``) is a new row; the old
one stays. SQLite (the default, ``OUT/ledger.sqlite``) runs in WAL mode with a busy timeout
and takes its write lock at the start of each write transaction (``BEGIN IMMEDIATE``), so a
reader never blocks the batch and two writers never dead-lock on read-then-write. Any other
SQLAlchemy URL (PostgreSQL through psycopg) works the same, locking rows with
``SELECT ... FOR UPDATE``. Alembic migrations (``harness/batch/migrations``) own the schema;
opening a ledger brings its database to the newest revision, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Connection,
    DateTime,
    Engine,
    Float,
    MetaData,
    String,
    Text,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from harness.batch.attempt_table import render_table, write_csv
from harness.batch.attempts import ACTIVE, COLUMNS, FINAL, NEXT, STATES, Row, State
from harness.batch.liveness import pid_alive
from harness.errors import LedgerError, OutputError

MARKABLE: Final = frozenset(
    {"title", "deposit_digest", "report_dir", "error_kind", "error_message", "badges_awarded"}
)
LEDGER_NAME: Final = "ledger.sqlite"
MIGRATIONS: Final = Path(__file__).with_name("migrations")
#: Alembic's version table, named for qrepro so a shared database can host other schemas
VERSION_TABLE: Final = "qrepro_ledger_version"
#: the newest revision in migrations/versions (a test holds the two together): a database
#: already there opens without importing Alembic (about a second on a cold machine)
HEAD: Final = "0001"
BUSY_TIMEOUT_S: Final = 30.0
#: PostgreSQL advisory lock key held while a ledger migrates (two batches opening at once)
MIGRATION_LOCK: Final = 0x71_7265_7072_6F


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise LedgerError(f"naive datetime {value.isoformat()} given to the ledger; use UTC")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    })


class Evaluation(Base):
    """One evaluation attempt of one submission (the ORM row; callers see :class:`Row`)."""

    __tablename__ = "evaluations"
    __table_args__ = (
        CheckConstraint("state IN ('" + "', '".join(STATES) + "')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission: Mapped[str] = mapped_column(String(255), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    deposit_digest: Mapped[str | None] = mapped_column(String(128))
    options_digest: Mapped[str] = mapped_column(String(128))
    harness_version: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    badges_requested: Mapped[list[str]] = mapped_column(JSON)
    badges_awarded: Mapped[dict[str, bool] | None] = mapped_column(JSON)
    report_dir: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    wall_s: Mapped[float | None] = mapped_column(Float)
    owner: Mapped[str] = mapped_column(String(255))




def _text(value: str) -> str:
    """``value`` as every backend can store it: PostgreSQL's text cannot hold NUL, which a
    deposit's title or a crashed evaluation's output may carry; U+FFFD stands in for it."""
    return value.replace("\x00", "\ufffd")


def _row(e: Evaluation) -> Row:
    values = {name: getattr(e, name) for name in COLUMNS}
    values["badges_requested"] = tuple(e.badges_requested)
    values["badges_awarded"] = None if e.badges_awarded is None else dict(e.badges_awarded)
    return Row(**values)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # pysqlite's own BEGIN/COMMIT off: _sqlite_begin
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: consistent after any crash; a power cut may undo the last commits
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get("qrepro_begin", "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    memory = url.database in (None, "", ":memory:")
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
        **({"poolclass": StaticPool} if memory else {}),
    )
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _reason(exc: BaseException) -> str:
    message = str(getattr(exc, "orig", None) or exc)
    return (message.strip().splitlines() or [type(exc).__name__])[0]


class Ledger:
    """The ledger at a SQLAlchemy URL, migrated to the newest schema when opened."""

    def __init__(self, url: str | URL, *, owner: str | None = None) -> None:
        try:
            self.url = make_url(url)
        except ArgumentError as exc:
            raise LedgerError(f"not a database URL: {url!s}") from exc
        self.where = self.url.render_as_string(hide_password=True)
        self._owner = owner
        try:
            self._engine = _engine(self.url)
        except (ImportError, SQLAlchemyError) as exc:
            raise LedgerError(f"ledger {self.where}: {_reason(exc)}") from exc
        sqlite = self.url.get_backend_name() == "sqlite"
        self._reader = self._engine.execution_options(qrepro_begin="DEFERRED") if sqlite \
            else self._engine
        self._migrate()

    @classmethod
    def for_dir(cls, out: Path, *, owner: str | None = None) -> Ledger:
        """The default ledger of a batch: ``OUT/ledger.sqlite``."""
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {out}: {exc.strerror}") from exc
        return cls(URL.create("sqlite", database=str(out.resolve() / LEDGER_NAME)), owner=owner)

    @property
    def owner(self) -> str:
        """``host:pid`` of this process, recorded on every row it queues or marks."""
        return self._owner or f"{socket.gethostname()}:{os.getpid()}"

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- sessions ---------------------------------------------------------------------------

    @contextmanager
    def _session(self, bind: Engine) -> Iterator[Session]:
        try:
            with Session(bind, expire_on_commit=False) as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger {self.where}: {_reason(exc)}") from exc

    def _write(self) -> AbstractContextManager[Session]:
        return self._session(self._engine)

    def _read(self) -> AbstractContextManager[Session]:
        return self._session(self._reader)

    def _at_head(self) -> bool:
        try:
            with self._reader.connect() as connection:
                if not inspect(connection).has_table(VERSION_TABLE):
                    return False
                found = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
                return list(found.scalars()) == [HEAD]
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger {self.where}: {_reason(exc)}") from exc

    def _migrate(self) -> None:
        if self._at_head():
            return
        from alembic import command
        from alembic.config import Config
        from alembic.util.exc import CommandError

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
        try:
            with self._engine.begin() as connection:  # the whole upgrade or nothing
                if connection.dialect.name == "postgresql":  # SQLite: BEGIN IMMEDIATE did it
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except CommandError as exc:
            raise LedgerError(f"ledger {self.where}: {_reason(exc)} "
                              "(written by a newer qrepro?)") from exc
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger {self.where}: {_reason(exc)}") from exc

    # -- writing ----------------------------------------------------------------------------

    def queue(self, submission: str, source: str | os.PathLike[str], options_digest: str,
              harness_version: str, badges_requested: Sequence[str], title: str | None = None,
              *, deposit_digest: str | None = None) -> int:
        """A new attempt in state queued; its id."""
        if isinstance(badges_requested, str):
            raise LedgerError(f"{submission}: badges_requested must be a list of badge names")
        evaluation = Evaluation(
            submission=submission, title=None if title is None else _text(title),
            source=os.fspath(source),
            deposit_digest=deposit_digest, options_digest=options_digest,
            harness_version=harness_version, state="queued",
            badges_requested=list(badges_requested), queued_at=utc_now(), owner=self.owner,
        )
        with self._write() as session:
            session.add(evaluation)
            session.flush()
            return evaluation.id

    def mark(self, eval_id: int, state: State, **values: Any) -> Row:
        """Move attempt ``eval_id`` to ``state``, setting any of :data:`MARKABLE` on the way.

        Leaving queued stamps started_at; a final state stamps finished_at and wall_s."""
        unknown = sorted(set(values) - MARKABLE)
        if unknown:
            raise LedgerError(f"evaluation {eval_id}: cannot set {', '.join(unknown)}; "
                              f"settable: {', '.join(sorted(MARKABLE))}")
        _check_badges(eval_id, values.get("badges_awarded"))
        with self._write() as session:
            evaluation = session.get(Evaluation, eval_id, with_for_update=True)
            if evaluation is None:
                raise LedgerError(f"no evaluation {eval_id} in the ledger {self.where}")
            _check_transition(evaluation, state)
            for name, value in values.items():
                if name == "report_dir" and value is not None:
                    value = os.fspath(value)
                setattr(evaluation, name, _text(value) if isinstance(value, str) else value)
            if state == "done" and evaluation.badges_awarded is None:
                raise LedgerError(f"evaluation {eval_id}: done without badges_awarded")
            now = utc_now()
            if state in ("building", "running") and evaluation.started_at is None:
                evaluation.started_at = now
            if state in FINAL:
                evaluation.finished_at = now
                started = evaluation.started_at
                evaluation.wall_s = None if started is None else (now - started).total_seconds()
            evaluation.state = state
            evaluation.owner = self.owner
            return _row(evaluation)

    def finish(self, eval_id: int, state: State,
               badges_awarded: Mapping[str, bool] | None = None,
               report_dir: str | os.PathLike[str] | None = None, error_kind: str | None = None,
               error_message: str | None = None, deposit_digest: str | None = None) -> Row:
        """End attempt ``eval_id`` in a final state; finished_at and wall_s are set."""
        if state not in FINAL:
            raise LedgerError(f"evaluation {eval_id}: finish with {state!r}, "
                              f"not a final state ({', '.join(sorted(FINAL))})")
        given = {"badges_awarded": None if badges_awarded is None else dict(badges_awarded),
                 "report_dir": report_dir, "error_kind": error_kind,
                 "error_message": error_message, "deposit_digest": deposit_digest}
        return self.mark(eval_id, state, **{k: v for k, v in given.items() if v is not None})

    def owner_alive(self, owner: str) -> bool:
        """May batch process ``owner`` (``host:pid``) still hold its attempts? Yes for this
        process, for a live pid on this host and for any other host (it cannot be seen)."""
        host, _, pid = owner.rpartition(":")
        if owner == self.owner or host != socket.gethostname() or not pid.isdigit():
            return True
        return pid_alive(int(pid))

    def recover(self, owner_alive: Callable[[str], bool] | None = None) -> list[int]:
        """Attempts left queued, building or running by a batch process that is gone become
        interrupted; their ids. ``owner_alive`` defaults to :meth:`owner_alive`; a batch that
        is its ledger's only writer passes :func:`everyone_gone` before it queues anything
        (a restarted container may reuse the dead batch's pid)."""
        alive = owner_alive or self.owner_alive
        verdicts: dict[str, bool] = {}
        with self._write() as session:
            active = select(Evaluation).where(Evaluation.state.in_(ACTIVE)) \
                .order_by(Evaluation.id).with_for_update()
            stale = [e for e in session.scalars(active)
                     if not verdicts.setdefault(e.owner, alive(e.owner))]
            now = utc_now()
            for e in stale:
                e.error_kind, e.error_message = "interrupted", (
                    f"interrupted while {e.state}: the batch process {e.owner} that held it "
                    f"is gone (recovered by {self.owner} at {now:%Y-%m-%d %H:%M:%S} UTC)")
                e.state, e.finished_at, e.owner = "interrupted", now, self.owner
            return [e.id for e in stale]

    # -- reading ----------------------------------------------------------------------------

    def get(self, eval_id: int) -> Row | None:
        with self._read() as session:
            evaluation = session.get(Evaluation, eval_id)
            return None if evaluation is None else _row(evaluation)

    def done_for(self, submission: str, deposit_digest: str, options_digest: str) -> Row | None:
        """The latest done attempt with these inputs (the batch skips the submission)."""
        query = select(Evaluation).where(
            Evaluation.submission == submission, Evaluation.deposit_digest == deposit_digest,
            Evaluation.options_digest == options_digest, Evaluation.state == "done",
        ).order_by(Evaluation.id.desc()).limit(1)
        with self._read() as session:
            found = session.scalars(query).first()
            return None if found is None else _row(found)

    def latest(self) -> list[Row]:
        """The latest attempt of each submission, by submission."""
        newest = select(func.max(Evaluation.id)).group_by(Evaluation.submission)
        query = select(Evaluation).where(Evaluation.id.in_(newest)) \
            .order_by(Evaluation.submission)
        with self._read() as session:
            return [_row(e) for e in session.scalars(query)]

    def all(self) -> list[Row]:
        """Every attempt, oldest first."""
        with self._read() as session:
            return [_row(e) for e in session.scalars(select(Evaluation).order_by(Evaluation.id))]

    def to_csv(self, path: Path) -> Path:
        """Every attempt as CSV (badges as JSON, times ISO 8601), written then renamed."""
        return write_csv(self.all(), path)

    def table(self) -> str:
        """The text of ``qrepro ledger DIR``."""
        return render_table(self.latest(), attempts=len(self.all()))


def _check_transition(evaluation: Evaluation, state: str) -> None:
    if state not in STATES:
        raise LedgerError(f"evaluation {evaluation.id}: unknown state {state!r}; "
                          f"states: {', '.join(STATES)}")
    if state not in NEXT.get(evaluation.state, frozenset()):
        final = " (final states never change)" if evaluation.state in FINAL else ""
        raise LedgerError(f"evaluation {evaluation.id} ({evaluation.submission}): "
                          f"{evaluation.state} -> {state} is not allowed{final}")


def _check_badges(eval_id: int, badges: Any) -> None:
    if badges is not None and not (
        isinstance(badges, Mapping)
        and all(isinstance(k, str) and isinstance(v, bool) for k, v in badges.items())
    ):
        raise LedgerError(f"evaluation {eval_id}: badges_awarded must map badge names to "
                          f"true/false, not {badges!r}")
